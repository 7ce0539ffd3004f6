//! `inkstone data synth`: a charset rendered as synthetic handwriting (stroke medians of the
//! embedded library, optionally Kai fonts), prepared by the recipe and packed into `.inkd`.

use crate::dataset;
use crate::progress::CountProgress;
use anyhow::{bail, Context, Result};
use clap::Args;
use inkstone_data::packed::{PackWriter, PackedMeta};
use inkstone_data::synth::{StrokeLibrary, SynthSet, SynthStyle, Synthesizer};
use inkstone_data::{Charset, Recipe};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct SynthArgs {
    /// Classes to render: gb2312-1, chinese-numerals, digits, or a file (one per line).
    #[arg(long, default_value = "gb2312-1")]
    charset: String,
    /// Samples per class.
    #[arg(long, default_value_t = 10)]
    per_class: usize,
    #[arg(short, long)]
    out: PathBuf,
    /// Seed: the same seed gives the same file; use another one for a test set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Input recipe: characters, characters-raw (no stroke-width normalisation) or mnist.
    #[arg(long, default_value = "characters")]
    recipe: String,
    /// Input side in pixels.
    #[arg(long, default_value_t = 64)]
    input: u32,
    /// Side of the raw rendering, before the recipe crops and resizes it.
    #[arg(long, default_value_t = 96)]
    raw_side: u32,
    /// Fonts to mix in (e.g. a Kai font): TrueType/OpenType/WOFF/WOFF2 files or folders of
    /// them; repeatable. Each `--font` is one family (one writer, drawn as often as any other,
    /// however many files its folder holds).
    #[arg(long)]
    font: Vec<PathBuf>,
    /// Share of samples drawn from the fonts when fonts are given (overrides the style's).
    #[arg(long, default_value_t = 0.3)]
    font_fraction: f32,
    /// The writers' style: JSON (`'{"cursive": [0.2, 0.8], "stroke_scale": 0.2}'`, every field
    /// optional, the rest as the default writer) or a JSON file.
    #[arg(long, value_name = "JSON|FILE")]
    style: Option<String>,
    /// A stroke file in the embedded library's format, instead of the embedded one.
    #[arg(long)]
    strokes: Option<PathBuf>,
    /// Skip symbols that have neither strokes nor a font glyph (default: an error).
    #[arg(long)]
    skip_missing: bool,
}

/// Classes rendered between two writes: bounds memory, keeps every core busy.
const BLOCK: usize = 64;

pub fn run(args: SynthArgs) -> Result<()> {
    let charset = Charset::resolve(&args.charset)?;
    let recipe = Recipe::preset(&args.recipe, Some(args.input)).with_context(|| {
        format!(
            "--recipe {}: use one of {}",
            args.recipe,
            Recipe::PRESETS.join(", ")
        )
    })?;
    let library = match &args.strokes {
        Some(path) => std::sync::Arc::new(StrokeLibrary::from_file(path)?),
        None => StrokeLibrary::embedded_shared(),
    };
    let base = match &args.style {
        Some(style) => dataset::synth_style(style).context("--style")?,
        None => SynthStyle::default(),
    };
    let style = SynthStyle {
        font_fraction: args.font_fraction,
        ..base
    };
    let synth = Synthesizer::new(library, style).with_fonts(&args.font)?;
    let mut set = SynthSet::new(
        synth,
        charset.clone(),
        recipe.clone(),
        args.per_class,
        args.seed,
    );
    set.raw_side = args.raw_side;
    let missing = set.synth.missing(&charset);
    if !missing.is_empty() && !args.skip_missing {
        let message = set.missing_message().unwrap_or_default();
        bail!("{message}; pass --font or --skip-missing");
    }
    let meta = PackedMeta {
        charset: charset.clone(),
        recipe: recipe.clone(),
        source: format!(
            "synth charset={} per_class={} seed={} raw_side={} fonts={:?}",
            charset.name, args.per_class, args.seed, args.raw_side, args.font
        ),
    };
    let mut writer = PackWriter::create(&args.out, &meta)?;
    let total = (charset.len() - missing.len()) * args.per_class;
    let mut progress = CountProgress::new("synthesising", Some(total as u64));
    let started = Instant::now();
    let threads = crate::cores();
    let classes: Vec<usize> = (0..charset.len()).collect();
    for block in classes.chunks(BLOCK) {
        let per_thread = block.len().div_ceil(threads);
        let rendered: Vec<Vec<(u32, image::GrayImage)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = block
                .chunks(per_thread)
                .map(|part| {
                    let set = &set;
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(part.len() * set.per_class);
                        for &class in part {
                            // Writer k writes sample k of every class, as in a real
                            // collection; the draw is 0 for files (epochs use their seed).
                            for k in 0..set.per_class {
                                let index = k * set.charset.len() + class;
                                if let Some(raw) = set.raw(index, 0) {
                                    out.push((class as u32, set.recipe.prepare(&raw)));
                                }
                            }
                        }
                        out
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("synthesis thread panicked"))
                .collect()
        });
        for (label, image) in rendered.into_iter().flatten() {
            writer.push(label, &image)?;
            progress.advance(1);
        }
    }
    progress.finish();
    let count = writer.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    println!(
        "{}: {count} samples of {} classes ({}), {}² inputs, {:.1} MB in {seconds:.1}s ({:.0} samples/s)",
        args.out.display(),
        charset.len() - missing.len(),
        charset.name,
        recipe.input_size,
        bytes as f64 / 1e6,
        count as f64 / seconds
    );
    Ok(())
}
