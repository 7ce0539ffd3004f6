//! CASIA online `.pot` files: records one after another, each a little-endian u16 record size
//! (bytes of the whole record), a 4-byte tag, a u16 stroke count, then i16 (x, y) points in
//! tablet units, y pointing down; (-1, 0) ends a stroke and (-1, -1) the character.
//!
//! The tag holds the GB2312 code as a little-endian u16 and two zero bytes, so its bytes are
//! swapped against `.gnt`'s: 啊 (GB2312 `B0 A1`) is `A1 B0 00 00`. ASCII symbols are
//! `00 xx 00 00`. Anything else gets a `<tag …>` label (see [`pot_tag_label`]).
//! A record is at most 65535 bytes, so reading one never needs more memory than that.

use crate::atomic::{pending_file, PendingFile};
use crate::charset::{decode_gb2312, encode_gb2312};
use crate::gnt::{invalid_at, io_at, read_up_to, truncated, unknown_tag, IO_BUFFER};
use crate::strokes::{render, validate, Stroke};
use crate::synth::style::CHARACTER_PEN;
use crate::DataError;
use image::GrayImage;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Size field, tag and stroke count.
const HEADER: usize = 8;
const STROKE_END: [i16; 2] = [-1, 0];
const CHAR_END: [i16; 2] = [-1, -1];

/// One handwritten character from a `.pot` file, as pen strokes in tablet units.
#[derive(Clone, Debug, PartialEq)]
pub struct PotRecord {
    /// Byte offset of the record in its file.
    pub offset: u64,
    pub tag: [u8; 4],
    pub strokes: Vec<Stroke>,
}

impl PotRecord {
    /// The character the tag names, or a `<tag …>` form for other tags (see [`pot_tag_label`]).
    pub fn label(&self) -> String {
        pot_tag_label(&self.tag)
    }

    /// The strokes as ink on a white `side`² image, scaled to fit (tablet units are in the
    /// thousands), with the synthetic writer's pen width for the character's size
    /// ([`CHARACTER_PEN`]), so online samples look like the training samples. [`PotReader`]
    /// only yields strokes that pass [`validate`]; strokes that do not (a record built by hand
    /// with no points) give a blank page.
    pub fn render(&self, side: u32) -> GrayImage {
        match validate(&self.strokes) {
            Ok(()) => render(&self.strokes, side, CHARACTER_PEN),
            Err(_) => GrayImage::from_pixel(side, side, image::Luma([255])),
        }
    }
}

/// The label of an OLHWDB tag: `[A1, B0, 0, 0]` (the little-endian u16 0xB0A1) → `啊`; `[0, xx,
/// 0, 0]` with a printable ASCII `xx` → that symbol (`[0, b'7', 0, 0]` → `7`); anything else →
/// its bytes in hex, `<tag ff ff 00 00>`, which no charset holds, so the record becomes an
/// unknown label (an error or a counted skip), never a wrong class.
pub fn pot_tag_label(tag: &[u8; 4]) -> String {
    match *tag {
        [0, ascii, 0, 0] if ascii.is_ascii_graphic() => return char::from(ascii).to_string(),
        [low, high, 0, 0] => {
            if let Some(c) = decode_gb2312([high, low]) {
                return c.to_string();
            }
        }
        _ => {}
    }
    unknown_tag(tag)
}

/// The tag [`pot_tag_label`] reads as `ch`: its GB2312 code as a little-endian u16, or `00 xx`
/// for a printable ASCII symbol; `None` for a character with neither.
pub fn pot_tag(ch: char) -> Option<[u8; 4]> {
    if ch.is_ascii_graphic() {
        return Some([0, ch as u8, 0, 0]);
    }
    let [lead, trail] = encode_gb2312(ch)?;
    Some([trail, lead, 0, 0])
}

/// Streams the records of a `.pot` file. After the first error the iterator ends.
///
/// `for record in PotReader::open("1001.pot")? { let image = record?.render(64); … }`
pub struct PotReader<R: Read> {
    reader: R,
    path: PathBuf,
    offset: u64,
    done: bool,
}

