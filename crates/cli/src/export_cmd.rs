//! `inkstone export`: a bundle as an ONNX model.

use anyhow::{Context, Result};
use clap::Args;
use inkstone_data::atomic::write_atomically;
use inkstone_model::Bundle;
use std::path::PathBuf;

#[derive(Args)]
pub struct ExportArgs {
    /// A model bundle (`.inkstone`).
    bundle: PathBuf,
    /// Where to write the `.onnx` file (opset 17, dynamic batch axis `N`, input `input`,
    /// output `logits`; spec, recipe and charset in metadata_props).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)?;
    let bytes = inkstone_model::onnx::export(&bundle)
        .with_context(|| format!("{}: cannot export", args.bundle.display()))?;
    write_atomically(&args.output, &bytes).with_context(|| args.output.display().to_string())?;
    println!(
        "{}: {} ({} classes, {} bytes)",
        args.output.display(),
        bundle.spec.name,
        bundle.spec.classes,
        bytes.len()
    );
    Ok(())
}
