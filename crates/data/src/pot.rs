//! CASIA online `.pot` files: records one after another, each a little-endian u16 record size
//! (bytes of the whole record), a 4-byte tag, a u16 stroke count, then i16 (x, y) points in
//! tablet units, y pointing down; (-1, 0) ends a stroke and (-1, -1) the character.
//!
//! The tag holds the GB2312 code's two bytes in file order (啊 = `B0 A1 00 00`, as CASIA's own
//! readers decode it); ASCII tags (`00 xx`) get a `<tag …>` label (see [`tag_label`]).
//! A record is at most 65535 bytes, so reading one never needs more memory than that.

use crate::charset::encode_gb2312;
use crate::gnt::{invalid_at, io_at, read_up_to, tag_label, truncated, PendingFile, IO_BUFFER};
use crate::strokes::{render, validate, Stroke, DEFAULT_PEN};
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
    /// The character the tag names, or a `<tag …>` form for other tags (see [`tag_label`]).
    pub fn label(&self) -> String {
        tag_label(&self.tag)
    }

    /// The strokes as ink on a white `side`² image, scaled to fit (tablet units are in the
    /// thousands). [`PotReader`] only yields strokes that pass [`validate`]; strokes that do
    /// not (a record built by hand with no points) give a blank page.
    pub fn render(&self, side: u32) -> GrayImage {
        match validate(&self.strokes) {
            Ok(()) => render(&self.strokes, side, DEFAULT_PEN),
            Err(_) => GrayImage::from_pixel(side, side, image::Luma([255])),
        }
    }
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
    validate(&strokes)?;
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
        let (file, pending) = PendingFile::create(path.as_ref())?;
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

    /// Appends one record tagged with `ch`'s GB2312 code; an error if it has none.
    pub fn write_char(&mut self, ch: char, strokes: &[Stroke]) -> Result<u64, DataError> {
        let [lead, trail] = encode_gb2312(ch)
            .ok_or_else(|| DataError::invalid(&self.path, format!("`{ch}` has no GB2312 code")))?;
        self.write([lead, trail, 0, 0], strokes)
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
            pending.commit()?;
        }
        Ok(out)
    }
}

