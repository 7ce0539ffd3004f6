//! The CUDA backend, built with `--features cuda` (CI builds this feature with clippy only; run
//! `cargo test --release -p inkstone --features cuda --test cuda`):
//! - on a machine without the NVIDIA driver, `--device cuda` is one line naming the missing
//!   library, exit status 1, and no run folder;
//! - on a machine with a GPU, training on `cuda:0` follows the CPU's loss curve from the same
//!   initial weights, data order and seed.
#![cfg(feature = "cuda")]

mod common;

use common::{assert_fails_with, inkstone, stderr};
use std::path::Path;

fn driver_installed() -> bool {
    std::process::Command::new("ldconfig")
        .arg("-p")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("libcuda.so"))
        .unwrap_or(false)
}

#[test]
fn cuda_without_the_driver_is_one_line_naming_libcuda_and_writes_nothing() {
    if driver_installed() {
        eprintln!("SKIPPED: this machine has libcuda.so");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = inkstone(&[
        "train",
        "--device",
        "cuda:0",
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_fails_with(&out, &["cuda:0", "libcuda.so", "not found"]);
    assert!(!run.exists(), "a run folder was made");
    let out = inkstone(&["bench", "train", "--model", "lenet5", "--device", "cuda"]);
    assert_fails_with(&out, &["cuda:0", "libcuda.so"]);
}

#[test]
fn an_unreadable_cubecl_toml_is_one_line_naming_it() {
    // cubecl reads `cubecl.toml` from the working folder or above, and panics on one it cannot
    // parse; with or without a driver, that is checked before any GPU work.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cubecl.toml"), "[autotune]\nlevel = 7\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inkstone"))
        .args(["bench", "train", "--model", "lenet5", "--device", "cuda:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_fails_with(&out, &["cuda:0", "cubecl.toml", "could not be read"]);
}

#[test]
fn a_kernel_cache_that_cannot_be_made_is_a_warning_naming_it() {
    // cubecl would skip it silently; the run goes on without a cache (here it then stops at
    // the missing driver, or trains where there is one).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let cache = file.join("cache");
    let out = inkstone(&[
        "--cuda-cache",
        cache.to_str().unwrap(),
        "bench",
        "train",
        "--model",
        "lenet5",
        "--steps",
        "1",
        "--device",
        "cuda:0",
    ]);
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning: CUDA kernel cache") && l.contains("a-file/cache")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// The step and epoch records of a run: (train loss every 10 steps, test top-1 per epoch).
fn curves(run: &Path) -> (Vec<f64>, Vec<f64>) {
    let records: Vec<serde_json::Value> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps = records
        .iter()
        .filter(|r| r["kind"] == "step")
        .map(|r| r["loss"].as_f64().unwrap())
        .collect();
    let epochs = records
        .iter()
        .filter_map(|r| r["test_top1"].as_f64())
        .collect();
    (steps, epochs)
}

/// Trains `model` from the same initial weights, data order and seed on the CPU and on
/// `cuda:0` with each of `kernels` (`--cuda-kernels`), and checks that the CPU run wrote
/// `step_records` step records and that the CUDA curves follow the CPU's: float sums in another
/// order drift apart slowly; a wrong kernel shows at once. Skips, saying so, without a driver.
fn cuda_follows_cpu(
    model: &str,
    init_args: &[&str],
    train_args: &[&str],
    step_records: usize,
    kernels: &[&str],
) {
    if !driver_installed() {
        eprintln!("SKIPPED: no libcuda.so on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The same initial weights for all (the backends' random generators differ).
    let init = dir.path().join("init.inkstone");
    let mut args = vec!["model", "init", model, "-o", init.to_str().unwrap()];
    args.extend_from_slice(init_args);
    let out = inkstone(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let train = |device: &str, kernels: &str| {
        let run = dir
            .path()
            .join(format!("{}-{kernels}", device.replace(':', "-")));
        let mut args = vec![
            "train",
            "--device",
            device,
            "--cuda-kernels",
            kernels,
            "--init",
            init.to_str().unwrap(),
            "--data",
            "mnist",
            "--seed",
            "5",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend_from_slice(train_args);
        let out = inkstone(&args);
        assert!(out.status.success(), "{device} {kernels}: {}", stderr(&out));
        curves(&run)
    };
    let (cpu_steps, cpu_epochs) = train("cpu", "autotune");
    assert_eq!(cpu_steps.len(), step_records, "{model}: {cpu_steps:?}");
    for kernels in kernels {
        let (gpu_steps, gpu_epochs) = train("cuda:0", kernels);
        assert_eq!(cpu_steps.len(), gpu_steps.len(), "{model} {kernels}");
        for (i, (c, g)) in cpu_steps.iter().zip(&gpu_steps).enumerate() {
            assert!(
                (c - g).abs() <= 0.02 * c.abs().max(0.1),
                "{model} {kernels}, step record {i}: cpu loss {c}, cuda {g}"
            );
        }
        for (c, g) in cpu_epochs.iter().zip(&gpu_epochs) {
            assert!(
                (c - g).abs() < 0.01,
                "{model} {kernels}, test top-1: cpu {c}, cuda {g}"
            );
        }
    }
}

#[test]
fn cuda_training_follows_the_cpu_loss_curve() {
    let steps = ["--epochs", "2", "--max-steps-per-epoch", "60"];
    let kernels = ["autotune", "fixed", "fixed-mma", "fixed-async", "fixed-tma"];
    cuda_follows_cpu("lenet5", &[], &steps, 12, &kernels);
}

#[test]
fn cuda_resnet18_follows_the_cpu_loss_curve() {
    // Batch norm, strided and 1×1 convolutions, the residual adds: ResNet-18's own kernels,
    // on digits at 28×28 so that the CPU half stays short. Autotune is left out: on a machine
    // that has not tuned these shapes it benchmarks for minutes (bench/gpu_check.sh times it).
    let init = ["--input", "28", "--classes", "10"];
    let steps = [
        "--epochs",
        "1",
        "--max-steps-per-epoch",
        "30",
        "--batch-size",
        "32",
    ];
    cuda_follows_cpu("resnet18", &init, &steps, 3, &["fixed"]);
}
