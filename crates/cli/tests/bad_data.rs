//! Bad datasets and mismatched models through the binary: one `error:` line naming the file,
//! exit code 1, and no run directory left behind.

mod common;
use common::*;
use flate2::{write::GzEncoder, Compression};
use inkstone_data::idx::{encode_images, encode_labels, IdxImages};
use std::io::Write;
use std::path::Path;

fn mnist_folder(dir: &Path, images: &[u8], labels: &[u8]) {
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(labels).unwrap();
        std::fs::write(
            dir.join(format!("{split}-labels-idx1-ubyte.gz")),
            gz.finish().unwrap(),
        )
        .unwrap();
    }
}

fn train_on(data: &Path, out: &Path) -> std::process::Output {
    inkstone(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn broken_idx_folders_fail_cleanly_and_write_nothing() {
    let images = encode_images(&IdxImages {
        rows: 28,
        cols: 28,
        pixels: vec![7; 3 * 784],
    });
    let labels = encode_labels(&[1, 2, 3]);
    // (case, images file, labels file, what the error must say)
    type Case<'a> = (&'a str, Vec<u8>, Vec<u8>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "truncated",
            images[..images.len() - 10].to_vec(),
            labels.clone(),
            vec!["train-images-idx3-ubyte", "truncated"],
        ),
        (
            "swapped",
            labels.clone(),
            labels.clone(),
            vec!["train-images-idx3-ubyte", "wrong magic"],
        ),
        (
            "count",
            images.clone(),
            encode_labels(&[1, 2]),
            vec!["3 images", "2 labels"],
        ),
        (
            "label",
            images.clone(),
            encode_labels(&[1, 2, 30]),
            vec!["train-labels-idx1-ubyte.gz", "label 30"],
        ),
        (
            "empty",
            Vec::new(),
            labels.clone(),
            vec!["train-images-idx3-ubyte", "truncated at byte 0"],
        ),
    ];
    for (name, imgs, labs, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        mnist_folder(dir.path(), &imgs, &labs);
        let out_dir = dir.path().join("run");
        assert_fails_with(&train_on(dir.path(), &out_dir), &needles);
        assert!(
            !out_dir.exists(),
            "{name}: a run directory was created for data that cannot load"
        );
    }
    let nowhere = tempfile::tempdir().unwrap();
    assert_fails_with(
        &train_on(&nowhere.path().join("missing"), &nowhere.path().join("run")),
        &["missing", "not a folder"],
    );
}

#[test]
fn model_and_data_that_do_not_match_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = inkstone(&[
        "train",
        "--epochs",
        "1",
        "--max-steps-per-epoch",
        "2",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut letters = inkstone_model::Bundle::load(&run.join("last.inkstone")).unwrap();
    letters.charset =
        inkstone_data::Charset::new("letters", ('a'..='j').map(String::from).collect());
    let path = dir.path().join("letters.inkstone");
    letters.save(&path).unwrap();
    let eval = inkstone(&["eval", path.to_str().unwrap(), "--data", "mnist"]);
    assert_fails_with(&eval, &["letters.inkstone", "letters", "digits"]);
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, r#"{"name":"wide","input":[1,32,32],"classes":10,"layers":[{"kind":"flatten"},{"kind":"linear","out":10}]}"#).unwrap();
    let train = inkstone(&[
        "train",
        "--model",
        spec.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        dir.path().join("r2").to_str().unwrap(),
    ]);
    assert_fails_with(&train, &["1×28²"]);
}

#[test]
fn an_unknown_cuda_kernel_choice_is_refused_naming_the_choices() {
    // A global option, refused by every build (with or without the cuda feature) before the
    // command starts, whether given as a flag or through the environment.
    let flag = inkstone(&["--cuda-kernels", "fastest", "model", "summary", "lenet5"]);
    let env = std::process::Command::new(env!("CARGO_BIN_EXE_inkstone"))
        .args(["model", "summary", "lenet5"])
        .env("INKSTONE_CUDA_KERNELS", "fastest")
        .output()
        .unwrap();
    for out in [flag, env] {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("'fastest'"), "{err}");
        assert!(err.contains("autotune") && err.contains("fixed"), "{err}");
        assert!(stdout(&out).is_empty());
    }
    let fixed = inkstone(&["--cuda-kernels", "fixed", "model", "summary", "lenet5"]);
    assert!(fixed.status.success(), "{}", stderr(&fixed));
}

