//! `train --precision bf16|fp16`: mixed precision trains LeNet-5 as well as fp32 does on the
//! embedded digits, records its precision in the run's config, and saves fp32 bundles.

mod common;

use common::{inkstone, stderr, train_lenet5};
use inkstone_model::Bundle;
use std::path::Path;

/// Trains 2 × 40 steps in `precision` into `run`; returns the best test top-1.
fn train(run: &Path, precision: &str) -> f64 {
    train_lenet5(run, 2, Some(40), 3, &["--precision", precision]);
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|r| r["test_top1"].as_f64())
        .fold(0.0, f64::max)
}

#[test]
fn sixteen_bit_training_matches_fp32_accuracy_and_saves_fp32_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let fp32 = train(&dir.path().join("fp32"), "fp32");
    assert!(fp32 > 0.8, "fp32 reached only {fp32}");
    for precision in ["bf16", "fp16"] {
        let run = dir.path().join(precision);
        let top1 = train(&run, precision);
        // 1 996 test digits: 2 points is 40 digits, far more than rounding should cost.
        assert!(
            (top1 - fp32).abs() < 0.02,
            "{precision} reached {top1}, fp32 {fp32}"
        );
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["precision"], precision);
        // fp16 step records carry the loss scale (a power of two) and the skipped steps.
        let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        let step: serde_json::Value =
            serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
        assert_eq!(step["kind"], "step");
        if precision == "fp16" {
            let scale = step["loss_scale"].as_f64().expect("loss_scale");
            assert_eq!(scale.log2().fract(), 0.0, "{scale}");
            assert!(step["skipped_steps"].as_u64().is_some(), "{step}");
        } else {
            assert!(step.get("loss_scale").is_none(), "{step}");
        }
        let bundle = Bundle::load(&run.join("best.inkstone")).unwrap();
        assert!(bundle
            .weights
            .values()
            .all(|t| t.values.iter().all(|v| v.is_finite())));
    }
    // An fp32 config does not name its precision, so runs from before the flag still resume.
    let config = std::fs::read_to_string(dir.path().join("fp32/config.json")).unwrap();
    assert!(!config.contains("precision"), "{config}");
    let out = inkstone(&["train", "--precision", "fp8", "--epochs", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("use fp32, bf16 or fp16"));
}
