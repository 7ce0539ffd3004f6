//! `inkstone data pack`: any readable source → one `.inkd` file of recipe-prepared samples.

use crate::dataset;
use crate::progress::CountProgress;
use anyhow::{bail, Context, Result};
use clap::Args;
use inkstone_data::charset::UnknownLabels;
use inkstone_data::packed::{PackWriter, PackedMeta, PackedSet};
use inkstone_data::source::DataSource;
use inkstone_data::Split;
use inkstone_data::{Charset, Recipe};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct PackArgs {
    /// Source format: auto, mnist, chinese-mnist, inkd, csv, gnt, pot, folder.
    #[arg(long, default_value = "auto")]
    from: String,
    /// Sources (files or folders; `:train`/`:test` picks a split where the source has them).
    #[arg(required = true)]
    sources: Vec<String>,
    #[arg(short, long)]
    out: PathBuf,
    /// Split read from sources that have splits and do not name one.
    #[arg(long, default_value = "train", value_parser = parse_split)]
    split: Split,
    /// Classes for file labels: digits, gb2312-1, chinese-numerals, or a file.
    #[arg(long)]
    charset: Option<String>,
    #[arg(long)]
    skip_unknown: bool,
    /// Input recipe: mnist or characters (default: mnist for digits, characters otherwise).
    #[arg(long)]
    recipe: Option<String>,
    /// Input side in pixels (default 28 for mnist, 64 for characters).
    #[arg(long)]
    input: Option<u32>,
}

pub fn parse_split(s: &str) -> Result<Split, String> {
    match s {
        "train" => Ok(Split::Train),
        "test" => Ok(Split::Test),
        _ => Err(format!("`{s}`: use train or test")),
    }
}

pub fn run(args: PackArgs) -> Result<()> {
    let labels = dataset::label_options(args.charset.as_deref(), args.skip_unknown)?;
    let mut unknown = UnknownLabels::new(args.skip_unknown);
    let started = Instant::now();
    let mut writer: Option<(PackWriter, Charset, Recipe)> = None;
    let mut progress = CountProgress::new("packing", None);
    let mut input_bytes = 0u64;
    for arg in &args.sources {
        let (source, split) = DataSource::parse_as(&args.from, arg).with_context(|| {
            format!(
                "--from {}: use one of {}",
                args.from,
                DataSource::FORMATS.join(", ")
            )
        })?;
        if let DataSource::Packed(path) = &source {
            bail!("{}: already a packed file", path.display());
        }
        // A split-less source is read whole, so its size on disk is what was read.
        if !source.has_splits() {
            input_bytes += disk_bytes(Path::new(&source.to_string()));
        }
        let name = source.to_string();
        source.stream(
            split.unwrap_or(args.split),
            &labels,
            &mut unknown,
            &mut |chunk| {
                if writer.is_none() {
                    let recipe = match &args.recipe {
                        Some(r) => Recipe::preset(r, args.input).ok_or_else(|| {
                            inkstone_data::DataError::invalid(
                                Path::new(r),
                                format!(
                                    "unknown recipe: use one of {}",
                                    Recipe::PRESETS.join(", ")
                                ),
                            )
                        })?,
                        None => {
                            let digits = chunk.charset.name == "digits";
                            let side = args.input.unwrap_or(if digits { 28 } else { 64 });
                            dataset::default_recipe(&chunk.charset, side)
                        }
                    };
                    let meta = PackedMeta {
                        charset: chunk.charset.clone(),
                        recipe: recipe.clone(),
                        source: args.sources.join(" "),
                    };
                    let w = PackWriter::create(&args.out, &meta)?;
                    writer = Some((w, chunk.charset.clone(), recipe));
                }
                let (w, charset, recipe) = writer.as_mut().expect("created above");
                if chunk.charset.symbols != charset.symbols {
                    return Err(inkstone_data::DataError::invalid(
                        Path::new(&name),
                        format!(
                            "its classes ({}) differ from the first source's ({}); pass --charset",
                            chunk.charset.name, charset.name
                        ),
                    ));
                }
                let prepared = PackedSet::prepare(&chunk, recipe, &name);
                for i in 0..prepared.len() {
                    w.push(prepared.label(i), &prepared.image(i))?;
                }
                progress.advance(prepared.len() as u64);
                Ok(())
            },
        )?;
    }
    progress.finish();
    let Some((w, charset, recipe)) = writer else {
        bail!("no samples read");
    };
    let count = w.finish()?;
    if count == 0 {
        std::fs::remove_file(&args.out).ok();
        bail!("no samples read (all skipped?)");
    }
    let seconds = started.elapsed().as_secs_f64();
    let out_bytes = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    if unknown.skipped > 0 {
        eprintln!(
            "skipped {} records with labels outside {} (e.g. {})",
            unknown.skipped,
            charset.name,
            unknown.examples.join(" ")
        );
    }
    let read = if input_bytes > 0 {
        format!("read {:.1} MB/s, ", input_bytes as f64 / 1e6 / seconds)
    } else {
        String::new()
    };
    println!(
        "{}: {count} samples, {} classes ({}), {}² inputs, {:.1} MB in {seconds:.1}s \
         ({:.0} samples/s; {read}wrote {:.1} MB/s)",
        args.out.display(),
        charset.len(),
        charset.name,
        recipe.input_size,
        out_bytes as f64 / 1e6,
        count as f64 / seconds,
        out_bytes as f64 / 1e6 / seconds,
    );
    Ok(())
}

/// Bytes on disk under `path` (a file, or a folder two levels deep: enough for the
/// layouts the readers accept). Only for the speed report.
fn disk_bytes(path: &Path) -> u64 {
    fn walk(path: &Path, depth: u32) -> u64 {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => m.len(),
            Ok(m) if m.is_dir() && depth > 0 => std::fs::read_dir(path).map_or(0, |entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| walk(&e.path(), depth - 1))
                    .sum()
            }),
            _ => 0,
        }
    }
    walk(path, 3)
}
