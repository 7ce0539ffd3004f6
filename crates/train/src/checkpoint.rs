//! `checkpoint.bin`: everything a killed run needs to go on as if it had never stopped.
//!
//! It holds the network (weights and batch-norm statistics), the optimiser's state and where
//! the run stood (epoch, steps done, best top-1, the epoch's running sums). Data order,
//! augmentation and the backend's random numbers are all derived from the position (seed,
//! epoch, step), never from history, so a run resumed from any checkpoint ends with the same
//! weights as an uninterrupted one on the CPU backend.
//!
//! Layout: `INKCKPT` + version byte, u64 LE length + position JSON, u64 LE length + network
//! record, then the optimiser record to the end. Both records are Burn's named MessagePack at
//! full precision. The file is written to a temporary name, fsynced and renamed, so a crash
//! leaves the previous checkpoint or the new one, never a mixture.

use crate::optimizer::NetworkOptimizer;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use inkstone_model::{ModelSpec, Network};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "checkpoint.bin";
const MAGIC: &[u8; 8] = b"INKCKPT\x01";

/// Where a run stood when the checkpoint was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The epoch to continue (1-based); after the last epoch it is `epochs + 1`.
    pub epoch: usize,
    /// Steps of that epoch already taken.
    pub step: usize,
    /// Best test top-1 so far (-1 before the first evaluation).
    pub best_top1: f64,
    /// The epoch's running sums, so its report reads as without the crash.
    pub loss_sum: f64,
    pub correct: i64,
    pub seen: usize,
    /// The run's config as trained; a checkpoint is only resumed under the same one.
    pub config: serde_json::Value,
    /// fp16 runs: the loss scale and its count of good steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scaler: Option<crate::loss_scale::LossScaler>,
}

impl Position {
    /// Whether a run of `epochs` epochs has nothing left to train from here.
    pub fn finished(&self, epochs: usize) -> bool {
        self.epoch > epochs
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a usable checkpoint: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// The state of a run, ready to continue.
pub struct Restored<B: AutodiffBackend> {
    pub position: Position,
    pub network: Network<B>,
    pub optimizer: NetworkOptimizer<B>,
}

type StateRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

pub fn path_in(run_dir: &Path) -> PathBuf {
    run_dir.join(FILE_NAME)
}

/// Writes `run_dir/checkpoint.bin` atomically (temp file, fsync, rename, fsync of the folder).
pub fn save<B: AutodiffBackend>(
    run_dir: &Path,
    position: &Position,
    network: &Network<B>,
    optimizer: &NetworkOptimizer<B>,
) -> Result<(), CheckpointError> {
    let path = path_in(run_dir);
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.clone(),
        reason,
    };
    let position = serde_json::to_vec(position).expect("position serialises");
    let model = Recorder::<B>::record(&StateRecorder::new(), network.clone().into_record(), ())
        .map_err(|e| corrupt(format!("network did not serialise: {e}")))?;
    let state = optimizer
        .state_bytes()
        .map_err(|e| corrupt(format!("optimiser state did not serialise: {e}")))?;
    let mut bytes = Vec::with_capacity(24 + position.len() + model.len() + state.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(position.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&position);
    bytes.extend_from_slice(&(model.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&model);
    bytes.extend_from_slice(&state);
    inkstone_data::atomic::write_atomically(&path, &bytes)
        .map_err(|source| CheckpointError::Io { path, source })
}

/// The position of `run_dir`'s checkpoint, without loading any tensor; `None` if it has none.
pub fn peek(run_dir: &Path) -> Result<Option<Position>, CheckpointError> {
    let path = path_in(run_dir);
    match read_file(&path)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(split(&path, &bytes)?.0)),
    }
}

/// Where a run folder stands against the `epochs` of its config.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// No checkpoint yet: the run starts from the beginning.
    Fresh,
    /// Stopped here, with epochs left to train.
    Stopped(Position),
    /// Every epoch trained: nothing to resume.
    Finished,
}

/// [`RunState`] of `run_dir`, from its checkpoint's position alone.
pub fn state(run_dir: &Path, epochs: usize) -> Result<RunState, CheckpointError> {
    Ok(match peek(run_dir)? {
        None => RunState::Fresh,
        Some(at) if at.finished(epochs) => RunState::Finished,
        Some(at) => RunState::Stopped(at),
    })
}

/// Loads `run_dir`'s checkpoint into a network built from `spec` and an optimiser as
/// `fresh` was built; `None` if the run has no checkpoint yet.
pub fn load<B: AutodiffBackend>(
    run_dir: &Path,
    spec: &ModelSpec,
    fresh: NetworkOptimizer<B>,
    device: &B::Device,
) -> Result<Option<Restored<B>>, CheckpointError> {
    let path = path_in(run_dir);
    let Some(bytes) = read_file(&path)? else {
        return Ok(None);
    };
    let (position, model, state) = split(&path, &bytes)?;
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.clone(),
        reason,
    };
    let record = Recorder::<B>::load(&StateRecorder::new(), model.to_vec(), device)
        .map_err(|e| corrupt(format!("network record: {e}")))?;
    let network =
        Network::<B>::new(spec, device).map_err(|e| corrupt(format!("the run's model: {e}")))?;
    // The caller has checked the checkpoint's config is the run's, so the shapes agree.
    let network = network.load_record(record);
    let optimizer = fresh
        .with_state(state.to_vec(), device)
        .map_err(|e| corrupt(format!("optimiser record: {e}")))?;
    Ok(Some(Restored {
        position,
        network,
        optimizer,
    }))
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, CheckpointError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Checks the framing and splits the file into position, network and optimiser bytes.
fn split<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<(Position, &'a [u8], &'a [u8]), CheckpointError> {
    let corrupt = |reason: &str| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        corrupt("wrong magic number (not an inkstone checkpoint, or another version)")
    })?;
    let (position, rest) = take_sized(rest).ok_or_else(|| corrupt("truncated position"))?;
    let (model, state) = take_sized(rest).ok_or_else(|| corrupt("truncated network record"))?;
    let position: Position = serde_json::from_slice(position)
        .map_err(|e| corrupt(&format!("position is not valid JSON: {e}")))?;
    Ok((position, model, state))
}

/// A u64 LE length and that many bytes; `None` if the slice is shorter than it says.
fn take_sized(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    let rest = &bytes[8..];
    (len <= rest.len()).then(|| rest.split_at(len))
}
