//! `--data` arguments: which reader a path needs, and which split of it to read.
//!
//! `mnist` is the embedded set; otherwise the path decides: an `.inkd` packed file, a `.csv`
//! index, `.gnt`/`.pot` files (or folders of them), a Chinese MNIST folder, a folder of MNIST
//! IDX files, or a folder of class subfolders (with `train/` and `test/` inside for splits).
//! A `:train` or `:test` suffix picks a split.

use crate::charset::UnknownLabels;
use crate::gnt::GntReader;
use crate::image_folder::{self, LabelledFile};
use crate::mnist;
use crate::packed::PackedSet;
use crate::pot::PotReader;
use crate::sample::Split;
use crate::{chinese_mnist, embedded, Charset, DataError, Dataset, Sample};
use std::fmt;
use std::path::{Path, PathBuf};

/// Raw samples handed to a streaming consumer at a time.
pub const CHUNK: usize = 2048;
/// Side of the square a `.pot` character's strokes are drawn into before the recipe.
pub const POT_RASTER: u32 = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// The 10 000 MNIST digits compiled into the binary.
    Embedded,
    MnistDir(PathBuf),
    ChineseMnist(PathBuf),
    Packed(PathBuf),
    CsvIndex(PathBuf),
    /// `.gnt` files: one file or every `.gnt` in a folder.
    Gnt(PathBuf),
    Pot(PathBuf),
    /// Class subfolders, directly or under `train/` and `test/`.
    ImageFolder(PathBuf),
}

/// How labels found in files map to classes.
#[derive(Clone, Debug, Default)]
pub struct LabelOptions {
    /// The classes; `None` = the source's own (digits, chinese-numerals, gb2312-1 for CASIA
    /// files, the sorted folder names or CSV labels).
    pub charset: Option<Charset>,
    /// Skip (and count) records whose label is not in the charset instead of failing.
    pub skip_unknown: bool,
}

/// What a source gave: either raw images that still need the recipe, or a packed set that
/// was prepared when it was packed.
pub enum Loaded {
    Raw(Dataset),
    Packed(PackedSet),
}

impl Loaded {
    /// The classes the samples are labelled with.
    pub fn charset(&self) -> &Charset {
        match self {
            Loaded::Raw(d) => &d.charset,
            Loaded::Packed(p) => &p.meta.charset,
        }
    }
}

impl DataSource {
    /// Parses a `--data` argument into a source and the split it names, if any. Only
    /// `:train`/`:test` are split names, so paths with colons still work.
    pub fn parse(arg: &str) -> (DataSource, Option<Split>) {
        let (base, split) = match arg.rsplit_once(':') {
            Some((base, "train")) => (base, Some(Split::Train)),
            Some((base, "test")) => (base, Some(Split::Test)),
            _ => (arg, None),
        };
        (Self::detect(base), split)
    }

