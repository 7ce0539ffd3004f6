//! Real handwriting through the binary: training on synthetic writers drawn afresh every
//! epoch (`--data synth:<charset>`), the real-handwriting figure beside the synthetic one
//! (`--real-test`), and photos made from clean samples (`data photos`) read by `eval`.

mod common;
use common::*;
use image::GenericImageView;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The epoch records of a run's `metrics.jsonl`.
fn epochs(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "epoch")
        .collect()
}

#[test]
fn synthetic_writers_train_a_model_and_resume_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let charset = dir.path().join("five.txt");
    std::fs::write(&charset, "永\n和\n九\n人\n口\n").unwrap();
    let train = |run: &Path, epochs: &str| {
        inkstone(&[
            "train",
            "--model",
            "lenet5",
            "--data",
            &format!("synth:{}", s(&charset)),
            "--synth-per-class",
            "24",
            "--input",
            "28",
            "--epochs",
            epochs,
            "--batch-size",
            "20",
            "--seed",
            "3",
            "--out",
            s(run),
        ])
    };
    let run = dir.path().join("run");
    let out = train(&run, "3");
    assert!(out.status.success(), "{}", stderr(&out));
    // 5 classes × 24 writers a epoch, and a held-out set of 2 writers a class.
    assert!(stderr(&out).contains("(120 samples)"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("held-out writers) (10)"),
        "{}",
        stderr(&out)
    );
    let records = epochs(&run);
    assert_eq!(records.len(), 3);
    let first = records[0]["train_loss"].as_f64().unwrap();
    let last = records[2]["train_loss"].as_f64().unwrap();
    assert!(
        last < first,
        "fresh samples every epoch still train: {first} → {last}"
    );
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"per_class\": 24"), "{config}");

    // Epochs are drawn from (seed, epoch, index), not from a running generator: the same
    // run again gives the same losses, epoch by epoch, and every epoch's samples are new.
    let again = dir.path().join("again");
    assert!(train(&again, "3").status.success());
    let repeated = epochs(&again);
    for (a, b) in records.iter().zip(&repeated) {
        assert_eq!(a["train_loss"], b["train_loss"]);
    }
}

#[test]
fn synthetic_options_are_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = inkstone(&[
        "train",
        "--data",
        "mnist",
        "--font",
        "x.ttf",
        "--out",
        s(&run),
    ]);
    assert_fails_with(&out, &["--font", "synth:"]);
    let out = inkstone(&[
        "train",
        "--data",
        "synth:digits",
        "--synth-per-class",
        "0",
        "--out",
        s(&run),
    ]);
    assert_fails_with(&out, &["--synth-per-class"]);
    // Digits have no strokes in the library: without a font they cannot be written.
    let out = inkstone(&["train", "--data", "synth:digits", "--out", s(&run)]);
    assert_fails_with(&out, &["synth:digits", "no strokes or font glyph"]);
    let out = inkstone(&[
        "train",
        "--data",
        "synth:gb2312-1",
        "--font",
        "/nonexistent/font.ttf",
        "--out",
        s(&run),
    ]);
    assert_fails_with(&out, &["/nonexistent/font.ttf"]);
    assert!(!run.exists(), "nothing written");
}

