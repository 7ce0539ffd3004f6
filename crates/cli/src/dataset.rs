//! `--data` arguments → sets for the commands: [`inkstone_data::open`], with skipped records
//! reported on stderr.

use anyhow::Result;
pub use inkstone_data::open::{
    default_recipe, label_options, prepare, synth_charset, synth_set, synth_style,
};
use inkstone_data::source::{LabelOptions, Loaded};
use inkstone_data::Split;

/// Reads `arg` (its own `:split`, else `split`), reporting skipped labels on stderr.
pub fn load(arg: &str, split: Split, labels: &LabelOptions) -> Result<(Loaded, String)> {
    let opened = inkstone_data::open::load(arg, split, labels)?;
    if let Some(note) = opened.skipped_note() {
        eprintln!("{note}");
    }
    Ok((opened.loaded, opened.name))
}
