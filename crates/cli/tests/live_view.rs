//! `inkstone serve --runs DIR`: the live training view. Real headless Chromium watches the page
//! while `inkstone train` writes a run into DIR; the page must pick up new epochs by itself
//! and draw every chart, with no page errors. A screenshot is kept for people to look at.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `inkstone serve ARGS` on a free port; its base URL.
fn serve(args: &[&str]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inkstone"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(url) = line
            .split(" on ")
            .nth(1)
            .filter(|_| line.starts_with("serving"))
        {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (Killed(child), base)
}

#[test]
fn the_live_view_follows_a_run_while_it_trains() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let (_service, base) = serve(&["--runs", runs.to_str().unwrap()]);

    // The data the page polls, before any run exists.
    let mut response = ureq::get(&format!("{base}/runs/data")).call().unwrap();
    let empty: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(empty["runs"].as_array().unwrap().len(), 0);

    let browser_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists()
        || !browser_tests.join("node_modules/playwright-core").exists()
    {
        eprintln!(
            "SKIPPED: the browser test needs {chromium} and `npm install` in {} (.ci/run does both)",
            browser_tests.display()
        );
        return;
    }
    // The run starts once the page is open, so the page must notice it by itself.
    let train_args = [
        "train",
        "--data",
        "mnist",
        "--epochs",
        "3",
        "--max-steps-per-epoch",
        "40",
        "--batch-size",
        "64",
        "--out",
    ];
    let run_dir = runs.join("lenet5-live");
    let screenshot = std::env::temp_dir().join("inkstone-live-view.png");
    let mut watcher = Command::new("node")
        .current_dir(&browser_tests)
        .args([
            "runs.mjs",
            &format!("{base}/runs?every=300"),
            screenshot.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let watching = lines
        .next()
        .expect("runs.mjs ended before the page was up")
        .unwrap();
    assert!(watching.contains("watching"), "{watching}");
    let train = inkstone(&[&train_args[..], &[run_dir.to_str().unwrap()]].concat());
    assert!(train.status.success(), "{}", stderr(&train));
    let result = lines.next().map(Result::unwrap).unwrap_or_default();
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success(), "runs.mjs failed: {}", stderr(&out));
    let seen: serde_json::Value =
        serde_json::from_str(result.trim()).unwrap_or_else(|e| panic!("{e}: {result}"));
    eprintln!("{seen}");
    assert_eq!(seen["last"]["runs"], 1);
    assert!(seen["last"]["epochs"].as_u64().unwrap() >= 3);
    assert!(
        seen["last"]["epochs"].as_u64() > seen["first"]["epochs"].as_u64(),
        "the page did not pick up new epochs: {seen}"
    );
    // 3 epochs × 40 steps, a step record every 10 steps.
    assert_eq!(seen["last"]["steps"], 12);
    for chart in ["step-loss", "lr"] {
        assert_eq!(seen["points"][chart], 12, "{chart}: {seen}");
    }
    for chart in ["top1", "test-loss"] {
        assert_eq!(seen["points"][chart], 3, "{chart}: {seen}");
    }
    assert_eq!(seen["rows"], 1);
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 20_000);
    eprintln!("screenshot of the live view: {}", screenshot.display());
}
