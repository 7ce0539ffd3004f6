//! `inkstone eval --report DIR`: a folder that shows where a model goes wrong.
//!
//! - `confusion.png`: the confusion heatmap (all classes up to 40, else the 30 most confused);
//! - `per_class.csv`: `class,symbol,correct,total,accuracy`;
//! - `errors.png`: the misrecognised samples' model-input images, one cell each, up to 100;
//! - `index.html`: totals, the accuracy by photo condition (photos of `data photos`), the
//!   heatmap, the most confused pairs, each shown error with its truth and top-3
//!   probabilities, per-class accuracy. Static: opens from disk.

pub mod compare;
pub mod confusion;
pub mod gallery;
mod html;

use crate::evaluate::{Evaluation, Misrecognised};
use crate::plots::glyph;
use crate::plots::render::{render_png, write};
use crate::plots::PlotError;
use confusion::{
    heatmap_classes, most_confused_pairs, plot_label, symbols_drawable, ConfusionFigure,
};
use inkstone_data::packed::PackedSet;
use inkstone_data::photo::ConditionTally;
use inkstone_data::Charset;
use std::path::Path;

pub use html::{base64, escape};

/// Errors drawn in the gallery and listed in the page, at most.
pub const MAX_ERRORS_SHOWN: usize = 100;
/// Rows of the "most confused pairs" table.
pub const MAX_PAIRS: usize = 50;

/// What a report is made from: an evaluation with its errors, on `set`.
pub struct ReportInput<'a> {
    /// What was evaluated on what, for the page's heading.
    pub title: &'a str,
    pub evaluation: &'a Evaluation,
    /// Every misrecognised sample (from [`crate::evaluate::evaluate_with_errors`]).
    pub errors: &'a [Misrecognised],
    pub set: &'a PackedSet,
    pub charset: &'a Charset,
    /// Accuracy by photo condition, for photos made by `data photos` (empty otherwise).
    pub conditions: &'a [ConditionTally],
}

/// How much of the errors the report shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportSummary {
    pub errors: usize,
    pub shown: usize,
}

/// Writes the report's files into `dir` (created if needed), each atomically.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<ReportSummary, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // Symbols the plot font writes (digits, letters) are text, CJK ones are drawn from the
    // stroke library, anything else is named by index with a legend in the page.
    let written = symbols_drawable(input.charset);
    let drawn = !written && glyph::all_in_library(input.charset);
    let by_symbol = written || drawn;
    let label = |c: usize| plot_label(input.charset, by_symbol, c);
    let confusion = &input.evaluation.confusion;
    let classes = heatmap_classes(confusion);
    let labels = classes.iter().map(|&c| label(c)).collect();
    let figure = ConfusionFigure {
        drawn,
        ..ConfusionFigure::new(confusion, classes.clone(), labels)
    };
    let side = figure.side();
    write(
        &dir.join("confusion.png"),
        &render_png(&figure, (side, side))?,
    )?;
    write(&dir.join("per_class.csv"), per_class_csv(input).as_bytes())?;

    let shown = most_confident(input.errors, MAX_ERRORS_SHOWN);
    if !shown.is_empty() {
        let png = gallery::gallery_png(&shown, input.set, &label, drawn)?;
        write(&dir.join("errors.png"), &png)?;
    } else {
        // A stale gallery from an earlier report into the same folder would be a lie.
        let _ = std::fs::remove_file(dir.join("errors.png"));
    }
    let images = shown
        .iter()
        .map(|e| {
            let png = sample_png(input.set, e.index)?;
            Ok((e, png))
        })
        .collect::<Result<Vec<_>, PlotError>>()?;
    let pairs = most_confused_pairs(confusion, MAX_PAIRS);
    let page = html::Page {
        input,
        by_symbol,
        heatmap_classes: &classes,
        pairs: &pairs,
        shown: &images,
    };
    write(&dir.join("index.html"), page.render().as_bytes())?;
    Ok(ReportSummary {
        errors: input.errors.len(),
        shown: shown.len(),
    })
}

/// The `limit` errors the network was surest of (label noise and true look-alikes show up
/// first), ties in set order.
fn most_confident(errors: &[Misrecognised], limit: usize) -> Vec<Misrecognised> {
    let confidence = |e: &Misrecognised| e.top.first().map_or(0.0, |t| t.1);
    let mut sorted = errors.to_vec();
    sorted.sort_by(|a, b| {
        confidence(b)
            .total_cmp(&confidence(a))
            .then(a.index.cmp(&b.index))
    });
    sorted.truncate(limit);
    sorted
}

fn sample_png(set: &PackedSet, index: usize) -> Result<Vec<u8>, PlotError> {
    let mut png = Vec::new();
    set.image(index)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| PlotError::Draw(format!("PNG encoding: {e}")))?;
    Ok(png)
}

fn per_class_csv(input: &ReportInput) -> String {
    let mut csv = String::from("class,symbol,correct,total,accuracy\n");
    for (c, &(right, total)) in input.evaluation.per_class.iter().enumerate() {
        let accuracy = right as f64 / total.max(1) as f64;
        let symbol = csv_field(input.charset.symbol(c));
        csv.push_str(&format!("{c},{symbol},{right},{total},{accuracy:.6}\n"));
    }
    csv
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("7"), "7");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn most_confident_errors_come_first_and_are_capped() {
        let e = |index, p| Misrecognised {
            index,
            truth: 0,
            top: vec![(1, p)],
        };
        let errors = [e(0, 0.4), e(1, 0.9), e(2, 0.6)];
        let shown: Vec<usize> = most_confident(&errors, 2).iter().map(|e| e.index).collect();
        assert_eq!(shown, [1, 2]);
    }
}
