//! `inkstone data fetch mnist`: downloads the four MNIST files from the first mirror that
//! works, resumes a partial download (HTTP Range), verifies each file's md5 over its
//! *decompressed* content (mirrors re-compress; the content is what must match), and only
//! then renames it into place, so a folder never holds a half-written or wrong file.

use crate::DataError;
use md5::{Digest, Md5};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Public MNIST mirrors, tried in order.
pub const MNIST_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The canonical files and the md5 of their uncompressed content.
pub const MNIST_FILES: &[(&str, &str)] = &[
    (
        "train-images-idx3-ubyte.gz",
        "6bbc9ace898e44ae57da46a324031adb",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "a25bea736e30d166cdddb491f175f624",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "2646ac647ad5339dbf082846283269ea",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "27ae3e4e09519cfbb04c329615203637",
    ),
];

/// What a download reports while it runs.
pub enum FetchEvent<'a> {
    /// A file is already present and verified.
    Verified { file: &'a str },
    /// `done` of `total` bytes (total unknown: `None`) of a file have arrived.
    Progress {
        file: &'a str,
        done: u64,
        total: Option<u64>,
    },
    /// A mirror failed; the next one will be tried.
    MirrorFailed { file: &'a str, error: &'a DataError },
}

/// Downloads MNIST into `dir`; returns the verified file paths.
pub fn fetch_mnist(
    dir: &Path,
    mirrors: &[String],
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<Vec<PathBuf>, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    MNIST_FILES
        .iter()
        .map(|(name, md5)| fetch_file(dir, name, md5, mirrors, on_event))
        .collect()
}

fn fetch_file(
    dir: &Path,
    name: &str,
    md5: &str,
    mirrors: &[String],
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, DataError> {
    let target = dir.join(name);
    if target.is_file() && content_md5(&target)? == md5 {
        on_event(FetchEvent::Verified { file: name });
        return Ok(target);
    }
    let partial = dir.join(format!("{name}.part"));
    let mut last_error = None;
    for mirror in mirrors {
        let url = format!("{}/{name}", mirror.trim_end_matches('/'));
        let attempt = download_resuming(&url, &partial, &mut |done, total| {
            on_event(FetchEvent::Progress {
                file: name,
                done,
                total,
            })
        })
        .and_then(|()| verify(&partial, md5));
        match attempt {
            Ok(()) => {
                std::fs::rename(&partial, &target).map_err(|e| DataError::io(&target, e))?;
                return Ok(target);
            }
            Err(error) => {
                if matches!(error, DataError::Checksum { .. }) {
                    // Resuming from a corrupt partial file would corrupt every retry.
                    let _ = std::fs::remove_file(&partial);
                }
                on_event(FetchEvent::MirrorFailed {
                    file: name,
                    error: &error,
                });
                last_error = Some(error);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| DataError::invalid(dir, "no mirror given")))
}

/// Appends the rest of `url` to `partial`, asking only for the bytes it does not have yet.
fn download_resuming(
    url: &str,
    partial: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<(), DataError> {
    let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let failed = |detail: String| DataError::Download {
        url: url.to_string(),
        detail,
    };
    let mut request = ureq::get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = match request.call() {
        // The partial file is already complete: the server has nothing after its end.
        Err(ureq::Error::StatusCode(416)) if have > 0 => return Ok(()),
        other => other.map_err(|e| failed(e.to_string()))?,
    };
    let resumed = response.status().as_u16() == 206;
    let start = if resumed { have } else { 0 };
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .map(|len| start + len);
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(partial)
        .map_err(|e| DataError::io(partial, e))?;
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = start;
    loop {
        let n = body.read(&mut buf).map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .map_err(|e| DataError::io(partial, e))?;
        done += n as u64;
        progress(done, total);
    }
    file.sync_all().map_err(|e| DataError::io(partial, e))?;
    match total {
        Some(total) if done != total => Err(failed(format!("got {done} of {total} bytes"))),
        _ => Ok(()),
    }
}

fn verify(path: &Path, expected: &str) -> Result<(), DataError> {
    let found = content_md5(path)?;
    if found == expected {
        Ok(())
    } else {
        Err(DataError::Checksum {
            path: path.to_path_buf(),
            found,
            expected: expected.to_string(),
        })
    }
}

/// md5 of a file's content after gunzip (or of the raw bytes if it is not gzipped). A corrupt
/// gzip stream reads as a checksum mismatch, which sends the download to the next mirror.
pub fn content_md5(path: &Path) -> Result<String, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = crate::idx::gunzip_if_gzipped(file).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) => return Ok(format!("unreadable ({e})")),
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}
