//! `inkstone report`: training runs side by side on one static HTML page.

use anyhow::{Context, Result};
use clap::Args;
use inkstone_train::report::compare::write_comparison;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// Run directories written by `inkstone train` (each with config.json and metrics.jsonl).
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// The page to write: configs (differences highlighted), overlaid curves, final results.
    #[arg(short, long, value_name = "FILE", default_value = "report.html")]
    out: PathBuf,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let shown = write_comparison(&args.runs, &args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    for line in &shown.skipped {
        eprintln!("skipped: {line}");
    }
    println!(
        "{}: {} run(s) compared, {} problem(s) listed",
        args.out.display(),
        shown.runs.len(),
        shown.skipped.len()
    );
    Ok(())
}
