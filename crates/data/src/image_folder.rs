//! Labelled image files as people keep them: a folder with one subfolder per class
//! (torchvision's `ImageFolder`), or a CSV index of `path,label` rows. Both become a list of
//! (file, label) pairs, decoded on all cores through the same size limits as `predict`.

use crate::charset::UnknownLabels;
use crate::{image_file, Charset, DataError, Dataset, Sample};
use std::path::{Path, PathBuf};

/// Image file extensions looked at in a class folder; anything else (README, .DS_Store) is
/// not a sample.
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"];

/// A file to read and the label it carries.
#[derive(Clone, Debug)]
pub struct LabelledFile {
    pub path: PathBuf,
    pub label: String,
}

/// `dir/<label>/*.png|jpg|…`; labels are the subfolder names. With no charset given, the
/// classes are the subfolder names in sorted order.
pub fn scan_class_folders(dir: &Path) -> Result<Vec<LabelledFile>, DataError> {
    let mut classes: Vec<PathBuf> = read_dir(dir)?.into_iter().filter(|p| p.is_dir()).collect();
    classes.sort();
    if classes.is_empty() {
        return Err(DataError::invalid(
            dir,
            "no class subfolders (expected DIR/<label>/<image files>)",
        ));
    }
    let mut files = Vec::new();
    for class_dir in classes {
        let label = class_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut images: Vec<PathBuf> = read_dir(&class_dir)?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        images.sort();
        files.extend(images.into_iter().map(|path| LabelledFile {
            path,
            label: label.clone(),
        }));
    }
    Ok(files)
}

/// A CSV index with a header naming at least `path` and `label` columns (paths relative to
/// the CSV's folder), and optionally `split`: rows whose split is not `split` are left out.
pub fn read_csv_index(
    csv_path: &Path,
    split: Option<&str>,
) -> Result<Vec<LabelledFile>, DataError> {
    let file = std::fs::File::open(csv_path).map_err(|e| DataError::io(csv_path, e))?;
    read_csv_index_from(std::io::BufReader::new(file), csv_path, split)
}

/// As [`read_csv_index`], reading the index from `source`; `csv_path` names it in errors and
/// its folder is what the rows' paths are relative to.
pub fn read_csv_index_from(
    source: impl std::io::Read,
    csv_path: &Path,
    split: Option<&str>,
) -> Result<Vec<LabelledFile>, DataError> {
    let base = csv_path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::Reader::from_reader(source);
    let headers = reader
        .headers()
        .map_err(|e| DataError::invalid(csv_path, e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(path_col), Some(label_col)) = (column("path"), column("label")) else {
        return Err(DataError::invalid(
            csv_path,
            format!(
                "header {:?} lacks a `path` and a `label` column",
                headers.iter().collect::<Vec<_>>()
            ),
        ));
    };
    let split_col = column("split");
    let mut files = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| DataError::invalid(csv_path, format!("row {}: {e}", row + 2)))?;
        if let (Some(want), Some(col)) = (split, split_col) {
            if record.get(col).map(str::trim) != Some(want) {
                continue;
            }
        }
        let (Some(path), Some(label)) = (record.get(path_col), record.get(label_col)) else {
            return Err(DataError::invalid(
                csv_path,
                format!("row {}: missing path or label", row + 2),
            ));
        };
        files.push(LabelledFile {
            path: base.join(path.trim()),
            label: label.trim().to_string(),
        });
    }
    if files.is_empty() {
        return Err(DataError::invalid(csv_path, "the index lists no samples"));
    }
    Ok(files)
}

/// Whether a CSV index has a `split` column (then it has its own train/test split).
pub fn csv_has_split_column(csv_path: &Path) -> bool {
    csv::Reader::from_path(csv_path)
        .and_then(|mut r| r.headers().map(|h| h.iter().any(|c| c.trim() == "split")))
        .unwrap_or(false)
}

/// The classes of a file list when no charset is given: its distinct labels, sorted.
pub fn charset_of(files: &[LabelledFile], name: &str) -> Charset {
    let mut labels: Vec<String> = files.iter().map(|f| f.label.clone()).collect();
    labels.sort();
    labels.dedup();
    Charset::new(name, labels)
}

