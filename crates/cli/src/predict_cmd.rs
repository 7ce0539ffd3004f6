//! `inkstone predict`: image files → top-k classes, through the bundle's own recipe.

use anyhow::Result;
use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};
use clap::Args;
use inkstone_data::image_file::load_gray;
use inkstone_model::Bundle;
use inkstone_train::evaluate::rank;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

type B = crate::device::CpuBackend;

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
    /// Also write each prepared model input as `<name>.input.png` here (to see what the model sees).
    #[arg(long)]
    save_inputs: Option<PathBuf>,
}

#[derive(Serialize)]
struct Candidate {
    label: usize,
    char: String,
    prob: f32,
}

#[derive(Serialize)]
struct Prediction {
    file: String,
    top: Vec<Candidate>,
    millis: f64,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)?;
    let device = Default::default();
    let network = bundle.network::<B>(&device)?;
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
        let prepared = bundle.recipe.prepare(&image);
        if let Some(dir) = &args.save_inputs {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            prepared.save(dir.join(format!("{name}.input.png")))?;
        }
        let side = bundle.recipe.input_size as usize;
        let mut input = Vec::with_capacity(side * side);
        bundle.recipe.append_input(&prepared, &mut input);
        let x = Tensor::<B, 4>::from_data(TensorData::new(input, [1, 1, side, side]), &device);
        let probs: Vec<f32> = softmax(network.forward(x), 1).into_data().to_vec()?;
        let top = rank(&probs, args.top_k)
            .into_iter()
            .map(|c| Candidate {
                label: c,
                char: bundle.charset.symbol(c).to_string(),
                prob: probs[c],
            })
            .collect();
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