impl PotReader<BufReader<File>> {
    /// Opens a file with a large read buffer.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        Ok(Self::new(BufReader::with_capacity(IO_BUFFER, file), path))
    }
}

impl<R: Read> PotReader<R> {
    /// Reads from any source; `name` is what error messages call it.
    pub fn new(reader: R, name: impl Into<PathBuf>) -> Self {
        PotReader {
            reader,
            path: name.into(),
            offset: 0,
            done: false,
        }
    }

    fn read_record(&mut self) -> Result<Option<PotRecord>, DataError> {
        let at = self.offset;
        let mut size = [0u8; 2];
        let got = read_up_to(&mut self.reader, &mut size).map_err(|e| io_at(&self.path, at, e))?;
        match got {
            0 => return Ok(None),
            1 => {
                return Err(truncated(
                    &self.path,
                    at,
                    "record size has 1 of 2 bytes".into(),
                ))
            }
            _ => {}
        }
        let invalid = |detail: String| invalid_at(&self.path, at, detail);
        let len = usize::from(u16::from_le_bytes(size));
        if len < HEADER + 4 {
            return Err(invalid(format!(
                "size field says {len} bytes, less than a header and an end marker (12)"
            )));
        }
        let mut record = vec![0u8; len];
        record[..2].copy_from_slice(&size);
        let got =
            read_up_to(&mut self.reader, &mut record[2..]).map_err(|e| io_at(&self.path, at, e))?;
        if got < len - 2 {
            let detail = format!(
                "size field says {len} bytes, the file ends after {}",
                got + 2
            );
            return Err(truncated(&self.path, at, detail));
        }
        let strokes = parse_strokes(&record).map_err(invalid)?;
        self.offset = at + len as u64;
        let tag = [record[2], record[3], record[4], record[5]];
        Ok(Some(PotRecord {
            offset: at,
            tag,
            strokes,
        }))
    }
}

impl<R: Read> Iterator for PotReader<R> {
    type Item = Result<PotRecord, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_record().transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// The strokes of one whole record (header included), checked against its stroke count and
/// its size field. Points after the last (-1, 0) form a final stroke.
fn parse_strokes(record: &[u8]) -> Result<Vec<Stroke>, String> {
    let declared = usize::from(u16::from_le_bytes([record[6], record[7]]));
    let mut strokes = Vec::new();
    let mut stroke = Vec::new();
    let mut end = None;
    for (i, p) in record[HEADER..].chunks_exact(4).enumerate() {
        let point = [
            i16::from_le_bytes([p[0], p[1]]),
            i16::from_le_bytes([p[2], p[3]]),
        ];
        if point == CHAR_END {
            end = Some(HEADER + 4 * (i + 1));
            break;
        } else if point == STROKE_END {
            if stroke.is_empty() {
                return Err(format!("stroke {} has no points", strokes.len()));
            }
            strokes.push(std::mem::take(&mut stroke));
        } else {
            stroke.push([f32::from(point[0]), f32::from(point[1])]);
        }
    }
    match end {
        None => {
            return Err(format!(
                "no (-1, -1) end marker within the {} bytes its size field gives",
                record.len()
            ))
        }
        Some(end) if end != record.len() => {
            return Err(format!(
                "size field says {} bytes but the (-1, -1) end marker ends the record after {end}",
                record.len()
            ))
        }
        Some(_) => {}
    }
    if !stroke.is_empty() {
        strokes.push(stroke);
    }
    if strokes.is_empty() {
        return Err("no strokes".into());
    }
    if strokes.len() != declared {
        return Err(format!(
            "stroke count says {declared} but {} strokes follow",
            strokes.len()
        ));
    }
    validate(&strokes).map_err(|e| e.to_string())?;
    Ok(strokes)
}

/// Writes `.pot` records (for tests and conversions). From [`create`](PotWriter::create) the
/// file appears, complete, only at [`finish`](PotWriter::finish).
pub struct PotWriter<W: Write> {
    out: W,
    path: PathBuf,
    offset: u64,
    pending: Option<PendingFile>,
}

impl PotWriter<BufWriter<File>> {
    /// Writes to a temporary file beside `path`, renamed to `path` by `finish`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let (file, pending) = pending_file(path.as_ref())?;
        Ok(PotWriter {
            out: BufWriter::with_capacity(IO_BUFFER, file),
            path: path.as_ref().to_path_buf(),
            offset: 0,
            pending: Some(pending),
        })
    }
}

