//! One error type for every reader: each message names the file and what is wrong with it.

use std::path::{Path, PathBuf};

/// What can go wrong reading handwriting data. `Display` is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: wrong magic number 0x{found:08x}, expected 0x{expected:08x} ({what})")]
    BadMagic {
        path: PathBuf,
        found: u32,
        expected: u32,
        what: &'static str,
    },
    #[error("{path}: truncated at byte {offset}: {detail}")]
    Truncated {
        path: PathBuf,
        offset: u64,
        detail: String,
    },
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("{images}: {image_count} images but {labels} has {label_count} labels")]
    CountMismatch {
        images: PathBuf,
        image_count: usize,
        labels: PathBuf,
        label_count: usize,
    },
    #[error("{path}: not a readable image: {detail}")]
    Image { path: PathBuf, detail: String },
    #[error("{path}: checksum mismatch: md5 {found}, expected {expected}")]
    Checksum {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{url}: download failed: {detail}")]
    Download { url: String, detail: String },
}

impl DataError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn invalid(path: &Path, detail: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }
}