    /// Formats `--from` accepts; `auto` detects from the path.
    pub const FORMATS: &'static [&'static str] = &[
        "auto",
        "mnist",
        "chinese-mnist",
        "inkd",
        "csv",
        "gnt",
        "pot",
        "folder",
    ];

    /// A source of a named format (see [`Self::FORMATS`]) with an optional `:split` suffix.
    pub fn parse_as(format: &str, arg: &str) -> Option<(DataSource, Option<Split>)> {
        let (detected, split) = Self::parse(arg);
        let path = match &detected {
            DataSource::Embedded => PathBuf::from("mnist"),
            other => PathBuf::from(other.to_string()),
        };
        let source = match format {
            "auto" => detected,
            "mnist" if arg.starts_with("mnist") && !path.exists() => DataSource::Embedded,
            "mnist" => DataSource::MnistDir(path),
            "chinese-mnist" => DataSource::ChineseMnist(path),
            "inkd" => DataSource::Packed(path),
            "csv" => DataSource::CsvIndex(path),
            "gnt" => DataSource::Gnt(path),
            "pot" => DataSource::Pot(path),
            "folder" => DataSource::ImageFolder(path),
            _ => return None,
        };
        Some((source, split))
    }

    fn detect(base: &str) -> DataSource {
        let path = PathBuf::from(base);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match (base, ext.as_deref()) {
            ("mnist", _) => DataSource::Embedded,
            (_, Some("inkd")) => DataSource::Packed(path),
            (_, Some("csv")) => DataSource::CsvIndex(path),
            (_, Some("gnt")) => DataSource::Gnt(path),
            (_, Some("pot")) => DataSource::Pot(path),
            _ if chinese_mnist::is_chinese_mnist(&path) => DataSource::ChineseMnist(path),
            _ if has_files_ending(&path, ".gnt") => DataSource::Gnt(path),
            _ if has_files_ending(&path, ".pot") => DataSource::Pot(path),
            _ if has_files_ending(&path, "-ubyte") || has_files_ending(&path, "-ubyte.gz") => {
                DataSource::MnistDir(path)
            }
            _ if path.is_dir() => DataSource::ImageFolder(path),
            // Not there at all: the MNIST reader's message says what a folder should hold.
            _ => DataSource::MnistDir(path),
        }
    }

    /// Whether the source has its own train/test split.
    pub fn has_splits(&self) -> bool {
        match self {
            DataSource::Embedded | DataSource::MnistDir(_) | DataSource::ChineseMnist(_) => true,
            DataSource::CsvIndex(path) => image_folder::csv_has_split_column(path),
            DataSource::ImageFolder(dir) => dir.join("train").is_dir(),
            DataSource::Packed(_) | DataSource::Gnt(_) | DataSource::Pot(_) => false,
        }
    }

    /// Reads the source (one split of it, when it has splits; `split` is ignored otherwise).
    pub fn load(
        &self,
        split: Split,
        labels: &LabelOptions,
        unknown: &mut UnknownLabels,
    ) -> Result<Loaded, DataError> {
        if let DataSource::Packed(path) = self {
            return Ok(Loaded::Packed(PackedSet::open(path)?));
        }
        let mut all: Option<Dataset> = None;
        self.stream(split, labels, unknown, &mut |chunk| {
            match &mut all {
                Some(d) => d.samples.extend(chunk.samples),
                None => all = Some(chunk),
            }
            Ok(())
        })?;
        Ok(Loaded::Raw(
            all.expect("stream delivers at least one chunk"),
        ))
    }

    /// Delivers the raw samples in chunks of about [`CHUNK`], each as a [`Dataset`] carrying
    /// the charset, so that multi-gigabyte CASIA files are never held in memory at once.
    /// At least one chunk (possibly empty) is delivered.
    pub fn stream(
        &self,
        split: Split,
        labels: &LabelOptions,
        unknown: &mut UnknownLabels,
        sink: &mut dyn FnMut(Dataset) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let name = format!("{self}");
        match self {
            DataSource::Embedded => sink(embedded::load(split)),
            DataSource::MnistDir(dir) => sink(mnist::load_dir(dir, split)?),
            DataSource::ChineseMnist(dir) => {
                let files = chinese_mnist::files(dir, split)?;
                let charset = labels
                    .charset
                    .clone()
                    .unwrap_or_else(Charset::chinese_numerals);
                sink(image_folder::load_files(&name, &files, &charset, unknown)?)
            }
            DataSource::CsvIndex(path) => {
                // Only an index with a `split` column has a test split; without one, every row
                // is the data (never silently reused as its own test set: see `has_splits`).
                let want = split.to_string();
                let split = image_folder::csv_has_split_column(path).then_some(want.as_str());
                let files = image_folder::read_csv_index(path, split)?;
                file_list(&name, &files, labels, unknown, sink)
            }
            DataSource::ImageFolder(dir) => {
                let root = if dir.join("train").is_dir() {
                    dir.join(split.to_string())
                } else {
                    dir.clone()
                };
                let files = image_folder::scan_class_folders(&root)?;
                file_list(&name, &files, labels, unknown, sink)
            }
            DataSource::Gnt(path) => {
                let charset = labels
                    .charset
                    .clone()
                    .unwrap_or_else(Charset::gb2312_level1);
                let mut chunk = Vec::with_capacity(CHUNK);
                for file in files_ending(path, ".gnt")? {
                    for record in GntReader::open(&file)? {
                        let record = record?;
                        let label = record.label();
                        if let Some(class) =
                            unknown.class_of(&charset, &label, &file, record.offset)?
                        {
                            chunk.push(Sample {
                                image: record.image,
                                label: class,
                            });
                        }
                        if chunk.len() == CHUNK {
                            sink(dataset(&name, &charset, std::mem::take(&mut chunk)))?;
                        }
                    }
                }
                sink(dataset(&name, &charset, chunk))
            }
            DataSource::Pot(path) => {
                let charset = labels
                    .charset
                    .clone()
                    .unwrap_or_else(Charset::gb2312_level1);
                let mut chunk = Vec::with_capacity(CHUNK);
                for file in files_ending(path, ".pot")? {
                    for record in PotReader::open(&file)? {
                        let record = record?;
                        let label = record.label();
                        if let Some(class) =
                            unknown.class_of(&charset, &label, &file, record.offset)?
                        {
                            chunk.push(Sample {
                                image: record.render(POT_RASTER),
                                label: class,
                            });
                        }
                        if chunk.len() == CHUNK {
                            sink(dataset(&name, &charset, std::mem::take(&mut chunk)))?;
                        }
                    }
                }
                sink(dataset(&name, &charset, chunk))
            }
            DataSource::Packed(path) => Err(DataError::invalid(
                path,
                "already packed: its images are prepared, not raw",
            )),
        }
    }
}

