//! CASIA-HWDB offline `.gnt` files: records one after another, each a little-endian header
//! (u32 record size = 10 + w·h, 2-byte GB2312 tag in byte order, u16 width, u16 height) and
//! then w·h u8 pixels, row-major, background 255.
//!
//! A header is checked before anything is allocated for it, so a corrupt 65535×65535 header
//! costs an error naming the file and the record's byte offset, not 4 GiB.

use crate::atomic::{pending_file, PendingFile};
use crate::charset::{decode_gb2312, encode_gb2312};
use crate::DataError;
use image::GrayImage;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const HEADER: usize = 10;
/// Without a known file length, pixels are read in pieces of at most this many bytes, so
/// memory only grows with the bytes actually present.
const CHUNK: u64 = 1 << 20;
/// Records are ~10 KB; a large buffer keeps system calls rare.
pub(crate) const IO_BUFFER: usize = 1 << 20;

/// One character image from a `.gnt` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GntRecord {
    /// Byte offset of the record in its file.
    pub offset: u64,
    /// The GB2312 code in byte order (`[0xB0, 0xA1]` = 啊).
    pub tag: [u8; 2],
    pub image: GrayImage,
}

impl GntRecord {
    /// The character the tag names, or a `<tag …>` form for other tags (see [`tag_label`]).
    pub fn label(&self) -> String {
        tag_label(&self.tag)
    }
}

/// The label of a CASIA tag: the GB2312 character of its first two bytes when they are one and
/// any further bytes are zero (`[0xB0, 0xA1]` → `啊`); otherwise the bytes in hex,
/// `[0x00, b'a']` → `<tag 00 61>`, `[0xFF, 0xFF]` → `<tag ff ff>`. No charset symbol is
/// written like that by accident, so such a record becomes an unknown label (an error or a
/// counted skip), never a wrong class; ASCII tags deliberately do not become `a` or `7`.
pub fn tag_label(tag: &[u8]) -> String {
    if let [lead, trail, rest @ ..] = tag {
        if rest.iter().all(|&b| b == 0) {
            if let Some(c) = decode_gb2312([*lead, *trail]) {
                return c.to_string();
            }
        }
    }
    unknown_tag(tag)
}

/// A tag that names no character, as its bytes in hex: `<tag ff ff>`.
pub(crate) fn unknown_tag(tag: &[u8]) -> String {
    let hex: Vec<String> = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("<tag {}>", hex.join(" "))
}

/// Streams the records of a `.gnt` file. After the first error the iterator ends.
///
/// `for record in GntReader::open("1001-c.gnt")? { let record = record?; … }`
pub struct GntReader<R: Read> {
    reader: R,
    path: PathBuf,
    offset: u64,
    /// The file's length when known, to refuse a record larger than what remains.
    len: Option<u64>,
    done: bool,
}

impl GntReader<BufReader<File>> {
    /// Opens a file with a large read buffer.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
        let mut reader = Self::new(BufReader::with_capacity(IO_BUFFER, file), path);
        reader.len = Some(len);
        Ok(reader)
    }
}

impl<R: Read> GntReader<R> {
    /// Reads from any source; `name` is what error messages call it.
    pub fn new(reader: R, name: impl Into<PathBuf>) -> Self {
        GntReader {
            reader,
            path: name.into(),
            offset: 0,
            len: None,
            done: false,
        }
    }

    fn read_record(&mut self) -> Result<Option<GntRecord>, DataError> {
        let at = self.offset;
        let mut head = [0u8; HEADER];
        let got = read_up_to(&mut self.reader, &mut head).map_err(|e| io_at(&self.path, at, e))?;
        if got == 0 {
            return Ok(None);
        }
        if got < HEADER {
            return Err(truncated(
                &self.path,
                at,
                format!("record header has {got} of 10 bytes"),
            ));
        }
        let size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let tag = [head[4], head[5]];
        let (w, h) = (
            u16::from_le_bytes([head[6], head[7]]),
            u16::from_le_bytes([head[8], head[9]]),
        );
        let invalid = |detail: String| invalid_at(&self.path, at, detail);
        if w == 0 || h == 0 {
            return Err(invalid(format!(
                "image is {w}×{h}: width and height must be at least 1"
            )));
        }
        let area = u64::from(w) * u64::from(h);
        if u64::from(size) != HEADER as u64 + area {
            return Err(invalid(format!(
                "size field says {size} bytes but a {w}×{h} record is 10 + {area}"
            )));
        }
        let pixels = self.read_pixels(at, area, (w, h))?;
        self.offset = at + HEADER as u64 + area;
        let image = GrayImage::from_raw(w.into(), h.into(), pixels).ok_or_else(|| {
            invalid_at(&self.path, at, "pixel buffer does not fit the image".into())
        })?;
        Ok(Some(GntRecord {
            offset: at,
            tag,
            image,
        }))
    }

