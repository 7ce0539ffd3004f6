//! `inkstone report`'s page: two good runs and a half-written one side by side. Every run
//! with something valid is shown, each problem is listed once, and the page stays static.

use inkstone_train::report::compare::{write_comparison, CompareError, Comparison};
use inkstone_train::TrainConfig;
use std::path::{Path, PathBuf};

fn epoch_line(epoch: usize, top1: f64) -> String {
    format!(
        r#"{{"kind":"epoch","epoch":{epoch},"train_loss":0.5,"train_accuracy":0.8,"test_loss":0.4,"test_top1":{top1},"test_top5":0.99,"test_top10":1.0,"images_per_sec":100.0,"seconds":1.0}}"#
    )
}

/// A run folder with `config.json` (LeNet-5 defaults, `lr.max` set) and `metrics.jsonl`.
fn run(root: &Path, name: &str, lr_max: Option<f64>, metrics: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(max) = lr_max {
        let mut config = TrainConfig::defaults_for("lenet5");
        config.lr.max = max;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("metrics.jsonl"), metrics).unwrap();
    dir
}

/// `alpha` (top-1 91.5% last), `beta` (lr.max differs, 87.25%), `torn` (no config, torn
/// last line after one good epoch).
fn three_runs(root: &Path) -> Vec<PathBuf> {
    let good = |last: f64| format!("{}\n{}\n", epoch_line(1, 0.8), epoch_line(2, last));
    let torn_line = epoch_line(2, 0.7);
    vec![
        run(root, "alpha", Some(0.002), &good(0.915)),
        run(root, "beta", Some(0.01), &good(0.8725)),
        run(
            root,
            "torn",
            None,
            &format!("{}\n{}", epoch_line(1, 0.6), &torn_line[..40]),
        ),
    ]
}

#[test]
fn page_compares_runs_highlights_differences_and_lists_what_was_skipped() {
    let root = tempfile::tempdir().unwrap();
    let mut dirs = three_runs(root.path());
    let not_a_dir = root.path().join("notes.txt");
    std::fs::write(&not_a_dir, "x").unwrap();
    dirs.push(not_a_dir);
    let out = root.path().join("report.html");
    let shown = write_comparison(&dirs, &out).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();

    let names: Vec<&str> = shown.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "torn"]);
    for name in names {
        assert!(html.contains(&format!("</span>{name}")), "{name}");
    }
    assert_eq!(shown.differing_keys(), ["lr.max"]);
    assert!(html.contains(
        "<tr class=\"diff\"><th>lr.max</th><td>0.002</td><td>0.01</td><td class=na>no config</td>"
    ));
    assert!(html.contains("<tr><th>optimizer.kind</th><td>adamw</td><td>adamw</td>"));
    assert_eq!(html.matches("class=\"diff\"").count(), 1);
    for top1 in ["91.50%", "87.25%", "60.00%"] {
        assert!(html.contains(top1), "{top1}");
    }

    let skipped: Vec<&str> = html
        .split("<li>")
        .skip(1)
        .map(|s| &s[..s.find("</li>").unwrap()])
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped, shown.skipped);
    assert!(skipped[0].contains("torn") && skipped[0].contains("no config.json"));
    assert!(
        skipped[1].contains("torn/metrics.jsonl") && skipped[1].contains("skipped 1 invalid line")
    );
    assert!(skipped[2].contains("notes.txt") && skipped[2].contains("not a directory"));

    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 3);
    assert!(!html.contains("http") && !html.contains("<script"));
}

#[test]
fn empty_and_missing_parts_are_skipped_and_no_readable_run_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let config_only = run(root.path(), "config-only", Some(0.1), "");
    let nothing = root.path().join("nothing");
    std::fs::create_dir(&nothing).unwrap();
    let missing = root.path().join("missing");

    let c = Comparison::load(&[config_only.clone(), nothing.clone(), missing.clone()]);
    assert_eq!(c.runs.len(), 1, "a config alone is worth showing");
    assert!(c.runs[0].epochs.is_empty());
    assert!(c.skipped.iter().any(|l| l.contains("no epoch recorded")));
    assert!(c
        .skipped
        .iter()
        .any(|l| l.contains("nothing") && l.contains("neither")));
    assert!(c
        .skipped
        .iter()
        .any(|l| l.contains("missing") && l.contains("no such")));
    let html = c.render_html().unwrap();
    assert!(html.contains("no run recorded an epoch"));

    let out = root.path().join("report.html");
    let err = write_comparison(&[nothing, missing], &out).unwrap_err();
    assert!(matches!(err, CompareError::NoRun { given: 2, .. }), "{err}");
    assert!(!err.to_string().contains('\n'));
    assert!(!out.exists());
}
