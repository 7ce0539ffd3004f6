//! Stroke medians per character: the skeleton the synthesizer writes with.
//!
//! The file format (little-endian, usually gzipped as a whole):
//!
//! ```text
//! magic "IKST" · version u16 (= 1) · character count u32
//! per character: codepoint u32 · stroke count u8
//!   per stroke: point count u8 · points as (x u8, y u8), unit = 4 of the 1024 box, y down
//! ```
//!
//! Four units of the 1024 box is a quarter pixel even at 256×256, and one byte per coordinate
//! keeps all 9 574 characters of `hanzi-writer-data` near 1 MB.

use crate::{Charset, DataError};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The strokes of one character: polylines in the 1024-unit box, y down.
pub type Strokes = Vec<Vec<[f32; 2]>>;

pub const MAGIC: [u8; 4] = *b"IKST";
pub const VERSION: u16 = 1;
/// Box units per quantisation step.
pub const UNIT: f32 = 4.0;
/// Side of the coordinate box.
pub const BOX: f32 = 1024.0;
/// No real stroke file comes near this; it stops a small gzip bomb filling memory.
const MAX_DECOMPRESSED: u64 = 64 << 20;
const HEADER_LEN: usize = 10;
/// The smallest character record: codepoint, one stroke of one point.
const MIN_RECORD: usize = 4 + 1 + 1 + 2;

const EMBEDDED: &[u8] = include_bytes!("../../assets/hanzi-strokes/strokes.bin.gz");
const EMBEDDED_NAME: &str = "<embedded>/hanzi-strokes/strokes.bin.gz";

/// Characters → stroke medians. `StrokeLibrary::embedded()` has the 9 574 characters of
/// `hanzi-writer-data` (every GB2312 hanzi among them).
#[derive(Clone, Debug, Default)]
pub struct StrokeLibrary {
    chars: HashMap<char, Strokes>,
}

impl StrokeLibrary {
    /// The library compiled into the binary, parsed on first use.
    ///
    /// `let one = StrokeLibrary::embedded().get('一').unwrap(); assert_eq!(one.len(), 1);`
    pub fn embedded() -> &'static StrokeLibrary {
        Self::embedded_shared_ref()
    }

    /// The embedded library as a shareable handle, for a [`super::Synthesizer`].
    pub fn embedded_shared() -> Arc<StrokeLibrary> {
        Arc::clone(Self::embedded_shared_ref())
    }

    fn embedded_shared_ref() -> &'static Arc<StrokeLibrary> {
        static LIBRARY: OnceLock<Arc<StrokeLibrary>> = OnceLock::new();
        // The asset is part of the binary and checked by the tests, so failing here is a
        // build defect, not a user error.
        LIBRARY.get_or_init(|| {
            Arc::new(
                Self::from_bytes(EMBEDDED, Path::new(EMBEDDED_NAME)).expect("embedded stroke file"),
            )
        })
    }

    /// Reads a stroke file (gzipped or plain) in the format above.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses a stroke file's bytes; `path` names it in errors. Offsets in errors count bytes
    /// of the uncompressed data.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, DataError> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let data = gunzip(bytes, path)?;
            Parser {
                data: &data,
                pos: 0,
                path,
            }
            .library()
        } else {
            Parser {
                data: bytes,
                pos: 0,
                path,
            }
            .library()
        }
    }

    /// A library from strokes in the 1024 box (y down), e.g. to write a new stroke file.
    pub fn from_strokes(chars: impl IntoIterator<Item = (char, Strokes)>) -> Self {
        StrokeLibrary {
            chars: chars.into_iter().collect(),
        }
    }

    /// The file format, uncompressed, characters in codepoint order. Coordinates are rounded
    /// to the format's unit and clamped to the box; a character with more than 255 strokes or
    /// a stroke with more than 255 points (or none) is refused.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.chars.len() * 64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.chars.len() as u32).to_le_bytes());
        let mut keys: Vec<char> = self.chars.keys().copied().collect();
        keys.sort_unstable();
        for c in keys {
            let strokes = &self.chars[&c];
            let n = u8::try_from(strokes.len()).map_err(|_| format!("{c}: too many strokes"))?;
            if n == 0 {
                return Err(format!("{c}: no strokes"));
            }
            out.extend_from_slice(&(c as u32).to_le_bytes());
            out.push(n);
            for stroke in strokes {
                match u8::try_from(stroke.len()) {
                    Ok(len) if len > 0 => out.push(len),
                    _ => return Err(format!("{c}: a stroke has {} points", stroke.len())),
                }
                for p in stroke {
                    out.extend(p.iter().map(|v| (v / UNIT).round().clamp(0.0, 255.0) as u8));
                }
            }
        }
        Ok(out)
    }

    /// The strokes of `ch` in the 1024 box, y down, in writing order.
    pub fn get(&self, ch: char) -> Option<&[Vec<[f32; 2]>]> {
        self.chars.get(&ch).map(Vec::as_slice)
    }

    /// Strokes for a one-character symbol.
    pub fn get_symbol(&self, symbol: &str) -> Option<&[Vec<[f32; 2]>]> {
        single_char(symbol).and_then(|c| self.get(c))
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Whether `symbol` is one character with strokes here.
    pub fn contains(&self, symbol: &str) -> bool {
        self.get_symbol(symbol).is_some()
    }

    /// The charset's symbols that have no strokes here, in charset order.
    pub fn missing(&self, charset: &Charset) -> Vec<String> {
        charset
            .symbols
            .iter()
            .filter(|s| !self.contains(s))
            .cloned()
            .collect()
    }
}

