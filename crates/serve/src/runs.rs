//! The live view of training runs (`inkstone serve --runs DIR`), the role MindInsight plays
//! for the seeds: `/runs` is a page that redraws every run's curves as `inkstone train` (or
//! `inkstone sweep`) appends to their `metrics.jsonl`; `/runs/data` is what it polls.
//!
//! Runs are the folders holding a `metrics.jsonl`: `DIR` itself, its subfolders and theirs
//! (a sweep's runs). A torn last line (a run killed mid-write) or junk is counted and shown,
//! never fatal; files are read a bounded amount at a time.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use inkstone_model::run_log::{EpochRecord, RunLine, StepRecord};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PAGE: &str = include_str!("../assets/runs.html");
/// Most runs shown (the most recently written ones).
pub const MAX_RUNS: usize = 100;
/// Most per-step points sent per run; longer runs are thinned evenly (the last one kept).
pub const MAX_STEP_POINTS: usize = 1000;
/// Bytes of a `metrics.jsonl` read at most (its end is what changes; 64 MiB is ~300 000 lines).
const MAX_METRICS_BYTES: u64 = 64 << 20;

/// The routes of the view over `dir`, for any router state.
pub fn router<S: Clone + Send + Sync + 'static>(dir: PathBuf) -> Router<S> {
    Router::new()
        .route("/runs", get(|| async { Html(PAGE) }))
        .route("/runs/data", get(data))
        .with_state(Arc::new(dir))
}

async fn data(State(dir): State<Arc<PathBuf>>) -> Response {
    let dir = dir.as_ref().clone();
    match tokio::task::spawn_blocking(move || collect(&dir)).await {
        Ok(value) => ([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Every run under `dir` with its epoch and step records, newest first.
pub fn collect(dir: &Path) -> Value {
    let mut problems = Vec::new();
    let mut found = Vec::new();
    find_runs(dir, dir, 0, &mut found, &mut problems);
    found.sort_by_key(|run| std::cmp::Reverse(run.1));
    if found.len() > MAX_RUNS {
        problems.push(format!(
            "{} runs found; the {MAX_RUNS} most recently written are shown",
            found.len()
        ));
        found.truncate(MAX_RUNS);
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let runs: Vec<Value> = found
        .iter()
        .map(|(run_dir, modified)| read_run(dir, run_dir, *modified))
        .collect();
    json!({ "dir": dir.display().to_string(), "runs": runs, "problems": problems })
}

fn find_runs(
    root: &Path,
    dir: &Path,
    depth: usize,
    found: &mut Vec<(PathBuf, u64)>,
    problems: &mut Vec<String>,
) {
    let metrics = dir.join("metrics.jsonl");
    if let Ok(meta) = std::fs::metadata(&metrics) {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        found.push((dir.to_path_buf(), modified));
        return;
    }
    if depth == 2 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            if depth == 0 {
                problems.push(format!("{}: {e}", root.display()));
            }
            return;
        }
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        find_runs(root, &sub, depth + 1, found, problems);
    }
}

fn read_run(root: &Path, dir: &Path, modified: u64) -> Value {
    let name = dir
        .strip_prefix(root)
        .ok()
        .map(|p| p.display().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            dir.file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned())
        });
    let (text, cut) = read_tail(&dir.join("metrics.jsonl"));
    let (mut epochs, mut steps, mut skipped) = (Vec::new(), Vec::new(), 0usize);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<RunLine>(line) {
            Ok(RunLine::Epoch(record)) => keep_latest_epoch(&mut epochs, record),
            Ok(RunLine::Step(record)) => steps.push(record),
            Err(_) => skipped += 1,
        }
    }
    let config = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    json!({
        "name": name,
        "modified_unix": modified,
        "config": config.map(|c| summary(&c)),
        "epochs": epochs,
        "steps": thin(steps),
        "skipped_lines": skipped,
        "truncated": cut,
    })
}