impl<W: Write> PotWriter<W> {
    /// Writes to any sink; `name` is what error messages call it.
    pub fn new(writer: W, name: impl Into<PathBuf>) -> Self {
        PotWriter {
            out: writer,
            path: name.into(),
            offset: 0,
            pending: None,
        }
    }

    /// Appends one record; returns its byte offset. Every stroke needs a point, every
    /// coordinate must be an integer in i16's range, no point may read as a marker
    /// ((-1, 0) or (-1, -1)), and the record must fit its u16 size field.
    pub fn write(&mut self, tag: [u8; 4], strokes: &[Stroke]) -> Result<u64, DataError> {
        let record = encode_record(tag, strokes).map_err(|e| DataError::invalid(&self.path, e))?;
        let at = self.offset;
        self.out
            .write_all(&record)
            .map_err(|e| io_at(&self.path, at, e))?;
        self.offset += record.len() as u64;
        Ok(at)
    }

    /// Appends one record tagged with `ch` (see [`pot_tag`]); an error if it has no tag.
    pub fn write_char(&mut self, ch: char, strokes: &[Stroke]) -> Result<u64, DataError> {
        let tag = pot_tag(ch)
            .ok_or_else(|| DataError::invalid(&self.path, format!("`{ch}` has no GB2312 code")))?;
        self.write(tag, strokes)
    }

    /// Flushes, and for a created file syncs it and renames it into place.
    pub fn finish(self) -> Result<W, DataError> {
        let PotWriter {
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

fn encode_record(tag: [u8; 4], strokes: &[Stroke]) -> Result<Vec<u8>, String> {
    validate(strokes).map_err(|e| e.to_string())?;
    let points: usize = strokes.iter().map(Vec::len).sum();
    let len = HEADER + 4 * (points + strokes.len() + 1);
    let size = u16::try_from(len)
        .map_err(|_| format!("{len} bytes of strokes are over a record's 65535"))?;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&tag);
    out.extend_from_slice(&(strokes.len() as u16).to_le_bytes());
    for (s, stroke) in strokes.iter().enumerate() {
        if stroke.is_empty() {
            return Err(format!("stroke {s} has no points"));
        }
        for (p, &[x, y]) in stroke.iter().enumerate() {
            let point = [to_i16(x), to_i16(y)];
            let (Some(x), Some(y)) = (point[0], point[1]) else {
                return Err(format!(
                    "stroke {s} point {p} is ({x}, {y}): coordinates must be integers within i16"
                ));
            };
            if [x, y] == STROKE_END || [x, y] == CHAR_END {
                return Err(format!(
                    "stroke {s} point {p} is ({x}, {y}), which would read as an end marker"
                ));
            }
            push_point(&mut out, [x, y]);
        }
        push_point(&mut out, STROKE_END);
    }
    push_point(&mut out, CHAR_END);
    Ok(out)
}

fn to_i16(v: f32) -> Option<i16> {
    let in_range = v.fract() == 0.0 && v >= f32::from(i16::MIN) && v <= f32::from(i16::MAX);
    in_range.then_some(v as i16)
}

fn push_point(out: &mut Vec<u8>, [x, y]: [i16; 2]) {
    out.extend_from_slice(&x.to_le_bytes());
    out.extend_from_slice(&y.to_le_bytes());
}

#[cfg(test)]
mod tests;
