//! Training and evaluation for inkstone networks, generic over the Burn backend: the loop,
//! optimisers and learning-rate schedules, top-k evaluation, and the run directory that
//! records it all.

pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod job;
pub mod loss_scale;
pub mod optimizer;
pub mod plots;
pub mod report;
pub mod rundir;
pub mod schedule;
pub mod step;
pub mod sweep;
pub mod trainer;

pub use config::TrainConfig;
pub use evaluate::{evaluate, Evaluation};
pub use job::PreparedJob;
pub use rundir::RunDir;
pub use trainer::{train, EpochReport, Observer, StepReport, TrainError};
