//! Chinese MNIST (15 000 64×64 JPEGs of the numerals 零…亿, 100 writers × 10 tries × 15
//! characters): `chinese_mnist.csv` + `images/input_{suite}_{sample}_{code}.jpg`.
//!
//! The split is by writer (the CSV's `suite_id`), never by sample: a model must recognise
//! people it has not seen. Writers whose suite id is a multiple of 5 (20 of 100) are the test
//! split, so both splits span the whole collection.

use crate::charset::UnknownLabels;
use crate::image_folder::{load_files, LabelledFile};
use crate::sample::Split;
use crate::{Charset, DataError, Dataset};
use std::path::Path;

pub const INDEX_FILE: &str = "chinese_mnist.csv";

/// Whether `dir` looks like a Chinese MNIST folder.
pub fn is_chinese_mnist(dir: &Path) -> bool {
    dir.join(INDEX_FILE).is_file()
}

/// Whether a writer belongs to the test split.
pub fn is_test_writer(suite_id: u32) -> bool {
    suite_id.is_multiple_of(5)
}

/// The files of one split with their characters.
pub fn files(dir: &Path, split: Split) -> Result<Vec<LabelledFile>, DataError> {
    let csv_path = dir.join(INDEX_FILE);
    let mut reader = csv::Reader::from_path(&csv_path)
        .map_err(|e| DataError::invalid(&csv_path, e.to_string()))?;
    let mut files = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let bad = |what: &str| DataError::invalid(&csv_path, format!("row {}: {what}", row + 2));
        let record = record.map_err(|e| bad(&e.to_string()))?;
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        let number = |i: usize| {
            field(i)
                .parse::<u32>()
                .map_err(|_| bad("suite_id, sample_id and code must be numbers"))
        };
        let (suite, sample, code) = (number(0)?, number(1)?, number(2)?);
        if is_test_writer(suite) != (split == Split::Test) {
            continue;
        }
        files.push(LabelledFile {
            path: dir
                .join("images")
                .join(format!("input_{suite}_{sample}_{code}.jpg")),
            label: field(4).to_string(),
        });
    }
    if files.is_empty() {
        return Err(DataError::invalid(
            &csv_path,
            format!("no {split} samples listed"),
        ));
    }
    Ok(files)
}

/// One split, decoded, labelled through the 15-character `chinese-numerals` charset.
pub fn load(dir: &Path, split: Split) -> Result<Dataset, DataError> {
    let files = files(dir, split)?;
    load_files(
        &format!("chinese-mnist:{split}"),
        &files,
        &Charset::chinese_numerals(),
        &mut UnknownLabels::new(false),
    )
}