/// `Some(c)` when `symbol` is exactly one character.
pub(crate) fn single_char(symbol: &str) -> Option<char> {
    let mut chars = symbol.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn gunzip(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let mut data = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut data)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => DataError::Truncated {
                path: path.to_path_buf(),
                offset: bytes.len() as u64,
                detail: "the gzip stream ends early".into(),
            },
            _ => DataError::invalid(path, format!("not a valid gzip stream: {e}")),
        })?;
    if data.len() as u64 > MAX_DECOMPRESSED {
        return Err(DataError::invalid(
            path,
            format!("decompresses to more than {MAX_DECOMPRESSED} bytes: not a stroke file"),
        ));
    }
    Ok(data)
}

/// A cursor over the uncompressed bytes that names the file and offset in every error.
struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl Parser<'_> {
    fn library(mut self) -> Result<StrokeLibrary, DataError> {
        let magic: [u8; 4] = self
            .take(4, "the magic number")?
            .try_into()
            .unwrap_or_default();
        if magic != MAGIC {
            return Err(DataError::BadMagic {
                path: self.path.to_path_buf(),
                found: u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]),
                expected: u32::from_be_bytes(MAGIC),
                what: "inkstone stroke file, \"IKST\"",
            });
        }
        let version = u16::from_le_bytes([self.u8("the version")?, self.u8("the version")?]);
        if version != VERSION {
            return Err(self.invalid(
                self.pos - 2,
                format!("stroke file version {version}, this build reads {VERSION}"),
            ));
        }
        let count = self.u32("the character count")? as usize;
        let room = (self.data.len() - self.pos) / MIN_RECORD;
        if count > room {
            return Err(self.invalid(
                self.pos - 4,
                format!("claims {count} characters but the remaining bytes hold at most {room}"),
            ));
        }
        let mut chars = HashMap::with_capacity(count);
        for i in 0..count {
            let at = self.pos;
            let (c, strokes) = self.character(i)?;
            if chars.insert(c, strokes).is_some() {
                return Err(self.invalid(at, format!("character {c:?} is listed twice")));
            }
        }
        if self.pos != self.data.len() {
            let extra = self.data.len() - self.pos;
            return Err(self.invalid(self.pos, format!("{extra} bytes after the last character")));
        }
        Ok(StrokeLibrary { chars })
    }

    fn character(&mut self, i: usize) -> Result<(char, Strokes), DataError> {
        let at = self.pos;
        let code = self.u32("a codepoint")?;
        let c = char::from_u32(code)
            .ok_or_else(|| self.invalid(at, format!("character {i}: 0x{code:x} is not a char")))?;
        let at = self.pos;
        let n = self.u8("a stroke count")?;
        if n == 0 {
            return Err(self.invalid(at, format!("character {c:?} has no strokes")));
        }
        let mut strokes = Vec::with_capacity(n as usize);
        for s in 0..n {
            let at = self.pos;
            let points = self.u8("a point count")? as usize;
            if points == 0 {
                return Err(self.invalid(at, format!("character {c:?} stroke {s} has no points")));
            }
            let bytes = self.take(2 * points, "stroke points")?;
            let stroke = bytes
                .chunks_exact(2)
                .map(|p| [p[0] as f32 * UNIT, p[1] as f32 * UNIT])
                .collect();
            strokes.push(stroke);
        }
        Ok((c, strokes))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], DataError> {
        let end = self.pos.saturating_add(n);
        if end > self.data.len() {
            return Err(DataError::Truncated {
                path: self.path.to_path_buf(),
                offset: self.data.len() as u64,
                detail: format!(
                    "{what} needs {n} bytes at offset {} of the uncompressed data",
                    self.pos
                ),
            });
        }
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self, what: &str) -> Result<u8, DataError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, DataError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn invalid(&self, offset: usize, detail: String) -> DataError {
        DataError::invalid(
            self.path,
            format!("at byte {offset} of the uncompressed data: {detail}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_embedded_library_has_every_gb2312_level1_character() {
        let lib = StrokeLibrary::embedded();
        assert!(lib.len() >= 3755, "{} characters", lib.len());
        assert_eq!(lib.missing(&Charset::gb2312_level1()), Vec::<String>::new());
        let strokes = |c| lib.get(c).map(<[_]>::len);
        assert_eq!(
            (strokes('一'), strokes('二'), strokes('十')),
            (Some(1), Some(2), Some(2))
        );
        assert!(lib.contains("永") && !lib.contains("7") && !lib.contains("一二"));
        assert_eq!(lib.missing(&Charset::digits()).len(), 10);
    }

    #[test]
    fn the_y_axis_points_down() {
        // 二's first stroke is the upper, shorter one.
        let two = StrokeLibrary::embedded().get('二').unwrap();
        let mean_y = |s: &Vec<[f32; 2]>| s.iter().map(|p| p[1]).sum::<f32>() / s.len() as f32;
        assert!(mean_y(&two[0]) < mean_y(&two[1]));
    }

    fn sample() -> StrokeLibrary {
        StrokeLibrary::from_strokes([
            ('一', vec![vec![[100.0, 500.0], [900.0, 480.0]]]),
            (
                '丨',
                vec![vec![[512.0, 80.0], [512.0, 940.0], [508.0, 1020.0]]],
            ),
        ])
    }

    #[test]
    fn a_written_file_reads_back_gzipped_or_plain() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = sample().to_bytes().unwrap();
        let plain = dir.path().join("plain.bin");
        std::fs::write(&plain, &bytes).unwrap();
        let gz = dir.path().join("strokes.bin.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for path in [plain, gz] {
            let lib = StrokeLibrary::from_file(&path).unwrap();
            assert_eq!(lib.len(), 2);
            assert_eq!(lib.get('丨').unwrap()[0][1], [512.0, 940.0]);
            assert_eq!(lib.get('丨').unwrap()[0][2], [508.0, 1020.0]);
        }
    }

    fn error_of(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad-strokes.bin");
        std::fs::write(&path, bytes).unwrap();
        let err = StrokeLibrary::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("bad-strokes.bin"), "{err}");
        err
    }

    #[test]
    fn corrupt_files_are_clear_errors_with_the_offset() {
        let good = sample().to_bytes().unwrap();
        assert!(error_of(b"").contains("truncated at byte 0"));
        assert!(error_of(b"PK\x03\x04rest").contains("wrong magic"));
        // Cut inside the second character's points.
        let cut = error_of(&good[..good.len() - 3]);
        assert!(
            cut.contains("truncated at byte") && cut.contains("stroke points"),
            "{cut}"
        );
        // A count that the bytes cannot hold is refused before anything is allocated.
        let mut huge = good.clone();
        huge[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = error_of(&huge);
        assert!(
            err.contains("at byte 6") && err.contains("4294967295"),
            "{err}"
        );
        // A stroke with zero points: the first character's first point count is at byte 15.
        let mut empty = good.clone();
        empty[15] = 0;
        assert!(error_of(&empty).contains("at byte 15"));
        let mut not_char = good.clone();
        not_char[10..14].copy_from_slice(&0xD800u32.to_le_bytes());
        assert!(error_of(&not_char).contains("at byte 10"));
        let mut extra = good.clone();
        extra.push(7);
        assert!(error_of(&extra).contains("1 bytes after"));
        let mut version = good.clone();
        version[4] = 9;
        assert!(error_of(&version).contains("version 9"));
        // A damaged gzip stream.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&good).unwrap();
        let gz = enc.finish().unwrap();
        assert!(error_of(&gz[..gz.len() / 2]).contains("truncated at byte"));
    }
}
