//! `inkstone predict`: image files → top-k classes, through the bundle's own recipe and the
//! same recognizer the service uses.

use anyhow::{Context, Result};
use clap::Args;
use image::GrayImage;
use inkstone_data::image_file::load_gray;
use inkstone_data::Recipe;
use inkstone_model::recognizer::{Candidate, Recognizer};
use inkstone_model::Bundle;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct PredictArgs {
    /// A model bundle (`.inkstone`).
    bundle: PathBuf,
    /// Image files (PNG, JPEG, BMP, GIF, WebP, TIFF).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// How many candidates to print.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// One JSON object per image, for machines.
    #[arg(long)]
    json: bool,
    /// Also write each prepared model input as `<name>.input.png` here (to see what the model
    /// sees), and with test-time readings of photos each reading's as
    /// `<name>.input.<reading>.png`.
    #[arg(long)]
    save_inputs: Option<PathBuf>,
    /// Threads one network run spreads its matrix products over, or the bundle's test-time
    /// views run side by side on (default: all cores for views or a network large enough to
    /// gain from them, else one).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=crate::MAX_THREADS))]
    threads: Option<u16>,
}

#[derive(Serialize)]
struct Prediction {
    file: String,
    top: Vec<Candidate>,
    millis: f64,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)?;
    let threads = args.threads.map(usize::from);
    let recognizer = Recognizer::with_threads_or_worth(bundle, threads, crate::cores())
        .with_context(|| args.bundle.display().to_string())?;
    if let Some(dir) = &args.save_inputs {
        std::fs::create_dir_all(dir)?;
    }
    let mut failures = 0;
    for path in &args.images {
        let started = Instant::now();
        let image = match load_gray(path) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("error: {e}");
                failures += 1;
                continue;
            }
        };
        let recipe = &recognizer.bundle.recipe;
        let prepared = recipe.prepare_views(&image);
        if let Some(dir) = &args.save_inputs {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            save_inputs(recipe, &prepared, dir, &name)?;
        }
        let top = recognizer
            .rank_batch(recognizer.input_of(&prepared), 1, args.top_k)?
            .remove(0);
        let p = Prediction {
            file: path.display().to_string(),
            top,
            millis: started.elapsed().as_secs_f64() * 1e3,
        };
        if args.json {
            println!("{}", serde_json::to_string(&p)?);
        } else {
            let cands: Vec<String> = p
                .top
                .iter()
                .map(|c| format!("{} {:.1}%", c.char, 100.0 * c.prob))
                .collect();
            println!("{}: {}   ({:.1} ms)", p.file, cands.join("  "), p.millis);
        }
    }
    if failures > 0 {
        anyhow::bail!(
            "{failures} of {} images could not be read",
            args.images.len()
        );
    }
    Ok(())
}

/// Writes an image's inputs `prepared` by `recipe` (`Recipe::prepare_views`): its own as
/// `<name>.input.png` in `dir`, and with test-time readings each reading's too, as
/// `<name>.input.<reading>.png` (the recipe's own view of each).
fn save_inputs(recipe: &Recipe, prepared: &[GrayImage], dir: &Path, name: &str) -> Result<()> {
    let names = std::iter::once(String::new())
        .chain(recipe.readings.iter().map(|r| format!(".{}", r.name())));
    for (input, reading) in prepared.iter().zip(names) {
        let file = dir.join(format!("{name}.input{reading}.png"));
        input
            .save(&file)
            .with_context(|| format!("{}: cannot write", file.display()))?;
    }
    Ok(())
}
