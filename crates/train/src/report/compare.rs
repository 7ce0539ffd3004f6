//! `inkstone report RUN_DIR… -o report.html`: training runs side by side on one static page
//! (no scripts, no network, images inlined): their configs with the differing settings
//! highlighted, their curves overlaid, their final results.
//!
//! Half-written runs (a crash, a run still going) are shown with what is valid; every part
//! left out is listed on the page, one line each.
//!
//! ```no_run
//! use inkstone_train::report::compare::write_comparison;
//! let runs = ["runs/a".into(), "runs/b".into()];
//! let shown = write_comparison(&runs, "report.html".as_ref())?;
//! for line in &shown.skipped { eprintln!("skipped: {line}"); }
//! # Ok::<(), inkstone_train::report::compare::CompareError>(())
//! ```

mod figure;
mod page;

use crate::plots::render::write;
use crate::plots::{read_metrics, EpochRecord, PlotError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// One readable run.
#[derive(Clone, Debug)]
pub struct Run {
    /// What the page calls it: the folder's name, or its path where names repeat.
    pub name: String,
    pub dir: PathBuf,
    /// `config.json` flattened to dotted keys (`optimizer.kind`, `lr.max`); `None` when it is
    /// missing or unreadable.
    pub config: Option<BTreeMap<String, String>>,
    /// Epoch records in epoch order; where a resumed run repeated an epoch, the later one.
    pub epochs: Vec<EpochRecord>,
}

/// The runs that could be read, and one line for each thing that was left out and why.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub runs: Vec<Run>,
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("no readable run among {given} path(s); {first}")]
    NoRun { given: usize, first: String },
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// Reads the runs in `dirs` and writes the comparison page to `out` atomically. Fails only
/// when no run is readable or the page cannot be drawn or written.
pub fn write_comparison(dirs: &[PathBuf], out: &Path) -> Result<Comparison, CompareError> {
    let comparison = Comparison::load(dirs);
    if comparison.runs.is_empty() {
        return Err(CompareError::NoRun {
            given: dirs.len(),
            first: comparison
                .skipped
                .first()
                .cloned()
                .unwrap_or_else(|| "no run directory given".into()),
        });
    }
    write(out, comparison.render_html()?.as_bytes())?;
    Ok(comparison)
}

impl Comparison {
    /// Reads each run directory; what is invalid goes to `skipped`, never to an error.
    pub fn load(dirs: &[PathBuf]) -> Self {
        let mut comparison = Comparison::default();
        for dir in dirs {
            if let Some(run) = load_run(dir, &mut comparison.skipped) {
                comparison.runs.push(run);
            }
        }
        name_runs(&mut comparison.runs);
        comparison
    }

    /// The page, with its plots drawn and inlined.
    pub fn render_html(&self) -> Result<String, PlotError> {
        page::render(self)
    }

    /// Config keys whose values are not the same in every run that has a config.
    pub fn differing_keys(&self) -> Vec<&str> {
        let configs: Vec<_> = self.runs.iter().filter_map(|r| r.config.as_ref()).collect();
        let keys: std::collections::BTreeSet<&str> = configs
            .iter()
            .flat_map(|c| c.keys().map(String::as_str))
            .collect();
        keys.into_iter()
            .filter(|k| configs.windows(2).any(|w| w[0].get(*k) != w[1].get(*k)))
            .collect()
    }
}

fn load_run(dir: &Path, skipped: &mut Vec<String>) -> Option<Run> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        let why = if dir.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        skipped.push(format!("{shown}: skipped, {why}"));
        return None;
    }
    let config = read_config(dir, &shown, skipped);
    let epochs = read_epochs(dir, &shown, skipped);
    if config.is_none() && epochs.is_empty() {
        skipped.push(format!(
            "{shown}: skipped, neither a config nor an epoch to show"
        ));
        return None;
    }
    Some(Run {
        name: shown,
        dir: dir.to_path_buf(),
        config,
        epochs,
    })
}

fn read_config(
    dir: &Path,
    shown: &str,
    skipped: &mut Vec<String>,
) -> Option<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(dir.join("config.json")) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            skipped.push(format!(
                "{shown}: no config.json, its settings are not shown"
            ));
            return None;
        }
        Err(e) => {
            skipped.push(format!("{shown}/config.json: unreadable ({e}), skipped"));
            return None;
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ Value::Object(_)) => {
            let mut flat = BTreeMap::new();
            flatten("", &value, &mut flat);
            Some(flat)
        }
        Ok(_) => {
            skipped.push(format!("{shown}/config.json: not a JSON object, skipped"));
            None
        }
        Err(e) => {
            skipped.push(format!(
                "{shown}/config.json: not valid JSON ({e}), skipped"
            ));
            None
        }
    }
}

fn read_epochs(dir: &Path, shown: &str, skipped: &mut Vec<String>) -> Vec<EpochRecord> {
    let (mut records, bad) = match read_metrics(&dir.join("metrics.jsonl")) {
        Ok(read) => read,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            skipped.push(format!("{shown}: no metrics.jsonl, no curves or results"));
            return Vec::new();
        }
        Err(e) => {
            skipped.push(format!("{shown}/metrics.jsonl: unreadable ({e}), skipped"));
            return Vec::new();
        }
    };
    if bad > 0 {
        skipped.push(format!(
            "{shown}/metrics.jsonl: skipped {bad} invalid line(s) (a torn write or junk)"
        ));
    }
    if records.is_empty() {
        skipped.push(format!(
            "{shown}/metrics.jsonl: no epoch recorded, no curves or results"
        ));
    }
    // Stable sort, then keep the last of each epoch: a resumed run's rerun wins.
    records.sort_by_key(|r| r.epoch);
    let mut kept: Vec<EpochRecord> = Vec::with_capacity(records.len());
    for record in records {
        match kept.last_mut() {
            Some(last) if last.epoch == record.epoch => *last = record,
            _ => kept.push(record),
        }
    }
    kept
}

/// `{"lr":{"max":0.1}}` → `lr.max = 0.1`; strings bare, `null` as `none`, arrays as JSON.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, inner, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        Value::Null => {
            out.insert(prefix.to_string(), "none".into());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Folder names where they tell the runs apart, else the paths as given.
fn name_runs(runs: &mut [Run]) {
    let short = |r: &Run| r.dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let names: Vec<Option<String>> = runs.iter().map(short).collect();
    let distinct = names.iter().all(Option::is_some)
        && names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
    if distinct {
        for (run, name) in runs.iter_mut().zip(names) {
            run.name = name.unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_objects_to_dotted_keys() {
        let value = serde_json::json!({"model":"lenet5","lr":{"max":0.1,"kind":"cosine"},
            "augment":null,"dims":[1,2]});
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat);
        assert_eq!(flat["model"], "lenet5");
        assert_eq!(flat["lr.max"], "0.1");
        assert_eq!(flat["lr.kind"], "cosine");
        assert_eq!(flat["augment"], "none");
        assert_eq!(flat["dims"], "[1,2]");
    }

    #[test]
    fn repeated_names_fall_back_to_paths() {
        let run = |dir: &str| Run {
            name: dir.into(),
            dir: dir.into(),
            config: None,
            epochs: Vec::new(),
        };
        let mut same = [run("a/x"), run("b/x")];
        name_runs(&mut same);
        assert_eq!([&same[0].name, &same[1].name], ["a/x", "b/x"]);
        let mut apart = [run("a/x"), run("a/y")];
        name_runs(&mut apart);
        assert_eq!([&apart[0].name, &apart[1].name], ["x", "y"]);
    }
}
