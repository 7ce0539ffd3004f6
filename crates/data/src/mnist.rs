//! MNIST as users have it on disk: a folder with the four canonical IDX files, gzipped or not.

use crate::idx::{self, IdxImages};
use crate::sample::Split;
use crate::{Charset, DataError, Dataset, Sample};
use image::GrayImage;
use std::path::{Path, PathBuf};

/// The canonical file names of one split, without the optional `.gz`.
pub fn file_names(split: Split) -> [&'static str; 2] {
    match split {
        Split::Train => ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
        Split::Test => ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
    }
}

/// Loads one split from a folder of IDX files.
pub fn load_dir(dir: &Path, split: Split) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::invalid(
            dir,
            "not a folder of MNIST IDX files (and not `mnist`, the embedded set)",
        ));
    }
    let [images_name, labels_name] = file_names(split);
    let images_path = find(dir, images_name)?;
    let labels_path = find(dir, labels_name)?;
    let images = idx::read_images(&images_path)?;
    let labels = idx::read_labels(&labels_path)?;
    let name = format!("{}:{split}", dir.display());
    from_idx(name, images, &images_path, labels, &labels_path)
}

fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    [name.to_string(), format!("{name}.gz")]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::invalid(dir, format!("no {name} or {name}.gz in this folder")))
}

/// Pairs IDX images with IDX labels, checking counts and that every label is a digit.
pub fn from_idx(
    name: String,
    images: IdxImages,
    images_path: &Path,
    labels: Vec<u8>,
    labels_path: &Path,
) -> Result<Dataset, DataError> {
    if images.count() != labels.len() {
        return Err(DataError::CountMismatch {
            images: images_path.to_path_buf(),
            image_count: images.count(),
            labels: labels_path.to_path_buf(),
            label_count: labels.len(),
        });
    }
    let charset = Charset::digits();
    if let Some(i) = labels.iter().position(|&l| l as usize >= charset.len()) {
        return Err(DataError::invalid(
            labels_path,
            format!("label {} at index {i} is not a digit 0-9", labels[i]),
        ));
    }
    let samples = labels
        .iter()
        .enumerate()
        .map(|(i, &label)| Sample {
            image: GrayImage::from_raw(
                images.cols as u32,
                images.rows as u32,
                images.image(i).to_vec(),
            )
            .expect("IDX image slice has rows*cols bytes"),
            label: label as u32,
        })
        .collect();
    Ok(Dataset {
        name,
        charset,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_mismatch_and_bad_labels_are_errors() {
        let images = IdxImages {
            rows: 1,
            cols: 1,
            pixels: vec![0, 1],
        };
        let (ip, lp) = (Path::new("imgs"), Path::new("labs"));
        let err = from_idx("t".into(), images.clone(), ip, vec![1], lp).unwrap_err();
        assert_eq!(err.to_string(), "imgs: 2 images but labs has 1 labels");
        let err = from_idx("t".into(), images, ip, vec![1, 12], lp).unwrap_err();
        assert!(err.to_string().contains("label 12 at index 1"), "{err}");
    }

    #[test]
    fn missing_folder_and_missing_files_are_errors() {
        let err = load_dir(Path::new("/no/such/dir"), Split::Train).unwrap_err();
        assert!(err.to_string().starts_with("/no/such/dir:"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = load_dir(dir.path(), Split::Test).unwrap_err().to_string();
        assert!(err.contains("t10k-images-idx3-ubyte"), "{err}");
    }
}
