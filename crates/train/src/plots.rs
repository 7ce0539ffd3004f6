//! Plots of a run, drawn from its `metrics.jsonl` after every epoch: `loss`, `accuracy` and
//! `lr` against the epoch and `loss_steps` (train loss and accuracy every 10 steps) against the
//! step, each as PNG and SVG in the run directory.
//!
//! ```no_run
//! use inkstone_train::plots::{write_training_plots, LrCurve};
//! use inkstone_train::schedule::LrSchedule;
//! let lr = LrCurve::new(&LrSchedule::constant(0.01), 10, 469);
//! write_training_plots("runs/a".as_ref(), &lr)?;
//! # Ok::<(), inkstone_train::plots::PlotError>(())
//! ```

mod curves;
pub mod glyph;
mod metrics;
pub mod render;

pub use curves::{AccuracyFigure, LossFigure, LrCurve, LrFigure, StepLossFigure};
pub use metrics::{parse_metrics, parse_steps, read_metrics, EpochRecord, StepRecord};
pub use render::{render_png, render_svg, save_figure, Figure};

use std::path::{Path, PathBuf};

/// Size of each training plot, in pixels (SVG user units).
pub const PLOT_SIZE: (u32, u32) = (800, 500);

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("the built-in plot font did not load")]
    Font,
}

/// What [`write_training_plots`] drew from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlotInput {
    pub epochs: usize,
    /// Lines of `metrics.jsonl` that were not valid records.
    pub skipped_lines: usize,
}

/// Reads `run_dir/metrics.jsonl` and (re)writes `loss`, `loss_steps`, `accuracy` and `lr`
/// `.png`/`.svg`.
pub fn write_training_plots(run_dir: &Path, lr: &LrCurve) -> Result<PlotInput, PlotError> {
    let path = run_dir.join("metrics.jsonl");
    let bytes = std::fs::read(&path).map_err(|source| PlotError::Io { path, source })?;
    // A write torn inside a multi-byte character must spoil only its own line.
    let text = String::from_utf8_lossy(&bytes);
    let (records, skipped_lines) = parse_metrics(&text);
    save_figure(&LossFigure(&records), run_dir, "loss", PLOT_SIZE)?;
    let steps = parse_steps(&text);
    save_figure(&StepLossFigure(&steps), run_dir, "loss_steps", PLOT_SIZE)?;
    save_figure(&AccuracyFigure(&records), run_dir, "accuracy", PLOT_SIZE)?;
    let epochs_done = records.iter().map(|r| r.epoch).max().unwrap_or(0);
    let figure = LrFigure {
        curve: lr,
        epochs_done,
    };
    save_figure(&figure, run_dir, "lr", PLOT_SIZE)?;
    Ok(PlotInput {
        epochs: records.len(),
        skipped_lines,
    })
}
