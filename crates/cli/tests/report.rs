//! `inkstone report RUN_DIR… -o FILE` through the binary: a page from a good run and a
//! half-written one, and a one-line error when no run is readable.

mod common;
use common::*;
use std::path::Path;

const EPOCH: &str = r#"{"kind":"epoch","epoch":1,"train_loss":0.5,"train_accuracy":0.8,"test_loss":0.4,"test_top1":0.9,"test_top5":0.99,"test_top10":1.0,"images_per_sec":100.0,"seconds":1.0}"#;

fn run_dir(root: &Path, name: &str, config: bool, metrics: &str) -> String {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    if config {
        let config = inkstone_train::TrainConfig::defaults_for("lenet5");
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string(&config).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("metrics.jsonl"), metrics).unwrap();
    dir.to_str().unwrap().to_string()
}

#[test]
fn report_writes_one_page_and_names_what_it_skipped() {
    let root = tempfile::tempdir().unwrap();
    let good = run_dir(root.path(), "good", true, &format!("{EPOCH}\n"));
    let torn = run_dir(
        root.path(),
        "torn",
        false,
        &format!("{EPOCH}\n{}", &EPOCH[..30]),
    );
    let page = root.path().join("out/report.html");
    std::fs::create_dir(root.path().join("out")).unwrap();
    let out = inkstone(&["report", &good, &torn, "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 run(s) compared"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out).matches("skipped:").count(),
        2,
        "{}",
        stderr(&out)
    );

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("</span>good") && html.contains("</span>torn"));
    assert!(html.contains("90.00%") && html.contains("invalid line"));
    assert!(!html.contains("http") && !html.contains("<script"));
    let leftovers = std::fs::read_dir(root.path().join("out")).unwrap().count();
    assert_eq!(leftovers, 1, "only the page, no temp file");
}

#[test]
fn report_fails_in_one_line_when_no_run_is_readable() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let page = root.path().join("report.html");
    let out = inkstone(&[
        "report",
        empty.to_str().unwrap(),
        root.path().join("absent").to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_fails_with(&out, &["no readable run among 2 path(s)"]);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!page.exists());
}
