//! The training loop: seeded shuffling, forward/backward/step with the scheduled learning
//! rate, periodic progress reports, an evaluation on the held-out split after every epoch,
//! bundles written to the run directory (`last` every epoch, `best` when top-1 improves), and
//! a checkpoint after every epoch (and every `checkpoint_every_steps`) to resume from.

use crate::batch::{Epoch, Loader};
use crate::checkpoint::{self, CheckpointError, Position};
use crate::evaluate::{evaluate, Evaluation};
use crate::loss_scale::LossScaler;
use crate::optimizer::NetworkOptimizer;
use crate::plots::{write_training_plots, LrCurve};
use crate::step::Stepper;
use crate::{RunDir, TrainConfig};
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ElementConversion;
use burn::tensor::{Int, Tensor};
use inkstone_data::packed::{permutation, PackedSet, PreparedSet};
use inkstone_data::{Charset, Recipe};
use inkstone_model::run_log::{EpochRecord, RunLine, StepRecord};
use inkstone_model::{Bundle, BundleError, ModelSpec, Network, Precision, Provenance};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Progress read off the device every this many steps (reading sooner stalls a GPU).
const REPORT_EVERY: usize = 10;
/// Threads building batches (decode from the map, augment, normalise) ahead of the step.
const LOADER_THREADS: usize = 2;

#[derive(Clone, Debug)]
pub struct StepReport {
    pub epoch: usize,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub lr: f64,
    pub images_per_sec: f64,
}

#[derive(Clone, Debug)]
pub struct EpochReport {
    pub epoch: usize,
    pub epochs: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub images_per_sec: f64,
    pub seconds: f64,
    pub test: Evaluation,
    /// The real-handwriting set's name and evaluation, when the job has one.
    pub real: Option<(String, Evaluation)>,
    pub best: bool,
}

/// Where progress goes: a terminal bar, plain log lines, or nowhere.
pub trait Observer {
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _steps: usize) {}
    fn step(&mut self, _report: &StepReport) {}
    fn epoch_finished(&mut self, _report: &EpochReport) {}
}

impl Observer for () {}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("training set is empty")]
    NoData,
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("{0}: the checkpoint was taken under another config than the run's config.json")]
    ConfigChanged(std::path::PathBuf),
    #[error("the run has already trained all {0} epochs; nothing to resume")]
    Finished(usize),
    #[error(transparent)]
    Data(#[from] inkstone_data::DataError),
    #[error(transparent)]
    Spec(#[from] inkstone_model::SpecError),
    #[error("{set}: its classes ({classes}) differ from the training data's ({training})")]
    ClassesDiffer {
        set: String,
        classes: String,
        training: String,
    },
    #[error(
        "{model}: model takes {input:?} input with {classes} classes, the data is 1×{side}² \
         with {data_classes} classes"
    )]
    ModelMismatch {
        model: String,
        input: [usize; 3],
        classes: usize,
        side: usize,
        data_classes: usize,
    },
}

/// What a run is made of.
pub struct TrainJob<'a> {
    pub config: &'a TrainConfig,
    pub spec: &'a ModelSpec,
    pub recipe: &'a Recipe,
    pub charset: &'a Charset,
    pub train: &'a dyn PreparedSet,
    pub test: &'a PackedSet,
    /// Real handwriting evaluated after every epoch beside `test` (its name, its samples).
    pub real: Option<(&'a str, &'a PackedSet)>,
    /// The weights to start from (`config.init`, loaded and checked with [`check_init`]); used
    /// when the run has no checkpoint yet, random initialisation when `None`.
    pub init: Option<&'a Bundle>,
}

/// The outcome: the final network and its last evaluation.
pub struct Trained<B: AutodiffBackend> {
    pub network: Network<B>,
    pub last: Evaluation,
    pub best_top1: f64,
}

