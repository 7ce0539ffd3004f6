//! The run directory: `config.json`, `metrics.jsonl` (one JSON object per line, appended and
//! flushed as training goes), `best.inkstone` and `last.inkstone`.

use crate::TrainConfig;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RunDir {
    pub path: PathBuf,
    metrics: File,
}

impl RunDir {
    /// Creates the folder and writes `config.json`. Refuses a folder that already holds a run,
    /// so an earlier run's results are never mixed with or overwritten by a new one.
    pub fn create(path: &Path, config: &TrainConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        if path.join("config.json").exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} already holds a run; choose another --out",
                    path.display()
                ),
            ));
        }
        let text = serde_json::to_string_pretty(config).expect("config serialises");
        inkstone_model::bundle::write_atomically(&path.join("config.json"), text.as_bytes())?;
        let metrics = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.join("metrics.jsonl"))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics,
        })
    }

    /// Appends one record to `metrics.jsonl`.
    pub fn log(&mut self, record: &serde_json::Value) -> std::io::Result<()> {
        writeln!(self.metrics, "{record}")?;
        self.metrics.flush()
    }

    pub fn best_bundle(&self) -> PathBuf {
        self.path.join("best.inkstone")
    }

    pub fn last_bundle(&self) -> PathBuf {
        self.path.join("last.inkstone")
    }
}
