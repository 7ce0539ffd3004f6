//! The README's main job, end to end through the binary: train on the embedded digits, then
//! evaluate and predict with the bundle it wrote.

mod common;
use common::*;
use inkstone_data::embedded;
use inkstone_data::Split;
use inkstone_model::Bundle;
use std::sync::OnceLock;

/// One short training run shared by the tests in this file.
fn trained() -> &'static (tempfile::TempDir, std::path::PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        train_lenet5(&run, 2, Some(40), 7, &[]);
        (dir, run)
    })
}

#[test]
fn train_writes_a_complete_run_directory() {
    let (_, run) = trained();
    for file in [
        "config.json",
        "metrics.jsonl",
        "best.inkstone",
        "last.inkstone",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = metrics
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (steps, epochs): (Vec<_>, Vec<_>) = records.into_iter().partition(|r| r["kind"] == "step");
    assert_eq!(epochs.len(), 2);
    // A step record every 10 of the 2 × 40 steps.
    assert_eq!(steps.len(), 8, "{metrics}");
    let loss = |i: usize| epochs[i]["train_loss"].as_f64().unwrap();
    assert!(loss(1) < loss(0), "training loss falls: {metrics}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["seed"], 7);
    // A second run into the same folder must not clobber the first.
    let again = inkstone(&["train", "--epochs", "1", "--out", run.to_str().unwrap()]);
    assert_fails_with(&again, &["already holds a run"]);
}

#[test]
fn eval_reports_accuracy_consistent_with_training() {
    let (_, run) = trained();
    let bundle = run.join("best.inkstone");
    let out = inkstone(&[
        "eval",
        bundle.to_str().unwrap(),
        "--data",
        "mnist:test",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let e: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let top1 = e["top1"].as_f64().unwrap();
    assert!(
        top1 > 0.8,
        "80 steps of LeNet-5 reach > 80% on the held-out digits, got {top1}"
    );
    assert!(e["top5"].as_f64().unwrap() >= top1);
    assert!(e["top10"].as_f64().unwrap() >= e["top5"].as_f64().unwrap());
    assert_eq!(e["samples"], 1996);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let best = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] != "step")
        .map(|r| r["test_top1"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        (best - top1).abs() < 1e-9,
        "eval {top1} vs best epoch {best}"
    );
    let text = inkstone(&["eval", bundle.to_str().unwrap()]);
    assert!(stdout(&text).contains("confusion"), "{}", stdout(&text));
}

#[test]
fn predict_reads_photos_of_digits_through_the_recipe() {
    let (dir, run) = trained();
    let bundle = run.join("best.inkstone");
    let test = embedded::load(Split::Test);
    let samples: Vec<_> = test.samples.iter().step_by(97).take(12).collect();
    let paths: Vec<String> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            write_png(
                dir.path(),
                &format!("photo{i}.png"),
                &photo_of(&s.image, 240),
            )
            .display()
            .to_string()
        })
        .collect();
    let mut args = vec![
        "predict",
        bundle.to_str().unwrap(),
        "--json",
        "--top-k",
        "3",
    ];
    args.extend(paths.iter().map(String::as_str));
    let out = inkstone(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let predictions: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(predictions.len(), samples.len());
    let mut right = 0;
    for (p, s) in predictions.iter().zip(&samples) {
        let top = p["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let probs: Vec<f64> = top.iter().map(|c| c["prob"].as_f64().unwrap()).collect();
        assert!(probs.windows(2).all(|w| w[0] >= w[1]), "sorted: {probs:?}");
        right += (top[0]["label"] == s.label) as usize;
    }
    assert!(
        right >= 9,
        "only {right} of {} photographed digits recognised",
        samples.len()
    );
}

#[test]
fn predict_bad_inputs_fail_with_one_line_naming_the_file() {
    let (dir, run) = trained();
    let bundle = run.join("best.inkstone");
    let b = bundle.to_str().unwrap();
    let p = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let missing = dir.path().join("nope.png").display().to_string();
    assert_fails_with(&inkstone(&["predict", b, &missing]), &["nope.png"]);
    assert_fails_with(
        &inkstone(&["predict", b, &p("empty.png", b"")]),
        &["empty.png", "empty file"],
    );
    assert_fails_with(
        &inkstone(&["predict", b, &p("text.png", b"just text")]),
        &["text.png", "unknown image format"],
    );
    // A real PNG header claiming 20000×20000: refused from the header, no giant allocation.
    let mut png = Vec::new();
    image::GrayImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..24].copy_from_slice(&[0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20]);
    let mut crc = flate2::Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    assert_fails_with(
        &inkstone(&["predict", b, &p("huge.png", &png)]),
        &["huge.png", "limit"],
    );
    let truncated = &png[..20];
    assert_fails_with(
        &inkstone(&["predict", b, &p("cut.png", truncated)]),
        &["cut.png"],
    );
    // A 1×1 image is valid input: it is predicted (as whatever a blank input is), not refused.
    let tiny = write_png(dir.path(), "tiny.png", &image::GrayImage::new(1, 1));
    let out = inkstone(&["predict", b, tiny.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Not a bundle at all, and a bundle whose spec does not match its weights.
    let fake = p("fake.inkstone", b"not a model");
    assert_fails_with(
        &inkstone(&["predict", &fake, tiny.to_str().unwrap()]),
        &["fake.inkstone", "not an inkstone bundle"],
    );
    let mut other = inkstone_model::Bundle::load(&bundle).unwrap();
    other.spec = inkstone_model::builtin::builtin("digitcnn", 10, 28).unwrap();
    let other_path = dir.path().join("other.inkstone");
    other.save(&other_path).unwrap();
    assert_fails_with(
        &inkstone(&[
            "predict",
            other_path.to_str().unwrap(),
            tiny.to_str().unwrap(),
        ]),
        &["other.inkstone", "do not match the spec `digitcnn`"],
    );
}

#[test]
fn model_summary_prints_lenet5_figures() {
    let out = inkstone(&["model", "summary", "lenet5"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("total: 61706 parameters"),
        "{}",
        stdout(&out)
    );
    let out = inkstone(&["model", "summary", "nosuchmodel"]);
    assert_fails_with(&out, &["nosuchmodel", "not a built-in model"]);
}

#[test]
fn export_writes_an_onnx_file_that_tract_runs_like_predict() {
    let (dir, run) = trained();
    let bundle = run.join("best.inkstone");
    let onnx = dir.path().join("model.onnx");
    let out = inkstone(&[
        "export",
        bundle.to_str().unwrap(),
        "-o",
        onnx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    use tract_onnx::prelude::*;
    let model = tract_onnx::onnx()
        .model_for_path(&onnx)
        .unwrap()
        .with_input_fact(0, f32::fact([1, 1, 28, 28]).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let loaded = inkstone_model::Bundle::load(&bundle).unwrap();
    let digit = &embedded::load(Split::Test).samples[3];
    let mut input = Vec::new();
    loaded
        .recipe
        .append_input(&loaded.recipe.prepare(&digit.image), &mut input);
    let x = tract_ndarray::Array4::from_shape_vec((1, 1, 28, 28), input.clone()).unwrap();
    let logits = model.run(tvec!(Tensor::from(x).into())).unwrap();
    let tract_logits: Vec<f32> = logits[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    // The same input through Burn, the training backend.
    type Flex = burn::backend::Flex;
    let device = Default::default();
    let burn_logits: Vec<f32> = loaded
        .network::<Flex>(&device)
        .unwrap()
        .forward(burn::tensor::Tensor::from_data(
            burn::tensor::TensorData::new(input, [1, 1, 28, 28]),
            &device,
        ))
        .into_data()
        .to_vec()
        .unwrap();
    for (a, b) in tract_logits.iter().zip(&burn_logits) {
        assert!((a - b).abs() < 1e-4, "tract {a} vs burn {b}");
    }
    let best = (0..10)
        .max_by(|&a, &b| burn_logits[a].total_cmp(&burn_logits[b]))
        .unwrap();
    let png = write_png(dir.path(), "digit3.png", &digit.image);
    let predicted = inkstone(&[
        "predict",
        bundle.to_str().unwrap(),
        png.to_str().unwrap(),
        "--json",
    ]);
    let p: serde_json::Value = serde_json::from_str(&stdout(&predicted)).unwrap();
    assert_eq!(
        p["top"][0]["label"], best,
        "predict on the bundle agrees with Burn"
    );
    let bad = inkstone(&["export", "/no/such.inkstone", "-o", onnx.to_str().unwrap()]);
    assert_fails_with(&bad, &["/no/such.inkstone"]);
}

#[test]
fn init_starts_from_a_bundles_weights_and_refuses_another_model() {
    let (_, run) = trained();
    let bundle = run.join("best.inkstone");
    let best = Bundle::load(&bundle).unwrap().metrics["test_top1"]
        .as_f64()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One step at a vanishing learning rate: the weights are the bundle's, so is the accuracy.
    let tuned = dir.path().join("tuned");
    train_lenet5(
        &tuned,
        1,
        Some(1),
        9,
        &[
            "--lr",
            "1e-12",
            "--schedule",
            "constant",
            "--warmup-epochs",
            "0",
            "--init",
            bundle.to_str().unwrap(),
        ],
    );
    let tuned_top1 = Bundle::load(&tuned.join("best.inkstone")).unwrap().metrics["test_top1"]
        .as_f64()
        .unwrap();
    assert!(
        (tuned_top1 - best).abs() < 1e-9,
        "started from {best}, got {tuned_top1}"
    );
    let config = std::fs::read_to_string(tuned.join("config.json")).unwrap();
    assert!(config.contains("\"init\""), "{config}");

    let other = dir.path().join("other");
    // Another model, and LeNet-5 at another side (its linear layer is sized by its input).
    for model in [
        &["--model", "digitcnn"][..],
        &["--model", "lenet5", "--input", "32"],
    ] {
        let mut args = vec!["train"];
        args.extend_from_slice(model);
        args.extend(["--init", bundle.to_str().unwrap()]);
        args.extend(["--out", other.to_str().unwrap()]);
        let out = inkstone(&args);
        assert_fails_with(
            &out,
            &[bundle.to_str().unwrap(), "--init holds model `lenet5`"],
        );
        assert!(
            !other.exists(),
            "{model:?}: a run folder was made for a refused --init"
        );
    }
}

#[test]
fn data_info_describes_every_split_unless_one_is_named() {
    let whole = inkstone(&["data", "info", "mnist"]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let text = stdout(&whole);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("mnist: 10000 samples (train 8004, test 1996)"),
        "{text}"
    );
    for (args, line) in [
        (
            &["data", "info", "mnist:test"][..],
            "mnist:test: 1996 samples",
        ),
        (
            &["data", "info", "mnist", "--split", "train"][..],
            "mnist:train: 8004 samples",
        ),
    ] {
        let out = inkstone(args);
        assert!(stdout(&out).starts_with(line), "{args:?}: {}", stdout(&out));
    }
}
