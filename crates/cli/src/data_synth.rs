//! `inkstone data synth`: a charset rendered as synthetic handwriting (stroke medians of the
//! embedded library, optionally Kai fonts), prepared by the recipe and packed into `.inkd`.

use crate::progress::CountProgress;
use anyhow::{bail, Context, Result};
use clap::Args;
use inkstone_data::packed::{PackWriter, PackedMeta};
use inkstone_data::synth::{StrokeLibrary, SynthStyle, Synthesizer};
use inkstone_data::{Charset, Recipe};
use rand::SeedableRng;
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
    /// Input recipe: characters or mnist.
    #[arg(long, default_value = "characters")]
    recipe: String,
    /// Input side in pixels.
    #[arg(long, default_value_t = 64)]
    input: u32,
    /// Side of the raw rendering, before the recipe crops and resizes it.
    #[arg(long, default_value_t = 96)]
    raw_side: u32,
    /// TrueType/OpenType fonts to mix in (e.g. a Kai font); repeatable.
    #[arg(long)]
    font: Vec<PathBuf>,
    /// Share of samples drawn from the fonts when fonts are given.
    #[arg(long, default_value_t = 0.3)]
    font_fraction: f32,
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
    let recipe = Recipe::preset(&args.recipe, Some(args.input))
        .with_context(|| format!("--recipe {}: use characters or mnist", args.recipe))?;
    let library = match &args.strokes {
        Some(path) => std::sync::Arc::new(StrokeLibrary::from_file(path)?),
        None => StrokeLibrary::embedded_shared(),
    };
    let style = SynthStyle {
        font_fraction: args.font_fraction,
        ..SynthStyle::default()
    };
    let synth = Synthesizer::new(library, style).with_fonts(&args.font)?;
    let missing: Vec<&String> = charset
        .symbols
        .iter()
        .filter(|s| !synth.can_render(s))
        .collect();
    if !missing.is_empty() && !args.skip_missing {
        bail!(
            "{} of {} symbols of {} have no strokes or font glyph (e.g. {}); pass --font or --skip-missing",
            missing.len(),
            charset.len(),
            charset.name,
            missing.iter().take(10).map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
        );
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
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let classes: Vec<usize> = (0..charset.len()).collect();
    for block in classes.chunks(BLOCK) {
        let per_thread = block.len().div_ceil(threads);
        let rendered: Vec<Vec<(u32, image::GrayImage)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = block
                .chunks(per_thread)
                .map(|part| {
                    let (synth, charset, recipe) = (&synth, &charset, &recipe);
                    let (per_class, seed, raw) = (args.per_class, args.seed, args.raw_side);
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(part.len() * per_class);
                        for &class in part {
                            for k in 0..per_class {
                                // Seeded per (seed, class, k): the file does not depend on
                                // the thread count.
                                let s = seed
                                    ^ (class as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                                    ^ (k as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                                let mut rng = rand::rngs::StdRng::seed_from_u64(s);
                                if let Some(raw) =
                                    synth.render(charset.symbol(class), &mut rng, raw)
                                {
                                    out.push((class as u32, recipe.prepare(&raw)));
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
