//! The run directory: `config.json`, `metrics.jsonl` (one JSON object per line, appended and
//! flushed as training goes), `best.inkstone` and `last.inkstone`.

use crate::TrainConfig;
use inkstone_model::run_log::RunLine;
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
        std::fs::create_dir_all(path).map_err(naming(path))?;
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
        let config_path = path.join("config.json");
        inkstone_data::atomic::write_atomically(&config_path, text.as_bytes())
            .map_err(naming(&config_path))?;
        let metrics_path = path.join("metrics.jsonl");
        let metrics = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(naming(&metrics_path))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics,
        })
    }

    /// Reopens a run's folder to continue it: its `config.json`, and `metrics.jsonl` for
    /// appending. A last line torn by the crash is closed with a newline, so it stays one
    /// skipped line and the records appended after it read normally.
    pub fn resume(path: &Path) -> std::io::Result<(Self, TrainConfig)> {
        let config_path = path.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("{}: {e} (is this a run folder?)", config_path.display()),
            )
        })?;
        let config: TrainConfig = serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: not a training config: {e}", config_path.display()),
            )
        })?;
        let metrics_path = path.join("metrics.jsonl");
        let torn = std::fs::read(&metrics_path)
            .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
            .unwrap_or(false);
        let mut metrics = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(naming(&metrics_path))?;
        if torn {
            metrics.write_all(b"\n").map_err(naming(&metrics_path))?;
        }
        Ok((
            RunDir {
                path: path.to_path_buf(),
                metrics,
            },
            config,
        ))
    }

    /// Appends one record to `metrics.jsonl`.
    pub fn log(&mut self, record: &RunLine) -> std::io::Result<()> {
        let record = serde_json::to_string(record).map_err(std::io::Error::other)?;
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

/// Puts `path` in front of an I/O error's message, so that it says which file failed.
fn naming(path: &Path) -> impl FnOnce(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
