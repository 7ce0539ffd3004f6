//! `inkstone sweep`: every combination runs in its own process, a failing one does not stop
//! the rest, the page lists what failed or was left out, and a second invocation reuses
//! finished runs.

mod common;

use common::{assert_fails_with, inkstone, stderr, stdout};

#[test]
fn a_grid_runs_survives_a_failing_run_reports_and_reuses_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let out_arg = out.to_str().unwrap();
    let grid = "model=lenet5,missing-spec.json lr=0.01,0.002 epochs=1 max-steps-per-epoch=3 \
                dropout=0.5";
    let args = ["sweep", "--grid", grid, "--out", out_arg, "--jobs", "2"];
    let run = inkstone(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    let (text, err) = (stdout(&run), stderr(&run));
    assert!(err.contains("`dropout=0.5` skipped"), "{err}");
    for name in ["model=lenet5,lr=0.01", "model=lenet5,lr=0.002"] {
        assert!(out.join(name).join("last.inkstone").is_file(), "{name}");
        assert!(text.contains(&format!("| {name} |")), "{text}");
    }
    let failed = out.join("model=missing-spec.json,lr=0.01");
    assert!(
        text.contains("failed: error:") && text.contains("missing-spec.json"),
        "{text}"
    );
    assert!(!failed.join("config.json").exists());
    assert!(text.contains("2 failed"), "{text}");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("dropout=0.5"),
        "the left-out grid item is not on the page"
    );
    assert!(page.contains("model=missing-spec.json,lr=0.002: failed"));
    assert!(page.contains("model=lenet5,lr=0.002"));
    assert_eq!(
        std::fs::read_to_string(out.join("summary.md"))
            .unwrap()
            .lines()
            .count(),
        2 + 4
    );

    // Again: the finished runs are not retrained.
    let bundle = out.join("model=lenet5,lr=0.01").join("last.inkstone");
    let before = std::fs::metadata(&bundle).unwrap().modified().unwrap();
    let again = inkstone(&args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("finished earlier"));
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn bad_grids_fail_before_any_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let out_arg = out.to_str().unwrap();
    for (grid, needle) in [
        ("lr=fast", "lr=fast"),
        ("lr", "key=value"),
        ("dropout=0.5", "no known key"),
        ("optimizer=rmsprop", "optimizer=rmsprop"),
    ] {
        let run = inkstone(&["sweep", "--grid", grid, "--out", out_arg]);
        assert_fails_with(&run, &[needle]);
    }
    assert!(!out.exists(), "a failed plan created the sweep folder");
}
