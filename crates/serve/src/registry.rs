//! The model registry: `DIR/<name>/<version>/model.inkstone`, rescanned while serving.
//!
//! A scan builds a new immutable [`Catalog`] and swaps it in; requests hold an `Arc` of the
//! model they started with, so adding, replacing or removing a version drops no request. A
//! bundle that fails to load is reported and, if an older copy of it was serving, that copy
//! keeps serving.

use crate::batcher::{BatchConfig, Batcher};
use crate::error::{LoadFailure, ServeError};
use inkstone_model::recognizer::Recognizer;
use inkstone_model::Bundle;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// The bundle file inside each version folder.
pub const BUNDLE_FILE: &str = "model.inkstone";

/// Identity of a bundle file's contents as far as a scan can tell cheaply.
type Stamp = (SystemTime, u64);

/// One loaded version of a model, with its own batching queue.
pub struct LoadedModel {
    pub name: String,
    pub version: u64,
    pub recognizer: Arc<Recognizer>,
    pub batcher: Batcher,
    stamp: Stamp,
}

/// A bundle that could not be served, and why.
#[derive(Clone, Debug, Serialize)]
pub struct LoadError {
    pub path: String,
    pub message: String,
}

/// What is being served at one moment.
#[derive(Default)]
pub struct Catalog {
    pub models: BTreeMap<String, BTreeMap<u64, Arc<LoadedModel>>>,
    pub errors: Vec<LoadError>,
}

impl Catalog {
    /// A model by name; `None` for the version means the newest.
    pub fn get(&self, name: &str, version: Option<u64>) -> Option<Arc<LoadedModel>> {
        let versions = self.models.get(name)?;
        match version {
            Some(v) => versions.get(&v).cloned(),
            None => versions.values().next_back().cloned(),
        }
    }