/// Trains `job` from the start, or, where `run` was reopened with [`RunDir::resume`] and holds
/// a checkpoint, from that checkpoint on.
pub fn train<B: AutodiffBackend>(
    job: &TrainJob,
    device: &B::Device,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<Trained<B>, TrainError> {
    train_on(job, std::slice::from_ref(device), run, observer)
}

/// [`train`] with every batch split over `devices` (data parallel, see [`crate::step`]);
/// the first device holds the master copy, evaluates and writes the checkpoints.
pub fn train_on<B: AutodiffBackend>(
    job: &TrainJob,
    devices: &[B::Device],
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<Trained<B>, TrainError> {
    let device = &devices[0];
    let config = job.config;
    if job.train.is_empty() {
        return Err(TrainError::NoData);
    }
    B::seed(device, config.seed);
    let (mut network, mut optimizer, mut position) = start_or_resume::<B>(job, device, run)?;
    if position.finished(config.epochs) {
        return Err(TrainError::Finished(config.epochs));
    }
    let plan = Plan::new(config, job.train.len());
    let stepper = Stepper::<B>::new(devices, config.label_smoothing, config.precision);
    let mut last = None;
    for epoch in position.epoch..=config.epochs {
        observer.epoch_started(epoch, config.epochs, plan.steps);
        let started = Instant::now();
        let mut epoch_run = EpochRun {
            job,
            plan: &plan,
            stepper: &stepper,
            epoch,
            run: &mut *run,
            observer: &mut *observer,
        };
        let (trained, seen_here) = epoch_run.train(network, &mut optimizer, &mut position)?;
        network = trained;
        let images_per_sec = seen_here as f64 / started.elapsed().as_secs_f64();
        let report = evaluate_epoch(job, &network, &position, epoch, device, images_per_sec);
        let report = EpochReport {
            seconds: started.elapsed().as_secs_f64(),
            ..report
        };
        log_epoch(run, &report)?;
        update_plots(run, &plan.lr_curve);
        let bundle = make_bundle(&network, job, epoch, &report)?;
        save(&bundle, &run.last_bundle())?;
        if report.best {
            position.best_top1 = report.test.top1;
            save(&bundle, &run.best_bundle())?;
        }
        // Written last: a crash before this line reruns the epoch (its log line then appears
        // twice and readers keep the later), never skips it.
        position = Position {
            epoch: epoch + 1,
            step: 0,
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            ..position
        };
        checkpoint::save(&run.path, &position, &network, &optimizer)?;
        observer.epoch_finished(&report);
        last = Some(report.test);
    }
    Ok(Trained {
        network,
        last: last.expect("at least one epoch"),
        best_top1: position.best_top1,
    })
}

/// The network, optimiser and position to go on from: the run's checkpoint when it has one
/// (taken under the same config), else `--init`'s weights or random ones, from the start.
fn start_or_resume<B: AutodiffBackend>(
    job: &TrainJob,
    device: &B::Device,
    run: &RunDir,
) -> Result<(Network<B>, NetworkOptimizer<B>, Position), TrainError> {
    let config = job.config;
    let config_json = serde_json::to_value(config).expect("config serialises");
    match checkpoint::load::<B>(&run.path, job.spec, config.optimizer.build(), device)? {
        // `--init` counts only when starting: a resumed run has its own weights.
        None => {
            let network = match job.init {
                None => Network::<B>::new(job.spec, device).map_err(BundleError::from)?,
                Some(bundle) => bundle.network_as(job.spec, device)?,
            };
            let fresh = Position {
                epoch: 1,
                step: 0,
                best_top1: -1.0,
                loss_sum: 0.0,
                correct: 0,
                seen: 0,
                config: config_json,
                loss_scaler: (config.precision == Precision::Fp16).then(LossScaler::default),
            };
            Ok((network, config.optimizer.build::<B>(), fresh))
        }
        Some(restored) if restored.position.config != config_json => {
            Err(TrainError::ConfigChanged(checkpoint::path_in(&run.path)))
        }
        Some(r) => Ok((r.network, r.optimizer, r.position)),
    }
}

/// The shape of a run in steps, fixed by the config and the training set's size.
struct Plan {
    batch: usize,
    /// Steps per epoch.
    steps: usize,
    total_steps: usize,
    checkpoint_every: usize,
    lr_curve: LrCurve,
}

impl Plan {
    fn new(config: &TrainConfig, samples: usize) -> Self {
        let batch = config.batch_size.max(1);
        let full_steps = samples.div_ceil(batch);
        let steps = config
            .max_steps_per_epoch
            .map_or(full_steps, |m| m.min(full_steps));
        Plan {
            batch,
            steps,
            total_steps: steps * config.epochs,
            checkpoint_every: config.checkpoint_every_steps.unwrap_or(0),
            lr_curve: LrCurve::new(&config.lr, config.epochs, steps),
        }
    }
}

/// One epoch's training steps and what they record.
struct EpochRun<'a, 'j, B: AutodiffBackend> {
    job: &'a TrainJob<'j>,
    plan: &'a Plan,
    stepper: &'a Stepper<B>,
    epoch: usize,
    run: &'a mut RunDir,
    observer: &'a mut dyn Observer,
}

/// Losses and hits still on the device, one per step since the last record, with the step's
/// batch size.
type Pending<B> = Vec<(
    Tensor<<B as AutodiffBackend>::InnerBackend, 1>,
    Tensor<<B as AutodiffBackend>::InnerBackend, 1, Int>,
    usize,
)>;

impl<B: AutodiffBackend> EpochRun<'_, '_, B> {
    /// Trains the epoch's remaining steps from `position` (its step and running sums), which
    /// it keeps current; returns the network and the number of samples trained here.
    fn train(
        &mut self,
        network: Network<B>,
        optimizer: &mut NetworkOptimizer<B>,
        position: &mut Position,
    ) -> Result<(Network<B>, usize), TrainError> {
        let (job, plan, epoch) = (self.job, self.plan, self.epoch);
        let config = job.config;
        // Order and augmentation are seeded per epoch, and the backend's random numbers
        // (dropout) per step, so a resumed run continues exactly where it stopped.
        let epoch_seed = config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let order = permutation(job.train.len(), epoch_seed);
        let batches: Vec<&[usize]> = order.chunks(plan.batch).take(plan.steps).collect();
        let first_step = position.step.min(plan.steps);
        let draw = Epoch {
            seed: epoch_seed,
            augment: config.augment.as_ref(),
        };
        let started = Instant::now();
        let mut seen_here = 0usize;
        let mut pending: Pending<B> = Vec::with_capacity(REPORT_EVERY);
        let mut window = Window::default();
        std::thread::scope(|scope| {
            let mut network = network;
            let loader = Loader::spawn(
                scope,
                job.train,
                &batches[first_step..],
                job.recipe,
                draw,
                LOADER_THREADS,
            );
            for (i, host) in loader.enumerate() {
                let step = first_step + i;
                let global = (epoch - 1) * plan.steps + step;
                let lr = config.lr.at(global, plan.total_steps, plan.steps);
                let n = host.len();
                let seed = step_seed(config.seed, global);
                let (stepped, out) = self.stepper.step(
                    network,
                    host,
                    optimizer,
                    lr,
                    position.loss_scaler.as_mut(),
                    seed,
                );
                network = stepped;
                pending.push((out.loss, out.hits, n));
                position.seen += n;
                position.step = step + 1;
                seen_here += n;
                let done = step + 1;
                let checkpoint_now = plan.checkpoint_every > 0
                    && done % plan.checkpoint_every == 0
                    && done < plan.steps;
                if pending.len() == REPORT_EVERY || done == plan.steps || checkpoint_now {
                    for (l, h, n) in pending.drain(..) {
                        let l = l.into_scalar().elem::<f64>() * n as f64;
                        let h = h.into_scalar().elem::<i64>();
                        position.loss_sum += l;
                        position.correct += h;
                        window.add(l, h, n);
                    }
                    log_step(
                        self.run,
                        epoch,
                        global + 1,
                        lr,
                        &mut window,
                        position.loss_scaler.as_ref(),
                    )?;
                    self.observer.step(&StepReport {
                        epoch,
                        step: done,
                        steps: plan.steps,
                        loss: position.loss_sum / position.seen as f64,
                        accuracy: position.correct as f64 / position.seen as f64,
                        lr,
                        images_per_sec: seen_here as f64 / started.elapsed().as_secs_f64(),
                    });
                }
                if checkpoint_now {
                    checkpoint::save(&self.run.path, position, &network, optimizer)?;
                }
            }
            Ok((network, seen_here))
        })
    }
}

/// Evaluates the epoch's network on the test split and, when the job has one, the real
/// handwriting; the report's `seconds` is left for the caller, who knows when the epoch ends.
fn evaluate_epoch<B: AutodiffBackend>(
    job: &TrainJob,
    network: &Network<B>,
    position: &Position,
    epoch: usize,
    device: &B::Device,
    images_per_sec: f64,
) -> EpochReport {
    let inner = network.valid();
    let test = evaluate(&inner, job.test, job.recipe, 256, device);
    let real = job.real.map(|(name, set)| {
        (
            name.to_string(),
            evaluate(&inner, set, job.recipe, 256, device),
        )
    });
    EpochReport {
        epoch,
        epochs: job.config.epochs,
        train_loss: position.loss_sum / position.seen as f64,
        train_accuracy: position.correct as f64 / position.seen as f64,
        images_per_sec,
        seconds: 0.0,
        best: test.top1 > position.best_top1,
        test,
        real,
    }
}

/// The backend seed for a global step: dropout masks depend on the step, not on history.
fn step_seed(seed: u64, global_step: usize) -> u64 {
    (seed ^ 0xD1B5_4A32_D192_ED03)
        .wrapping_add((global_step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Loss and accuracy of the steps since the last step record (the per-step curves).
#[derive(Default)]
struct Window {
    loss_sum: f64,
    correct: i64,
    seen: usize,
}

impl Window {
    fn add(&mut self, loss_sum: f64, correct: i64, n: usize) {
        self.loss_sum += loss_sum;
        self.correct += correct;
        self.seen += n;
    }
}

fn log_step(
    run: &mut RunDir,
    epoch: usize,
    global_step: usize,
    lr: f64,
    window: &mut Window,
    scaler: Option<&LossScaler>,
) -> Result<(), TrainError> {
    let w = std::mem::take(window);
    let record = RunLine::Step(StepRecord {
        step: global_step,
        epoch,
        lr,
        loss: w.loss_sum / w.seen.max(1) as f64,
        accuracy: w.correct as f64 / w.seen.max(1) as f64,
        loss_scale: scaler.map(|s| s.scale as f64),
        skipped_steps: scaler.map(|s| s.skipped as u64),
    });
    run.log(&record).map_err(|source| TrainError::Io {
        path: run.path.join("metrics.jsonl"),
        source,
    })
}

fn log_epoch(run: &mut RunDir, r: &EpochReport) -> Result<(), TrainError> {
    let real = |pick: fn(&Evaluation) -> f64| r.real.as_ref().map_or(f64::NAN, |(_, e)| pick(e));
    let record = RunLine::Epoch(EpochRecord {
        epoch: r.epoch,
        train_loss: r.train_loss,
        train_accuracy: r.train_accuracy,
        test_loss: r.test.loss,
        test_top1: r.test.top1,
        test_top5: r.test.top5,
        test_top10: r.test.top10,
        images_per_sec: r.images_per_sec,
        seconds: r.seconds,
        real_data: r.real.as_ref().map(|(name, _)| name.clone()),
        real_top1: real(|e| e.top1),
        real_top5: real(|e| e.top5),
        real_top10: real(|e| e.top10),
    });
    run.log(&record).map_err(|source| TrainError::Io {
        path: run.path.join("metrics.jsonl"),
        source,
    })
}

/// Adds the epoch's real-handwriting figures, when it has them, to the bundle's metrics (as
/// the `metrics.jsonl` line has them): the figure that says how the model reads
/// people, beside the often synthetic test split.
fn add_real(metrics: &mut serde_json::Value, r: &EpochReport) {
    if let Some((name, real)) = &r.real {
        metrics["real_data"] = json!(name);
        metrics["real_top1"] = json!(real.top1);
        metrics["real_top5"] = json!(real.top5);
        metrics["real_top10"] = json!(real.top10);
    }
}

/// The plots are a view of the run: one that fails is reported, never the end of training.
fn update_plots(run: &RunDir, lr: &LrCurve) {
    if let Err(e) = write_training_plots(&run.path, lr) {
        eprintln!("warning: plots in {} not updated: {e}", run.path.display());
    }
}

/// Loads the `--init` bundle at `path`, which must hold the run's model (at any input side
/// its weights do not depend on) and classes in the same order (class `i` of the head must
/// mean the same symbol). The command calls it before
/// making the run folder, so a wrong bundle leaves nothing behind, and passes the bundle on in
/// [`TrainJob::init`].
pub fn check_init(path: &Path, spec: &ModelSpec, charset: &Charset) -> Result<Bundle, TrainError> {
    let bundle = Bundle::load(path)?;
    let mismatch = |detail: String| {
        TrainError::Bundle(BundleError::Mismatch {
            path: path.to_path_buf(),
            detail,
        })
    };
    // Another input side is taken where no weight depends on it: a model trained on small
    // inputs goes on at a larger side ("progressive resizing").
    if bundle.spec.name != spec.name || !bundle.spec.same_weights(spec) {
        return Err(mismatch(format!(
            "--init holds model `{}` ({} classes on {:?}), the run trains `{}` ({} classes on \
             {:?})",
            bundle.spec.name,
            bundle.spec.classes,
            bundle.spec.input,
            spec.name,
            spec.classes,
            spec.input
        )));
    }
    if let Some(i) = (0..charset.len()).find(|&i| bundle.charset.symbol(i) != charset.symbol(i)) {
        return Err(mismatch(format!(
            "--init's class {i} is `{}`, the data's is `{}` (charset `{}` vs `{}`)",
            bundle.charset.symbol(i),
            charset.symbol(i),
            bundle.charset.name,
            charset.name
        )));
    }
    Ok(bundle)
}

fn make_bundle<B: AutodiffBackend>(
    network: &Network<B>,
    job: &TrainJob,
    epoch: usize,
    r: &EpochReport,
) -> Result<Bundle, TrainError> {
    let provenance = Provenance {
        inkstone_version: env!("CARGO_PKG_VERSION").to_string(),
        created_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        data: job.config.data.clone(),
        epochs_trained: epoch,
        training: serde_json::to_value(job.config).expect("config serialises"),
    };
    let mut metrics = json!({
        "split": format!("{}:test", job.config.data), "epoch": epoch,
        "test_top1": r.test.top1, "test_top5": r.test.top5, "test_loss": r.test.loss,
        "train_loss": r.train_loss, "train_accuracy": r.train_accuracy,
    });
    add_real(&mut metrics, r);
    Ok(Bundle::new(
        network,
        job.spec.clone(),
        job.recipe.clone(),
        job.charset.clone(),
        provenance,
        metrics,
    )?)
}

fn save(bundle: &Bundle, path: &std::path::Path) -> Result<(), TrainError> {
    Ok(bundle.save(path)?)
}