fn dataset(name: &str, charset: &Charset, samples: Vec<Sample>) -> Dataset {
    Dataset {
        name: name.to_string(),
        charset: charset.clone(),
        samples,
    }
}

fn file_list(
    name: &str,
    files: &[LabelledFile],
    labels: &LabelOptions,
    unknown: &mut UnknownLabels,
    sink: &mut dyn FnMut(Dataset) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let charset = labels
        .charset
        .clone()
        .unwrap_or_else(|| image_folder::charset_of(files, name));
    for part in files.chunks(CHUNK) {
        sink(image_folder::load_files(name, part, &charset, unknown)?)?;
    }
    Ok(())
}

/// `path` itself, or the files in folder `path` whose names end with `suffix`, sorted.
fn files_ending(path: &Path, suffix: &str) -> Result<Vec<PathBuf>, DataError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| DataError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.to_string_lossy().to_ascii_lowercase().ends_with(suffix))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::invalid(
            path,
            format!("no *{suffix} files in this folder"),
        ));
    }
    Ok(files)
}

fn has_files_ending(dir: &Path, suffix: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(suffix)
        })
    })
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Embedded => f.write_str("mnist (embedded, 10 000 digits)"),
            DataSource::MnistDir(p)
            | DataSource::ChineseMnist(p)
            | DataSource::Packed(p)
            | DataSource::CsvIndex(p)
            | DataSource::Gnt(p)
            | DataSource::Pot(p)
            | DataSource::ImageFolder(p) => write!(f, "{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_data_arguments() {
        assert_eq!(DataSource::parse("mnist"), (DataSource::Embedded, None));
        assert_eq!(
            DataSource::parse("mnist:test"),
            (DataSource::Embedded, Some(Split::Test))
        );
        assert_eq!(
            DataSource::parse("/d/mnist:train"),
            (DataSource::MnistDir("/d/mnist".into()), Some(Split::Train))
        );
        assert_eq!(
            DataSource::parse("C:/x"),
            (DataSource::MnistDir("C:/x".into()), None)
        );
        assert_eq!(
            DataSource::parse("hwdb.inkd"),
            (DataSource::Packed("hwdb.inkd".into()), None)
        );
        assert_eq!(
            DataSource::parse("a/1001-c.gnt:test"),
            (DataSource::Gnt("a/1001-c.gnt".into()), Some(Split::Test))
        );
        assert_eq!(
            DataSource::parse("i.csv").0,
            DataSource::CsvIndex("i.csv".into())
        );
    }

    #[test]
    fn folders_are_recognised_by_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let gnt = at("gnt");
        std::fs::write(gnt.join("001-f.GNT"), b"").unwrap();
        assert_eq!(
            DataSource::parse(gnt.to_str().unwrap()).0,
            DataSource::Gnt(gnt)
        );
        let cm = at("cm");
        std::fs::write(cm.join("chinese_mnist.csv"), b"").unwrap();
        assert_eq!(
            DataSource::parse(cm.to_str().unwrap()).0,
            DataSource::ChineseMnist(cm)
        );
        let idx = at("idx");
        std::fs::write(idx.join("train-images-idx3-ubyte.gz"), b"").unwrap();
        assert_eq!(
            DataSource::parse(idx.to_str().unwrap()).0,
            DataSource::MnistDir(idx)
        );
        let folder = at("folder");
        at("folder/train/a");
        let source = DataSource::parse(folder.to_str().unwrap()).0;
        assert_eq!(source, DataSource::ImageFolder(folder));
        assert!(source.has_splits());
        assert!(!DataSource::Gnt("x.gnt".into()).has_splits());
        let with = dir.path().join("with.csv");
        std::fs::write(&with, "path,label,split\na.png,x,train\n").unwrap();
        let without = dir.path().join("without.csv");
        std::fs::write(&without, "path,label\na.png,x\n").unwrap();
        assert!(DataSource::CsvIndex(with).has_splits());
        assert!(
            !DataSource::CsvIndex(without).has_splits(),
            "no test split to invent"
        );
    }
}
