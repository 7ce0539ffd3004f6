//! Helpers shared by the end-to-end tests: run the real binary, make images.
#![allow(dead_code)]

use image::{GrayImage, Luma};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn inkstone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inkstone"))
        .args(args)
        .output()
        .expect("run inkstone")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Trains LeNet-5 on the embedded digits into `run` for `epochs` (of at most `steps` steps,
/// when given) with `seed` and any `extra` flags; panics with its stderr if it fails.
pub fn train_lenet5(run: &Path, epochs: u32, steps: Option<u32>, seed: u32, extra: &[&str]) {
    let (epochs, seed) = (epochs.to_string(), seed.to_string());
    let steps = steps.map(|s| s.to_string());
    let mut args = vec!["train", "--model", "lenet5", "--data", "mnist"];
    args.extend(["--epochs", &epochs, "--seed", &seed]);
    if let Some(steps) = &steps {
        args.extend(["--max-steps-per-epoch", steps]);
    }
    args.extend(extra);
    args.extend(["--out", run.to_str().expect("UTF-8 path")]);
    let out = inkstone(&args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

/// Asserts exit code 1 and a single `error:` line on stderr that contains every `needle`.
pub fn assert_fails_with(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(!lines.is_empty(), "no error line in: {err}");
    for needle in needles {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "`{needle}` not in: {err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
}

pub fn shared_data(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is absent (CI provides it)", dir.display());
        None
    }
}

/// An MNIST digit as if photographed: dark ink on light, slightly uneven paper, enlarged
/// to `side`², placed off-centre.
pub fn photo_of(digit: &GrayImage, side: u32) -> GrayImage {
    let scale = side as f32 / 28.0 * 0.6;
    GrayImage::from_fn(side, side, |x, y| {
        let (sx, sy) = (
            (x as f32 - side as f32 * 0.1) / scale,
            (y as f32 - side as f32 * 0.25) / scale,
        );
        let ink = if (0.0..28.0).contains(&sx) && (0.0..28.0).contains(&sy) {
            digit.get_pixel(sx as u32, sy as u32).0[0] as f32
        } else {
            0.0
        };
        let paper = 215.0 + 20.0 * (x as f32 / side as f32) + ((x * 31 + y * 17) % 7) as f32;
        Luma([(paper - ink * 0.8).clamp(0.0, 255.0) as u8])
    })
}

pub fn write_png(dir: &Path, name: &str, image: &GrayImage) -> PathBuf {
    let path = dir.join(name);
    image.save(&path).unwrap();
    path
}