#[test]
fn the_real_handwriting_figure_is_recorded_beside_the_test_split() {
    let Some(cm) = shared_data("chinese-mnist") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let real = format!("{}:test", cm.display());
    let out = inkstone(&[
        "train",
        "--model",
        "lenet5",
        "--data",
        "synth:chinese-numerals",
        "--synth-per-class",
        "8",
        "--input",
        "28",
        "--epochs",
        "1",
        "--batch-size",
        "30",
        "--real-test",
        &real,
        "--out",
        s(&run),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("real "), "{}", stderr(&out));
    let record = &epochs(&run)[0];
    assert_eq!(record["real_data"], real.as_str());
    let top1 = record["real_top1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&top1), "{record}");
    // Also in the bundle's metrics, which `eval` and the service show.
    let bundle = std::fs::read(run.join("best.inkstone")).unwrap();
    let header = String::from_utf8_lossy(&bundle[..bundle.len().min(64 * 1024)]);
    assert!(
        header.contains("real_top1"),
        "bundle metadata lacks the real figure"
    );
}

#[test]
fn photos_of_clean_digits_are_made_once_per_seed_and_read_by_eval() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    let make = |out: &Path, seed: &str| {
        inkstone(&[
            "data",
            "photos",
            "mnist:test",
            "-o",
            s(out),
            "--limit",
            "30",
            "--seed",
            seed,
        ])
    };
    let out = make(&photos, "4");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("30 photos"), "{}", stdout(&out));
    let again = dir.path().join("again");
    assert!(make(&again, "4").status.success());
    let conditions = std::fs::read_to_string(photos.join("conditions.csv")).unwrap();
    assert_eq!(conditions.lines().count(), 31);
    assert_eq!(
        conditions,
        std::fs::read_to_string(again.join("conditions.csv")).unwrap()
    );
    let first = conditions
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert_eq!(
        std::fs::read(photos.join(first)).unwrap(),
        std::fs::read(again.join(first)).unwrap(),
        "same seed, same photo"
    );
    // Refuses to overwrite, and a packed file is not a source of photos.
    assert_fails_with(&make(&photos, "4"), &["already exists"]);
    // The photos are an ordinary labelled image folder: a model evaluates on them.
    let run = dir.path().join("run");
    train_lenet5(&run, 1, Some(20), 1, &[]);
    let bundle = run.join("best.inkstone");
    let out = inkstone(&["eval", s(&bundle), "--data", s(&photos)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("samples 30"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("by photo condition (conditions.csv):")
            && stdout(&out).contains("  ink       "),
        "{}",
        stdout(&out)
    );
    // The report's page has the table too.
    let report = dir.path().join("report");
    let out = inkstone(&[
        "eval",
        s(&bundle),
        "--data",
        s(&photos),
        "--report",
        s(&report),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(page.contains("<h2>By photo condition</h2>") && page.contains("<td>ink</td>"));
    // By condition: each factor splits the same 30 photos, and the right ones add up to top-1.
    let out = inkstone(&["eval", s(&bundle), "--data", s(&photos), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let right = (v["top1"].as_f64().unwrap() * 30.0).round() as u64;
    let tallies = v["by_condition"]
        .as_array()
        .expect("photos have conditions");
    for factor in [
        "ink", "paper", "ruling", "gradient", "shadow", "writing", "margin",
    ] {
        let sums = tallies
            .iter()
            .filter(|t| t["factor"] == factor)
            .fold((0, 0), |(r, n), t| {
                (
                    r + t["right"].as_u64().unwrap(),
                    n + t["total"].as_u64().unwrap(),
                )
            });
        assert_eq!(sums, (right, 30), "{factor}");
    }
    // A clean set has no captions, and no conditions.
    let out = inkstone(&["eval", s(&bundle), "--data", "mnist:test", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("by_condition"), "{}", stdout(&out));
    // A photo missing from the captions names itself.
    let captions = photos.join("conditions.csv");
    let kept: Vec<String> = std::fs::read_to_string(&captions)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(first))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&captions, kept.concat()).unwrap();
    let out = inkstone(&["eval", s(&bundle), "--data", s(&photos)]);
    assert_fails_with(&out, &[first, "not in conditions.csv"]);
}

#[test]
fn photo_readings_choose_alike_in_eval_and_predict_and_leave_clean_digits_alone() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    let out = inkstone(&[
        "data",
        "photos",
        "mnist:test",
        "-o",
        s(&photos),
        "--limit",
        "40",
        "--seed",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = dir.path().join("run");
    train_lenet5(&run, 1, Some(40), 1, &[]);
    let plain = run.join("best.inkstone");
    let read = dir.path().join("read.inkstone");
    let readings = [
        "--reading",
        "even-light",
        "--reading",
        "local-grain",
        "--reading",
        "faint",
    ];
    let mut args = vec!["model", "readings", s(&plain)];
    args.extend(readings);
    args.extend(["-o", s(&read)]);
    let out = inkstone(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 test-time readings") && stdout(&out).contains("4 network runs"),
        "{}",
        stdout(&out)
    );
    let top1 = |bundle: &Path, data: &Path| {
        let out = inkstone(&["eval", s(bundle), "--data", s(data), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        v["top1"].as_f64().unwrap()
    };
    // eval (Burn) and predict (tract) choose the same reading of each photo.
    let files: Vec<String> = std::fs::read_to_string(photos.join("conditions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| s(&photos.join(l.split(',').next().unwrap())).to_string())
        .collect();
    let predict = |bundle: &Path| {
        let mut args = vec!["predict", s(bundle), "--json", "--top-k", "1"];
        args.extend(files.iter().map(String::as_str));
        let out = inkstone(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let (read_answers, plain_answers) = (predict(&read), predict(&plain));
    // The other readings change what the network says of some photos.
    let sure = |p: &serde_json::Value| p["top"][0]["prob"].as_f64().unwrap();
    let mut pairs = read_answers.iter().zip(&plain_answers);
    assert!(pairs.any(|(r, p)| (sure(r) - sure(p)).abs() > 1e-3));
    let right = read_answers
        .iter()
        .filter(|p| {
            let file = p["file"].as_str().unwrap();
            let truth = Path::new(file).parent().unwrap().file_name().unwrap();
            p["top"][0]["char"].as_str().unwrap() == truth.to_str().unwrap()
        })
        .count();
    assert_eq!(files.len(), 40);
    let eval_right = (top1(&read, &photos) * 40.0).round() as usize;
    assert_eq!(eval_right, right, "eval and predict read the photos alike");
    // --save-inputs shows each reading of a photo.
    let seen = dir.path().join("seen");
    let out = inkstone(&["predict", s(&read), &files[0], "--save-inputs", s(&seen)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stem = Path::new(&files[0]).file_stem().unwrap().to_str().unwrap();
    for reading in ["", ".even-light", ".local-grain", ".faint"] {
        let input = seen.join(format!("{stem}.input{reading}.png"));
        assert_eq!(
            image::open(&input).unwrap().dimensions(),
            (28, 28),
            "{reading}"
        );
    }
    // A clean digit has no paper to read another way: the same figure as without readings.
    let mnist = Path::new("mnist");
    assert_eq!(top1(&read, mnist), top1(&plain, mnist));
    // Each reading once, by its name; none takes them off.
    let twice = inkstone(&[
        "model",
        "readings",
        s(&plain),
        "--reading",
        "faint",
        "--reading",
        "faint",
        "-o",
        s(&dir.path().join("x")),
    ]);
    assert_fails_with(&twice, &["--reading faint", "twice"]);
    let unknown = inkstone(&[
        "model",
        "readings",
        s(&plain),
        "--reading",
        "bright",
        "-o",
        s(&dir.path().join("x")),
    ]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("even-light, local-grain, faint"));
    assert!(!dir.path().join("x").exists(), "nothing written");
    let off = dir.path().join("off.inkstone");
    let out = inkstone(&["model", "readings", s(&read), "-o", s(&off)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundle = inkstone_model::Bundle::load(&off).unwrap();
    assert!(bundle.recipe.readings.is_empty());
}
