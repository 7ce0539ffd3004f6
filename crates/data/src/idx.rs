//! MNIST's IDX format, plain or gzipped: a big-endian header (magic `0x0000_08TT_DD` with
//! type `0x08` = u8 and `DD` dimensions, then one u32 per dimension) followed by the values.
//!
//! The header is checked against the bytes that follow: a file must hold exactly the values
//! its dimensions promise, no fewer (truncated) and no more (something else appended).

use crate::DataError;
use flate2::read::GzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

pub const IMAGES_MAGIC: u32 = 0x0000_0803;
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// `count` images of `rows × cols` u8 pixels, row-major, one after the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    pub fn count(&self) -> usize {
        self.pixels.len() / (self.rows * self.cols).max(1)
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let area = self.rows * self.cols;
        &self.pixels[i * area..(i + 1) * area]
    }
}

/// Reads an IDX3 image file (`*-images-idx3-ubyte[.gz]`).
pub fn read_images(path: &Path) -> Result<IdxImages, DataError> {
    parse_images(open_file(path)?, path)
}

/// Parses IDX3 images from any reader; `name` is what errors call the source.
pub fn parse_images(source: impl Read, name: &Path) -> Result<IdxImages, DataError> {
    let path = name;
    let (dims, pixels) = read_idx(source, path, IMAGES_MAGIC, "IDX3 u8 images")?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(DataError::invalid(path, "image size is 0"));
    }
    Ok(IdxImages {
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Reads an IDX1 label file (`*-labels-idx1-ubyte[.gz]`).
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_labels(open_file(path)?, path)
}

/// Parses IDX1 labels from any reader; `name` is what errors call the source.
pub fn parse_labels(source: impl Read, name: &Path) -> Result<Vec<u8>, DataError> {
    Ok(read_idx(source, name, LABELS_MAGIC, "IDX1 u8 labels")?.1)
}

fn open_file(path: &Path) -> Result<BufReader<File>, DataError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| DataError::io(path, e))
}

/// Reads the whole payload of an IDX file with the given magic; returns its dimensions.
fn read_idx(
    source: impl Read,
    path: &Path,
    magic: u32,
    what: &'static str,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let mut reader = gunzip_if_gzipped(source).map_err(|e| DataError::io(path, e))?;
    let mut head = [0u8; 4];
    read_header_bytes(&mut reader, &mut head, path, 0, "magic number")?;
    let found = u32::from_be_bytes(head);
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
            what,
        });
    }
    let ndims = (magic & 0xff) as usize;
    let mut dims = Vec::with_capacity(ndims);
    for d in 0..ndims {
        let offset = 4 + 4 * d as u64;
        read_header_bytes(&mut reader, &mut head, path, offset, "dimension sizes")?;
        dims.push(u32::from_be_bytes(head) as usize);
    }
    let header_len = 4 + 4 * ndims as u64;
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| DataError::invalid(path, format!("dimensions {dims:?} overflow")))?;
    // `take` grows the buffer as bytes arrive, so a header that lies about its size cannot make
    // us allocate more than the file really holds.
    let mut values = Vec::new();
    (&mut reader)
        .take(expected)
        .read_to_end(&mut values)
        .map_err(|e| DataError::io(path, e))?;
    if (values.len() as u64) < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            offset: header_len + values.len() as u64,
            detail: format!(
                "header {dims:?} promises {expected} values, file has {}",
                values.len()
            ),
        });
    }
    let mut probe = [0u8; 1];
    let extra = reader
        .read(&mut probe)
        .map_err(|e| DataError::io(path, e))?;
    if extra != 0 {
        return Err(DataError::invalid(
            path,
            format!("bytes after the {expected} values that header {dims:?} promises"),
        ));
    }
    Ok((dims, values))
}

fn read_header_bytes(
    reader: &mut impl Read,
    buf: &mut [u8; 4],
    path: &Path,
    offset: u64,
    what: &str,
) -> Result<(), DataError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => DataError::Truncated {
            path: path.to_path_buf(),
            offset,
            detail: format!("file ends inside the header ({what})"),
        },
        _ => DataError::io(path, e),
    })
}

/// Wraps a reader in a gzip decoder when its first bytes are the gzip magic (the content
/// decides, not the file name).
pub fn gunzip_if_gzipped<'a>(mut source: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut source, &mut magic)?;
    let chained = std::io::Cursor::new(magic[..n].to_vec()).chain(source);
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(GzDecoder::new(chained)))
    } else {
        Ok(Box::new(chained))
    }
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Serialises images in IDX3 (uncompressed). Used to write crafted test files and exports.
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = header(IMAGES_MAGIC, &[images.count(), images.rows, images.cols]);
    out.extend_from_slice(&images.pixels);
    out
}

/// Serialises labels in IDX1 (uncompressed).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = header(LABELS_MAGIC, &[labels.len()]);
    out.extend_from_slice(labels);
    out
}

fn header(magic: u32, dims: &[usize]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn three_images() -> IdxImages {
        IdxImages {
            rows: 2,
            cols: 3,
            pixels: (0..18).collect(),
        }
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn round_trips_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = encode_images(&three_images());
        let plain = write(dir.path(), "i", &bytes);
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&bytes).unwrap();
        let zipped = write(dir.path(), "i.gz", &gz.finish().unwrap());
        for path in [plain, zipped] {
            let images = read_images(&path).unwrap();
            assert_eq!(images, three_images());
            assert_eq!(images.count(), 3);
            assert_eq!(images.image(1), &[6, 7, 8, 9, 10, 11]);
        }
        let labels = write(dir.path(), "l", &encode_labels(&[1, 2, 3]));
        assert_eq!(read_labels(&labels).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn wrong_magic_names_file_and_both_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "labels-as-images", &encode_labels(&[1, 2]));
        let err = read_images(&path).unwrap_err().to_string();
        assert!(err.contains("labels-as-images"), "{err}");
        assert!(
            err.contains("0x00000801") && err.contains("0x00000803"),
            "{err}"
        );
    }

    #[test]
    fn truncated_payload_and_header_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = encode_images(&three_images());
        let cut = write(dir.path(), "cut", &bytes[..bytes.len() - 1]);
        let err = read_images(&cut).unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { offset: 33, .. }),
            "{err}"
        );
        let head_only = write(dir.path(), "head", &bytes[..6]);
        let err = read_images(&head_only).unwrap_err().to_string();
        assert!(err.contains("inside the header"), "{err}");
        let empty = write(dir.path(), "empty", &[]);
        assert!(matches!(
            read_labels(&empty),
            Err(DataError::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn trailing_bytes_and_lying_headers_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = encode_labels(&[1, 2]);
        bytes.push(9);
        let long = write(dir.path(), "long", &bytes);
        assert!(read_labels(&long)
            .unwrap_err()
            .to_string()
            .contains("bytes after"));
        // A header claiming 4 billion labels over a 3-byte payload must fail fast, not allocate.
        let mut liar = header(LABELS_MAGIC, &[u32::MAX as usize]);
        liar.extend_from_slice(&[1, 2, 3]);
        let liar = write(dir.path(), "liar", &liar);
        assert!(matches!(
            read_labels(&liar),
            Err(DataError::Truncated { .. })
        ));
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_labels(Path::new("/no/such/labels"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/no/such/labels:"), "{err}");
    }
}