    /// Reads `n` pixels without trusting `n`: checked against the file length when known,
    /// otherwise read in bounded chunks.
    fn read_pixels(&mut self, at: u64, n: u64, (w, h): (u16, u16)) -> Result<Vec<u8>, DataError> {
        if let Some(len) = self.len {
            let left = len.saturating_sub(at + HEADER as u64);
            if n > left {
                let detail =
                    format!("the record's {w}×{h} pixels need {n} bytes, only {left} remain");
                return Err(truncated(&self.path, at, detail));
            }
        }
        let mut pixels = Vec::with_capacity(n.min(CHUNK) as usize);
        while (pixels.len() as u64) < n {
            let want = (n - pixels.len() as u64).min(CHUNK);
            pixels.reserve(want as usize);
            let got = (&mut self.reader)
                .take(want)
                .read_to_end(&mut pixels)
                .map_err(|e| io_at(&self.path, at, e))?;
            if got == 0 {
                let detail = format!(
                    "the record's {w}×{h} pixels need {n} bytes, the file ends after {}",
                    pixels.len()
                );
                return Err(truncated(&self.path, at, detail));
            }
        }
        Ok(pixels)
    }
}

impl<R: Read> Iterator for GntReader<R> {
    type Item = Result<GntRecord, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_record().transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Writes `.gnt` records. From [`create`](GntWriter::create) the file appears, complete, only
/// at [`finish`](GntWriter::finish); dropped unfinished, it leaves nothing behind.
pub struct GntWriter<W: Write> {
    out: W,
    path: PathBuf,
    offset: u64,
    pending: Option<PendingFile>,
}

impl GntWriter<BufWriter<File>> {
    /// Writes to a temporary file beside `path`, renamed to `path` by `finish`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let (file, pending) = pending_file(path.as_ref())?;
        Ok(GntWriter {
            out: BufWriter::with_capacity(IO_BUFFER, file),
            path: path.as_ref().to_path_buf(),
            offset: 0,
            pending: Some(pending),
        })
    }
}

impl<W: Write> GntWriter<W> {
    /// Writes to any sink; `name` is what error messages call it.
    pub fn new(writer: W, name: impl Into<PathBuf>) -> Self {
        GntWriter {
            out: writer,
            path: name.into(),
            offset: 0,
            pending: None,
        }
    }

    /// Appends one record; returns its byte offset. Refuses images of 0 or over 65535 pixels
    /// on a side.
    pub fn write(&mut self, tag: [u8; 2], image: &GrayImage) -> Result<u64, DataError> {
        let (w, h) = image.dimensions();
        let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
            return Err(DataError::invalid(
                &self.path,
                format!("a {w}×{h} image is over 65535 on a side"),
            ));
        };
        if w == 0 || h == 0 {
            return Err(DataError::invalid(
                &self.path,
                format!("a {w}×{h} image has no pixels"),
            ));
        }
        let area = u64::from(w) * u64::from(h);
        let size = (HEADER as u64 + area) as u32; // ≤ 10 + 65535², which fits
        let mut head = [0u8; HEADER];
        head[..4].copy_from_slice(&size.to_le_bytes());
        head[4..6].copy_from_slice(&tag);
        head[6..8].copy_from_slice(&w16.to_le_bytes());
        head[8..].copy_from_slice(&h16.to_le_bytes());
        let at = self.offset;
        self.out
            .write_all(&head)
            .and_then(|()| self.out.write_all(image.as_raw()))
            .map_err(|e| io_at(&self.path, at, e))?;
        self.offset += u64::from(size);
        Ok(at)
    }

    /// Appends one record tagged with `ch`'s GB2312 code; an error if it has none.
    pub fn write_char(&mut self, ch: char, image: &GrayImage) -> Result<u64, DataError> {
        let tag = encode_gb2312(ch)
            .ok_or_else(|| DataError::invalid(&self.path, format!("`{ch}` has no GB2312 code")))?;
        self.write(tag, image)
    }

    /// Flushes, and for a created file syncs it and renames it into place.
    pub fn finish(self) -> Result<W, DataError> {
        let GntWriter {
            mut out,
            path,
            pending,
            ..
        } = self;
        out.flush().map_err(|e| DataError::io(&path, e))?;
        if let Some(pending) = pending {
            pending.commit().map_err(|e| DataError::io(&path, e))?;
        }
        Ok(out)
    }
}

/// Fills `buf` as far as the source allows; the count is short only at end of input.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

pub(crate) fn truncated(path: &Path, offset: u64, detail: String) -> DataError {
    DataError::Truncated {
        path: path.to_path_buf(),
        offset,
        detail,
    }
}

pub(crate) fn invalid_at(path: &Path, offset: u64, detail: String) -> DataError {
    DataError::invalid(path, format!("record at byte {offset}: {detail}"))
}

pub(crate) fn io_at(path: &Path, offset: u64, e: io::Error) -> DataError {
    let e = io::Error::new(e.kind(), format!("record at byte {offset}: {e}"));
    DataError::io(path, e)
}

#[cfg(test)]
pub(crate) mod tests;
