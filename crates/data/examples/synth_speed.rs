//! How fast the synthesizer writes, on one thread:
//!
//! ```text
//! cargo run --release -p inkstone-data --example synth_speed -- [N] [SIDE] [--font F] [--samples DIR]
//! ```
//!
//! Renders N (default 20 000) random GB2312 level-1 characters at SIDE (default 64) and prints
//! images per second. With `--samples DIR` it also saves a few renders there as PNGs.

use inkstone_data::synth::{SynthStyle, Synthesizer};
use inkstone_data::Charset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut numbers = Vec::new();
    let (mut font, mut samples) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--font" => font = args.next(),
            "--samples" => samples = args.next(),
            _ => numbers.push(arg.parse::<u32>().map_err(|e| format!("{arg}: {e}"))?),
        }
    }
    let n = numbers.first().copied().unwrap_or(20_000);
    let side = numbers.get(1).copied().unwrap_or(64);
    let mut synth = Synthesizer::embedded(SynthStyle::default());
    if let Some(font) = &font {
        synth = synth.with_fonts([font]).map_err(|e| e.to_string())?;
    }
    let charset = Charset::gb2312_level1();
    let mut rng = StdRng::seed_from_u64(0);

    // Parse the embedded library before the clock starts.
    synth.render("一", &mut rng, side);
    let start = Instant::now();
    let mut ink = 0u64;
    for _ in 0..n {
        let symbol = charset.symbol(rng.random_range(0..charset.len()));
        let image = synth.render(symbol, &mut rng, side).ok_or("no strokes")?;
        ink += image.as_raw().iter().filter(|&&p| p < 128).count() as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{n} images of {side}×{side} in {seconds:.2} s: {:.0} images/s on one thread \
         (fonts: {}, mean ink {:.1}%)",
        n as f64 / seconds,
        synth.fonts.len(),
        100.0 * ink as f64 / (n as f64 * (side * side) as f64)
    );

    if let Some(dir) = samples {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
        for (i, symbol) in ["永", "我", "一", "川", "爱", "7"].iter().enumerate() {
            for seed in 0..8u64 {
                let mut rng = StdRng::seed_from_u64(seed);
                if let Some(image) = synth.render(symbol, &mut rng, side) {
                    let path = format!("{dir}/{i}-{symbol}-{seed}.png");
                    image.save(&path).map_err(|e| format!("{path}: {e}"))?;
                }
            }
        }
        println!("samples in {dir}");
    }
    Ok(())
}