/// A resumed run may log an epoch twice; the later record is the one that counts.
fn keep_latest_epoch(epochs: &mut Vec<EpochRecord>, record: EpochRecord) {
    epochs.retain(|e| e.epoch != record.epoch);
    epochs.push(record);
}

/// Evenly spaced points, at most [`MAX_STEP_POINTS`], always keeping the last.
fn thin(steps: Vec<StepRecord>) -> Vec<StepRecord> {
    if steps.len() <= MAX_STEP_POINTS {
        return steps;
    }
    let stride = steps.len().div_ceil(MAX_STEP_POINTS);
    let last = steps.len() - 1;
    steps
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || *i == last)
        .map(|(_, s)| s)
        .collect()
}

/// The settings worth a glance in the legend.
fn summary(config: &Value) -> Value {
    json!({
        "model": config.get("model"),
        "data": config.get("data"),
        "optimizer": config.pointer("/optimizer/kind"),
        "lr": config.pointer("/lr/max"),
        "batch_size": config.get("batch_size"),
        "epochs": config.get("epochs"),
    })
}

/// The file's text, or its last [`MAX_METRICS_BYTES`] from a line start; and whether it was cut.
fn read_tail(path: &Path) -> (String, bool) {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return (String::new(), false);
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let cut = len > MAX_METRICS_BYTES;
    if cut && file.seek(SeekFrom::Start(len - MAX_METRICS_BYTES)).is_err() {
        return (String::new(), true);
    }
    let mut bytes = Vec::new();
    if file
        .take(MAX_METRICS_BYTES)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return (String::new(), cut);
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if cut {
        // The first line is a fragment.
        text = text
            .split_once('\n')
            .map_or(String::new(), |(_, rest)| rest.into());
    }
    (text, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_runs_two_deep_keeps_later_epochs_and_counts_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("sweep/lr=0.1");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let epoch = |e: u32, top1: f64| {
            format!(
                r#"{{"kind":"epoch","epoch":{e},"train_loss":0.6,"train_accuracy":0.5,"test_loss":0.5,"test_top1":{top1},"test_top5":1.0}}"#
            )
        };
        std::fs::write(
            a.join("metrics.jsonl"),
            format!(
                "{}\n{}\n{}\n{}\n{{\"kind\":\"ep",
                r#"{"kind":"step","epoch":1,"step":10,"loss":2.0,"lr":0.1}"#,
                epoch(1, 0.5),
                epoch(2, 0.6),
                epoch(2, 0.7),
            ),
        )
        .unwrap();
        std::fs::write(b.join("metrics.jsonl"), epoch(1, 0.9) + "\n").unwrap();
        std::fs::write(
            b.join("config.json"),
            r#"{"model":"lenet5","lr":{"max":0.1}}"#,
        )
        .unwrap();
        let value = collect(dir.path());
        let runs = value["runs"].as_array().unwrap();
        let names: Vec<&str> = runs.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "sweep/lr=0.1"]);
        let a = &runs[0];
        assert_eq!(a["epochs"].as_array().unwrap().len(), 2);
        assert_eq!(a["epochs"][1]["test_top1"], 0.7, "the rerun epoch wins");
        assert_eq!(a["steps"].as_array().unwrap().len(), 1);
        assert_eq!(a["skipped_lines"], 1);
        assert_eq!(runs[1]["config"]["lr"], 0.1);
        assert!(value["problems"].as_array().unwrap().is_empty());
        let missing = collect(&dir.path().join("nope"));
        assert_eq!(missing["runs"].as_array().unwrap().len(), 0);
        assert_eq!(missing["problems"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn long_runs_are_thinned_to_the_limit_keeping_the_last_step() {
        let step = |step| StepRecord {
            step,
            epoch: 1,
            lr: 0.1,
            loss: 1.0,
            accuracy: 0.5,
            loss_scale: None,
            skipped_steps: None,
        };
        let thinned = thin((0..5000).map(step).collect());
        assert!(thinned.len() <= MAX_STEP_POINTS + 1);
        assert_eq!(thinned.last().unwrap().step, 4999);
        assert_eq!(thinned[0].step, 0);
    }
}