#[test]
fn out_of_range_numbers_are_refused_before_a_run_folder_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let mut spoiled = inkstone_train::TrainConfig::defaults_for("lenet5");
    spoiled.label_smoothing = 2.0;
    std::fs::write(&config, serde_json::to_string(&spoiled).unwrap()).unwrap();
    let config = config.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--batch-size", "0"], &["--batch-size 0", "batch_size"]),
        (&["--epochs", "0"], &["--epochs 0"]),
        (&["--lr", "inf"], &["--lr inf", "above 0"]),
        (
            &["--config", config],
            &["--label-smoothing 2", "label_smoothing"],
        ),
        (&["--input", "8"], &["--input 8", "lenet5", "at least 12"]),
    ];
    for (i, (flags, needles)) in cases.into_iter().enumerate() {
        let run = dir.path().join(format!("run{i}"));
        let mut args = vec!["train", "--out", run.to_str().unwrap()];
        args.extend_from_slice(flags);
        assert_fails_with(&inkstone(&args), needles);
        assert!(!run.exists(), "{flags:?} made {}", run.display());
    }
}

#[test]
fn thread_counts_out_of_range_are_refused_naming_the_flag() {
    let cases: [&[&str]; 4] = [
        &["predict", "no.inkstone", "x.png", "--threads", "0"],
        &["predict", "no.inkstone", "x.png", "--threads", "65535"],
        &["serve", "--op-threads", "2000"],
        &["bench", "predict", "no.inkstone", "x.png", "--threads", "0"],
    ];
    for args in cases {
        let out = inkstone(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("threads") && err.contains("1..=1024"),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn bundles_of_one_model_average_and_of_two_models_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for (name, model) in [("a", "lenet5"), ("b", "lenet5"), ("c", "digitcnn")] {
        let out = inkstone(&["model", "init", model, "-o", &path(name)]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let soup = path("soup.inkstone");
    let out = inkstone(&["model", "average", &path("a"), &path("b"), "-o", &soup]);
    assert!(out.status.success(), "{}", stderr(&out));
    let eval = inkstone(&["eval", &soup, "--data", "mnist"]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let mixed = path("mixed.inkstone");
    let out = inkstone(&["model", "average", &path("a"), &path("c"), "-o", &mixed]);
    assert_fails_with(&out, &["c", "model differs"]);
    assert!(!Path::new(&mixed).exists(), "nothing written");
}

#[test]
fn test_time_views_are_set_checked_and_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let out = inkstone(&["model", "init", "lenet5", "-o", &path("a")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let viewed = path("viewed.inkstone");
    let out = inkstone(&[
        "model",
        "views",
        &path("a"),
        "--view",
        "16:1",
        "--view",
        "20:1.5:1.2",
        "--view",
        "20:1:1:-0.2",
        "-o",
        &viewed,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 test-time views"),
        "{}",
        stdout(&out)
    );
    let bundle = inkstone_model::Bundle::load(Path::new(&viewed)).unwrap();
    assert_eq!(bundle.recipe.views.len(), 3);
    let v = bundle.recipe.views[1];
    assert_eq!((v.fit, v.pen_scale, v.aspect, v.slant), (20, 1.5, 1.2, 0.0));
    let v = bundle.recipe.views[2];
    assert_eq!(
        (v.fit, v.pen_scale, v.aspect, v.slant),
        (20, 1.0, 1.0, -0.2)
    );
    assert_eq!(
        bundle.recipe.views[0].aspect, 1.0,
        "no stretch unless asked"
    );
    let eval = inkstone(&["eval", &viewed, "--data", "mnist", "--json"]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    // No --view takes them off again.
    let plain = path("plain.inkstone");
    let out = inkstone(&["model", "views", &viewed, "-o", &plain]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(inkstone_model::Bundle::load(Path::new(&plain))
        .unwrap()
        .recipe
        .views
        .is_empty());
    for (view, complaint) in [
        ("40:1", "does not fit the model's 28 px input"),
        ("25", "expected FIT:PEN"),
        ("20:0", "pen scale"),
        ("20:1:0", "stretch"),
        ("20:1:1:1.5", "slant"),
        ("20:1:1:0:1", "expected FIT:PEN[:ASPECT[:SLANT]]"),
    ] {
        let refused = path("refused.inkstone");
        let out = inkstone(&["model", "views", &path("a"), "--view", view, "-o", &refused]);
        // A malformed value is a usage error (clap's exit 2), a misfit one a run error (1).
        assert!(!out.status.success(), "{view}");
        assert!(stderr(&out).contains(complaint), "{view}: {}", stderr(&out));
        assert!(!Path::new(&refused).exists(), "{view}: nothing written");
    }
}