/// Decodes the files on all cores; labels map through `charset` (unknown ones are an error
/// naming the file, or counted in `unknown` when skipping).
pub fn load_files(
    name: &str,
    files: &[LabelledFile],
    charset: &Charset,
    unknown: &mut UnknownLabels,
) -> Result<Dataset, DataError> {
    let mut labelled = Vec::with_capacity(files.len());
    for f in files {
        if let Some(class) = unknown.class_of(charset, &f.label, &f.path, 0)? {
            labelled.push((f, class));
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = labelled.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Sample>, DataError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = labelled
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(f, label)| {
                            Ok(Sample {
                                image: image_file::load_gray(&f.path)?,
                                label: *label,
                            })
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("image decoder panicked"))
            .collect()
    });
    let mut samples = Vec::with_capacity(labelled.len());
    for part in parts {
        samples.extend(part?);
    }
    Ok(Dataset {
        name: name.to_string(),
        charset: charset.clone(),
        samples,
    })
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    std::fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| DataError::io(dir, e))
}

fn is_image(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    fn png(path: &Path, shade: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_pixel(5, 4, Luma([shade]))
            .save(path)
            .unwrap();
    }

    #[test]
    fn class_folders_become_sorted_classes() {
        let dir = tempfile::tempdir().unwrap();
        png(&dir.path().join("乙/a.png"), 10);
        png(&dir.path().join("甲/b.png"), 20);
        png(&dir.path().join("甲/c.PNG"), 30);
        std::fs::write(dir.path().join("甲/notes.txt"), "not an image").unwrap();
        std::fs::write(dir.path().join("README"), "top-level file").unwrap();
        let files = scan_class_folders(dir.path()).unwrap();
        assert_eq!(files.len(), 3);
        let charset = charset_of(&files, "folder");
        assert_eq!(charset.symbols, ["乙", "甲"]);
        let set = load_files("t", &files, &charset, &mut UnknownLabels::new(false)).unwrap();
        let labels: Vec<u32> = set.samples.iter().map(|s| s.label).collect();
        assert_eq!(labels, [0, 1, 1]);
        assert_eq!(set.samples[2].image.get_pixel(0, 0).0[0], 30);
        assert!(
            scan_class_folders(&dir.path().join("甲")).is_err(),
            "no subfolders"
        );
    }

    #[test]
    fn csv_index_with_split_and_unknown_labels() {
        let dir = tempfile::tempdir().unwrap();
        png(&dir.path().join("img/1.png"), 1);
        png(&dir.path().join("img/2.png"), 2);
        png(&dir.path().join("img/3.png"), 3);
        let csv = dir.path().join("index.csv");
        std::fs::write(
            &csv,
            "label,path,split\n一,img/1.png,train\n二,img/2.png,test\n啊,img/3.png,train\n",
        )
        .unwrap();
        let train = read_csv_index(&csv, Some("train")).unwrap();
        assert_eq!(train.len(), 2);
        let charset = Charset::chinese_numerals();
        let e = load_files("t", &train, &charset, &mut UnknownLabels::new(false)).unwrap_err();
        assert!(
            e.to_string().contains("3.png") && e.to_string().contains("啊"),
            "{e}"
        );
        let mut skip = UnknownLabels::new(true);
        let set = load_files("t", &train, &charset, &mut skip).unwrap();
        assert_eq!(
            (set.samples.len(), set.samples[0].label, skip.skipped),
            (1, 1, 1)
        );
        assert_eq!(read_csv_index(&csv, None).unwrap().len(), 3);
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "file,class\nx,y\n").unwrap();
        let e = read_csv_index(&bad, None).unwrap_err().to_string();
        assert!(e.contains("bad.csv") && e.contains("`path`"), "{e}");
        let missing = dir.path().join("missing.csv");
        std::fs::write(&missing, "path,label\nimg/nope.png,一\n").unwrap();
        let files = read_csv_index(&missing, None).unwrap();
        let e = load_files("t", &files, &charset, &mut UnknownLabels::new(false)).unwrap_err();
        assert!(e.to_string().contains("nope.png"), "{e}");
    }
}
