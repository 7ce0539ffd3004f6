//! Class index ↔ symbol. A model's output index means nothing without its charset, so the
//! charset travels inside every bundle and every packed file.
//!
//! Built-ins: `digits`, `gb2312-1` (the 3 755 GB2312 level-1 hanzi in GB order, decoded from
//! the GB2312 code table by `encoding_rs`), `chinese-numerals` (Chinese MNIST's 15 classes in
//! value order). A user charset is a UTF-8 file with one symbol per line.

use crate::DataError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Names accepted by [`Charset::builtin`].
pub const BUILTIN_CHARSETS: &[&str] = &["digits", "gb2312-1", "chinese-numerals"];

/// Chinese MNIST's characters by value: 0–10, 100, 1 000, 10 000, 100 000 000.
const CHINESE_NUMERALS: &str = "零一二三四五六七八九十百千万亿";

/// An ordered list of class symbols; class `i` is `symbols[i]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "CharsetFile", into = "CharsetFile")]
pub struct Charset {
    pub name: String,
    pub symbols: Vec<String>,
    /// Symbol → class, built once: the 3 755-class charsets are looked up for every record.
    index: HashMap<String, u32>,
}

/// The serialised form: name and symbols only.
#[derive(Serialize, Deserialize)]
struct CharsetFile {
    name: String,
    symbols: Vec<String>,
}

impl From<CharsetFile> for Charset {
    fn from(f: CharsetFile) -> Self {
        Charset::new(f.name, f.symbols)
    }
}

impl From<Charset> for CharsetFile {
    fn from(c: Charset) -> Self {
        CharsetFile {
            name: c.name,
            symbols: c.symbols,
        }
    }
}

impl PartialEq for Charset {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.symbols == other.symbols
    }
}

impl Eq for Charset {}

impl Charset {
    /// A charset from its symbols. A symbol listed twice keeps its first class index.
    pub fn new(name: impl Into<String>, symbols: Vec<String>) -> Self {
        let mut index = HashMap::with_capacity(symbols.len());
        for (i, s) in symbols.iter().enumerate() {
            index.entry(s.clone()).or_insert(i as u32);
        }
        Charset {
            name: name.into(),
            symbols,
            index,
        }
    }

    /// The ten Arabic digits, class `d` = digit `d`.
    pub fn digits() -> Self {
        Charset::new("digits", (0..10).map(|d| d.to_string()).collect())
    }

    /// Classes named by their index (`"0"`, `"1"`, …): for models whose symbols are not known,
    /// such as an untrained bundle made for a benchmark.
    pub fn numbered(classes: usize) -> Self {
        Charset::new(
            format!("classes-{classes}"),
            (0..classes).map(|i| i.to_string()).collect(),
        )
    }

    /// The 15 characters of Chinese MNIST, in the order of their values.
    pub fn chinese_numerals() -> Self {
        Charset::new(
            "chinese-numerals",
            CHINESE_NUMERALS.chars().map(String::from).collect(),
        )
    }

    /// GB2312 level 1: rows 16–55 of the code table (lead bytes 0xB0–0xD7, trail bytes
    /// 0xA1–0xFE), 94 per row except the last, which ends at 0xD7F9: 3 755 characters ordered
    /// by pinyin, as CASIA-HWDB's class list.
    pub fn gb2312_level1() -> Self {
        let symbols = (0xB0u8..=0xD7)
            .flat_map(|lead| (0xA1u8..=0xFE).map(move |trail| [lead, trail]))
            .filter(|code| *code <= [0xD7, 0xF9])
            .map(|code| decode_gb2312(code).expect("every level-1 code decodes"))
            .map(String::from)
            .collect();
        Charset::new("gb2312-1", symbols)
    }