    /// The model `/v1/predict` uses: the preferred name if given, else the first by name.
    pub fn default_name<'a>(&'a self, preferred: Option<&'a str>) -> Option<&'a str> {
        match preferred {
            Some(name) => Some(name),
            None => self.models.keys().next().map(String::as_str),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

pub struct Registry {
    dir: PathBuf,
    batch: BatchConfig,
    current: RwLock<Arc<Catalog>>,
    /// Bundles that failed at a given stamp: not retried until the file changes.
    failed: Mutex<HashMap<PathBuf, (Stamp, String)>>,
}

impl Registry {
    /// Opens the registry folder and loads what is in it.
    pub fn open(dir: &Path, batch: BatchConfig) -> Result<Self, ServeError> {
        if !dir.is_dir() {
            return Err(ServeError::NotAFolder(dir.to_path_buf()));
        }
        let registry = Registry {
            dir: dir.to_path_buf(),
            batch,
            current: RwLock::new(Arc::new(Catalog::default())),
            failed: Mutex::new(HashMap::new()),
        };
        registry.rescan();
        Ok(registry)
    }

    /// A registry with no folder and no model (a service that only shows training runs).
    pub fn empty(batch: BatchConfig) -> Self {
        Registry {
            dir: PathBuf::new(),
            batch,
            current: RwLock::new(Arc::new(Catalog::default())),
            failed: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog as of now.
    pub fn snapshot(&self) -> Arc<Catalog> {
        self.current.read().expect("catalog lock").clone()
    }

    /// Rescans the folder, loading new or changed bundles and dropping removed ones; returns
    /// whether the catalog changed.
    pub fn rescan(&self) -> bool {
        let old = self.snapshot();
        let mut next = Catalog::default();
        let mut changed = false;
        for (name, version, path) in self.bundle_paths(&mut next.errors) {
            let previous = old.get(&name, Some(version));
            let stamp = match stamp_of(&path) {
                Ok(stamp) => stamp,
                Err(e) => {
                    next.errors.push(error_at(&path, e.to_string()));
                    continue;
                }
            };
            let model = match previous {
                Some(model) if model.stamp == stamp => Some(model),
                _ => {
                    let loaded =
                        self.load_unless_failed(&name, version, &path, stamp, &mut next.errors);
                    changed |= loaded.is_some();
                    // A changed file that does not load leaves the old copy serving.
                    loaded.or(previous)
                }
            };
            if let Some(model) = model {
                next.models.entry(name).or_default().insert(version, model);
            }
        }
        changed |= model_ids(&old) != model_ids(&next);
        *self.current.write().expect("catalog lock") = Arc::new(next);
        changed
    }

    fn load_unless_failed(
        &self,
        name: &str,
        version: u64,
        path: &Path,
        stamp: Stamp,
        errors: &mut Vec<LoadError>,
    ) -> Option<Arc<LoadedModel>> {
        let mut failed = self.failed.lock().expect("failure lock");
        if let Some((failed_stamp, message)) = failed.get(path) {
            if *failed_stamp == stamp {
                errors.push(error_at(path, message.clone()));
                return None;
            }
        }
        match self.load(name, version, path, stamp) {
            Ok(model) => {
                failed.remove(path);
                Some(Arc::new(model))
            }
            Err(failure) => {
                let message = failure.to_string();
                eprintln!("serve: cannot load {}: {message}", path.display());
                errors.push(error_at(path, message.clone()));
                failed.insert(path.to_path_buf(), (stamp, message));
                None
            }
        }
    }

    fn load(
        &self,
        name: &str,
        version: u64,
        path: &Path,
        stamp: Stamp,
    ) -> Result<LoadedModel, LoadFailure> {
        let bundle = Bundle::load(path)?;
        // Each inference thread's share of the cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let share = cores.div_ceil(self.batch.threads.max(1));
        let recognizer = Recognizer::with_threads_or_worth(bundle, self.batch.op_threads, share)?;
        let recognizer = Arc::new(recognizer);
        let batcher = Batcher::start(
            recognizer.clone(),
            &self.batch,
            &format!("{name}/{version}"),
        );
        eprintln!(
            "serve: loaded {name} version {version} from {}",
            path.display()
        );
        Ok(LoadedModel {
            name: name.to_string(),
            version,
            recognizer,
            batcher,
            stamp,
        })
    }

    /// Every `<name>/<version>/model.inkstone` under the folder; misplaced things are reported.
    fn bundle_paths(&self, errors: &mut Vec<LoadError>) -> Vec<(String, u64, PathBuf)> {
        let mut found = Vec::new();
        for model_dir in sorted_subdirs(&self.dir, errors) {
            let name = file_name(&model_dir);
            if !is_valid_name(&name) {
                errors.push(error_at(
                    &model_dir,
                    "model names are letters, digits, '-', '_' and '.'".into(),
                ));
                continue;
            }
            for version_dir in sorted_subdirs(&model_dir, errors) {
                let Ok(version) = file_name(&version_dir).parse::<u64>() else {
                    errors.push(error_at(
                        &version_dir,
                        "version folders are named by a whole number".into(),
                    ));
                    continue;
                };
                let path = version_dir.join(BUNDLE_FILE);
                if path.is_file() {
                    found.push((name.clone(), version, path));
                } else {
                    errors.push(error_at(
                        &version_dir,
                        format!("no {BUNDLE_FILE} in this version folder"),
                    ));
                }
            }
        }
        found
    }
}

fn model_ids(catalog: &Catalog) -> Vec<(String, u64)> {
    catalog
        .models
        .iter()
        .flat_map(|(name, versions)| versions.keys().map(move |v| (name.clone(), *v)))
        .collect()
}

fn sorted_subdirs(dir: &Path, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(error_at(dir, e.to_string()));
            return Vec::new();
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !file_name(p).starts_with('.'))
        .collect();
    dirs.sort();
    dirs
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Model names appear in URL paths and metric labels.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn stamp_of(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.modified()?, meta.len()))
}

fn error_at(path: &Path, message: String) -> LoadError {
    LoadError {
        path: path.display().to_string(),
        message,
    }
}