fn encode_record(tag: [u8; 4], strokes: &[Stroke]) -> Result<Vec<u8>, String> {
    validate(strokes)?;
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
mod tests {
    use super::*;
    use crate::gnt::tests::alloc_probe::largest_allocation;
    use crate::Charset;
    use std::io::Cursor;

    fn cross() -> Vec<Stroke> {
        vec![
            vec![[1000.0, 5000.0], [5000.0, 5000.0], [9000.0, 5000.0]],
            vec![[5000.0, 1000.0], [5000.0, 9000.0]],
        ]
    }

    /// A record by hand: `size` overrides the true size, `points` are written as given.
    fn raw(size: Option<u16>, tag: [u8; 4], count: u16, points: &[[i16; 2]]) -> Vec<u8> {
        let len = (HEADER + 4 * points.len()) as u16;
        let mut out = size.unwrap_or(len).to_le_bytes().to_vec();
        out.extend_from_slice(&tag);
        out.extend_from_slice(&count.to_le_bytes());
        points.iter().for_each(|&p| push_point(&mut out, p));
        out
    }

    const A: [u8; 4] = [0xB0, 0xA1, 0, 0];
    const ONE_STROKE: [[i16; 2]; 4] = [[10, 20], [30, 40], [-1, 0], [-1, -1]];

    /// Reads `bytes` from a file called `bad.pot`: the records before the error, the error
    /// text, and whether the iterator then ended.
    fn read_bad(bytes: &[u8]) -> (usize, String, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pot");
        std::fs::write(&path, bytes).unwrap();
        let mut reader = PotReader::open(&path).unwrap();
        let mut good = 0;
        for item in reader.by_ref() {
            match item {
                Ok(_) => good += 1,
                Err(e) => return (good, e.to_string(), reader.next().is_none()),
            }
        }
        panic!("no error after {good} records");
    }

    /// A good 24-byte record followed by `bad`: the error must name bad.pot and byte 24.
    fn error_after_one(bad: &[u8]) -> String {
        let mut bytes = raw(None, A, 1, &ONE_STROKE);
        assert_eq!(bytes.len(), 24);
        bytes.extend_from_slice(bad);
        let (good, err, ended) = read_bad(&bytes);
        assert_eq!(good, 1, "{err}");
        assert!(err.contains("bad.pot") && err.contains("byte 24"), "{err}");
        assert!(ended);
        err
    }

    #[test]
    fn records_round_trip_through_a_created_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("round.pot");
        let dot = vec![vec![[-1.0, 5.0]], vec![[-32768.0, 32767.0], [0.0, -1.0]]];
        let mut writer = PotWriter::create(&path).unwrap();
        let offsets = [
            writer.write(A, &cross()).unwrap(),
            writer.write_char('座', &dot).unwrap(),
            writer.write([0, b'a', 0, 0], &cross()).unwrap(),
        ];
        assert!(!path.exists(), "visible before finish");
        writer.finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(offsets, [0, 8 + 4 * 8, 40 + 8 + 4 * 6]);

        let records: Vec<PotRecord> = PotReader::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].strokes, cross());
        assert_eq!(records[1].strokes, dot);
        assert_eq!(
            records.iter().map(|r| r.offset).collect::<Vec<_>>(),
            offsets
        );
        let labels: Vec<String> = records.iter().map(PotRecord::label).collect();
        assert_eq!(labels, ["啊", "座", "<tag 00 61 00 00>"]);
        let charset = Charset::gb2312_level1();
        let classes: Vec<_> = labels.iter().map(|l| charset.index_of(l)).collect();
        assert_eq!(classes, [Some(0), Some(3754), None]);
    }

    #[test]
    fn tablet_units_render_scaled_to_fit() {
        let record = PotRecord {
            offset: 0,
            tag: A,
            strokes: cross(),
        };
        let image = record.render(64);
        let inked = |x: u32, y: u32| image.get_pixel(x, y).0[0] < 128;
        assert!(inked(8, 32) && inked(55, 32) && inked(32, 8) && inked(32, 55));
        assert!(!inked(8, 8) && !inked(55, 55));
        let empty = PotRecord {
            strokes: vec![],
            ..record
        };
        assert!(empty.render(64).pixels().all(|p| p.0[0] == 255));
    }

    #[test]
    fn the_writer_refuses_what_would_not_read_back() {
        let mut writer = PotWriter::new(Vec::new(), "out.pot");
        for strokes in [
            vec![vec![[-1.0, 0.0]]],
            vec![vec![[5.0, 5.0]], vec![[-1.0, -1.0]]],
            vec![vec![[0.5, 1.0]]],
            vec![vec![[40000.0, 1.0]]],
            vec![vec![[1.0, 1.0]], vec![]],
            vec![vec![[1.0, 1.0]; 16_400]],
            vec![],
        ] {
            let err = writer.write(A, &strokes).unwrap_err().to_string();
            assert!(err.contains("out.pot"), "{err}");
        }
        assert!(writer.write_char('a', &cross()).is_err());
        assert!(writer.finish().unwrap().is_empty());
    }

    #[test]
    fn a_truncated_point_list_comes_after_the_good_records() {
        let whole = raw(None, A, 1, &ONE_STROKE);
        let err = error_after_one(&whole[..17]);
        assert!(
            err.contains("truncated") && err.contains("ends after 17"),
            "{err}"
        );
        let err = error_after_one(&whole[..1]);
        assert!(err.contains("1 of 2"), "{err}");
    }

    #[test]
    fn a_missing_end_marker_is_an_error() {
        let err = error_after_one(&raw(None, A, 1, &ONE_STROKE[..3]));
        assert!(err.contains("no (-1, -1) end marker"), "{err}");
    }

    #[test]
    fn a_stroke_count_mismatch_is_an_error() {
        let err = error_after_one(&raw(None, A, 2, &ONE_STROKE));
        assert!(err.contains("stroke count says 2 but 1"), "{err}");
        let err = error_after_one(&raw(None, A, 0, &[[-1, -1]]));
        assert!(err.contains("no strokes"), "{err}");
        let err = error_after_one(&raw(None, A, 1, &[[-1, 0], [-1, -1]]));
        assert!(err.contains("stroke 0 has no points"), "{err}");
    }

    #[test]
    fn a_size_field_that_disagrees_is_an_error() {
        // Too large: the end marker comes first (the trailing bytes make the size available).
        let mut long = raw(Some(28), A, 1, &ONE_STROKE);
        long.extend([0; 4]);
        let err = error_after_one(&long);
        assert!(
            err.contains("size field says 28") && err.contains("after 24"),
            "{err}"
        );
        // Too small: the record ends before its end marker.
        let err = error_after_one(&raw(Some(20), A, 1, &ONE_STROKE));
        assert!(
            err.contains("no (-1, -1) end marker within the 20 bytes"),
            "{err}"
        );
        let err = error_after_one(&raw(Some(6), A, 1, &ONE_STROKE));
        assert!(err.contains("says 6 bytes"), "{err}");
    }

    #[test]
    fn a_huge_size_field_reads_at_most_one_record() {
        let bytes = raw(Some(u16::MAX), A, 1, &ONE_STROKE);
        let (items, largest) = largest_allocation(|| {
            PotReader::new(Cursor::new(&bytes), "stream.pot").collect::<Vec<_>>()
        });
        assert_eq!(items.len(), 1);
        let err = items[0].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("stream.pot") && err.contains("byte 0"),
            "{err}"
        );
        assert!(
            largest <= usize::from(u16::MAX),
            "allocated {largest} bytes"
        );
    }
}