    /// A built-in charset by name (see [`BUILTIN_CHARSETS`]).
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "digits" => Some(Self::digits()),
            "gb2312-1" => Some(Self::gb2312_level1()),
            "chinese-numerals" => Some(Self::chinese_numerals()),
            _ => None,
        }
    }

    /// A user charset: UTF-8, one symbol per line; blank lines are ignored, a symbol listed
    /// twice is an error (it would make two classes indistinguishable).
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let mut symbols = Vec::new();
        let mut seen = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let symbol = line.trim();
            if symbol.is_empty() {
                continue;
            }
            if let Some(first) = seen.insert(symbol.to_string(), n + 1) {
                return Err(DataError::invalid(
                    path,
                    format!(
                        "line {}: `{symbol}` is already class of line {first}",
                        n + 1
                    ),
                ));
            }
            symbols.push(symbol.to_string());
        }
        if symbols.is_empty() {
            return Err(DataError::invalid(path, "charset file lists no symbols"));
        }
        let name = path
            .file_stem()
            .map_or("user".into(), |s| s.to_string_lossy().into_owned());
        Ok(Charset::new(name, symbols))
    }

    /// A built-in name or a charset file.
    pub fn resolve(name_or_path: &str) -> Result<Self, DataError> {
        match Self::builtin(name_or_path) {
            Some(c) => Ok(c),
            None if Path::new(name_or_path).is_file() => Self::from_file(Path::new(name_or_path)),
            None => Err(DataError::invalid(
                Path::new(name_or_path),
                format!(
                    "not a built-in charset ({}) nor a charset file",
                    BUILTIN_CHARSETS.join(", ")
                ),
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The symbol of class `index`, or `?` for an index outside the charset.
    pub fn symbol(&self, index: usize) -> &str {
        self.symbols.get(index).map(String::as_str).unwrap_or("?")
    }

    /// The class index of a symbol.
    pub fn index_of(&self, symbol: &str) -> Option<u32> {
        self.index.get(symbol).copied()
    }
}

/// The character of a 2-byte GB2312 code (`[0xB0, 0xA1]` = 啊), or `None` for a code that is
/// not a GB2312 character.
pub fn decode_gb2312(code: [u8; 2]) -> Option<char> {
    if !(0xA1..=0xFE).contains(&code[0]) || !(0xA1..=0xFE).contains(&code[1]) {
        return None;
    }
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&code);
    let mut chars = text.chars();
    match (had_errors, chars.next(), chars.next()) {
        (false, Some(c), None) if c != '\u{FFFD}' && !('\u{E000}'..='\u{F8FF}').contains(&c) => {
            Some(c)
        }
        _ => None,
    }
}

/// The 2-byte GB2312 code of a character, if it has one.
pub fn encode_gb2312(c: char) -> Option<[u8; 2]> {
    let mut buf = [0u8; 4];
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    match (had_errors, bytes.as_ref()) {
        (false, &[a, b]) if (0xA1..=0xFE).contains(&a) && (0xA1..=0xFE).contains(&b) => {
            Some([a, b])
        }
        _ => None,
    }
}

/// Counts records whose label is not in the charset, when the user asked to skip them
/// (`--skip-unknown`); otherwise the first one is an error.
#[derive(Clone, Debug, Default)]
pub struct UnknownLabels {
    pub skip: bool,
    pub skipped: usize,
    /// The distinct unknown labels seen, for the report (capped).
    pub examples: Vec<String>,
}

impl UnknownLabels {
    pub fn new(skip: bool) -> Self {
        UnknownLabels {
            skip,
            ..Default::default()
        }
    }

    /// The class of `label`; `Ok(None)` for a counted skip; an error naming the file, the
    /// offset and the label otherwise.
    pub fn class_of(
        &mut self,
        charset: &Charset,
        label: &str,
        path: &Path,
        offset: u64,
    ) -> Result<Option<u32>, DataError> {
        if let Some(class) = charset.index_of(label) {
            return Ok(Some(class));
        }
        if !self.skip {
            return Err(DataError::invalid(
                path,
                format!(
                    "record at byte {offset}: label `{label}` is not in charset {} ({} classes); \
                     pass --skip-unknown to skip such records",
                    charset.name,
                    charset.len()
                ),
            ));
        }
        self.skipped += 1;
        if self.examples.len() < 10 && !self.examples.iter().any(|e| e == label) {
            self.examples.push(label.to_string());
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_both_ways() {
        let c = Charset::digits();
        assert_eq!(c.len(), 10);
        assert_eq!(c.symbol(7), "7");
        assert_eq!(c.index_of("3"), Some(3));
        assert_eq!(c.index_of("x"), None);
        assert_eq!(c.symbol(10), "?");
    }

    #[test]
    fn gb2312_level1_is_3755_characters_in_gb_order() {
        let c = Charset::gb2312_level1();
        assert_eq!(c.len(), 3755);
        // First and last of level 1, and the first of row 17 (0xB1A1).
        assert_eq!(c.symbol(0), "啊");
        assert_eq!(c.symbol(3754), "座");
        assert_eq!(c.symbol(94), "薄");
        let distinct: std::collections::HashSet<_> = c.symbols.iter().collect();
        assert_eq!(distinct.len(), 3755);
        assert!(c.symbols.iter().all(|s| s.chars().count() == 1));
        // Every Chinese MNIST numeral is a level-1 character.
        for n in Charset::chinese_numerals().symbols {
            assert!(c.index_of(&n).is_some(), "{n}");
        }
    }

    #[test]
    fn gb_codes_round_trip() {
        assert_eq!(decode_gb2312([0xB0, 0xA1]), Some('啊'));
        assert_eq!(encode_gb2312('啊'), Some([0xB0, 0xA1]));
        assert_eq!(encode_gb2312('A'), None);
        assert_eq!(decode_gb2312([0x41, 0x42]), None);
        // 0xD7FA..0xD7FE are unassigned in GB2312.
        assert_eq!(decode_gb2312([0xD7, 0xFA]), None);
        let c = Charset::gb2312_level1();
        for (i, s) in c.symbols.iter().enumerate().step_by(97) {
            let code = encode_gb2312(s.chars().next().unwrap()).unwrap();
            assert_eq!(c.index_of(s), Some(i as u32));
            assert_eq!(decode_gb2312(code).unwrap().to_string(), *s);
        }
    }

    #[test]
    fn chinese_numerals_in_value_order() {
        let c = Charset::chinese_numerals();
        assert_eq!(c.len(), 15);
        assert_eq!(c.index_of("零"), Some(0));
        assert_eq!(c.index_of("十"), Some(10));
        assert_eq!(c.index_of("亿"), Some(14));
    }

    #[test]
    fn user_files_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("mine.txt");
        std::fs::write(&good, "甲\n乙\n\n丙\n").unwrap();
        let c = Charset::from_file(&good).unwrap();
        assert_eq!((c.name.as_str(), c.len()), ("mine", 3));
        assert_eq!(c.index_of("丙"), Some(2));
        let dup = dir.path().join("dup.txt");
        std::fs::write(&dup, "甲\n乙\n甲\n").unwrap();
        let e = Charset::from_file(&dup).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("dup.txt"), "{e}");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "\n\n").unwrap();
        assert!(Charset::from_file(&empty).is_err());
        assert!(Charset::resolve("nope-charset").is_err());
        assert_eq!(Charset::resolve("digits").unwrap(), Charset::digits());
    }

    #[test]
    fn unknown_labels_are_an_error_or_a_counted_skip_never_class_0() {
        let c = Charset::chinese_numerals();
        let path = Path::new("x.gnt");
        let e = UnknownLabels::new(false)
            .class_of(&c, "啊", path, 120)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.gnt") && e.contains("120") && e.contains("啊"),
            "{e}"
        );
        let mut skip = UnknownLabels::new(true);
        assert_eq!(skip.class_of(&c, "啊", path, 0).unwrap(), None);
        assert_eq!(skip.class_of(&c, "啊", path, 9).unwrap(), None);
        assert_eq!(skip.class_of(&c, "一", path, 9).unwrap(), Some(1));
        assert_eq!((skip.skipped, skip.examples.len()), (2, 1));
    }

    #[test]
    fn serialises_as_name_and_symbols() {
        let c = Charset::chinese_numerals();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with("{\"name\":\"chinese-numerals\",\"symbols\":["));
        let back: Charset = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.index_of("亿"), Some(14));
    }
}
