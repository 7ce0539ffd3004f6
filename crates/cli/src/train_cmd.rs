//! `inkstone train`.

use crate::device::DeviceChoice;
use crate::progress::TrainProgress;
use anyhow::{Context, Result};
use clap::Args;
use inkstone_data::open as dataset;
use inkstone_data::Recipe;
use inkstone_model::Precision;
use inkstone_train::checkpoint::{self, RunState};
use inkstone_train::optimizer::OptimizerKind;
use inkstone_train::schedule::ScheduleKind;
use inkstone_train::{PreparedJob, RunDir, TrainConfig};
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainArgs {
    /// Built-in model (lenet5, digitcnn, charcnn, resnet18) or a ModelSpec JSON file.
    #[arg(long, default_value = "lenet5")]
    model: String,
    /// `mnist` (embedded 10 000 digits), an `.inkd` packed file, a folder of MNIST IDX files,
    /// a Chinese MNIST folder, `.gnt`/`.pot` files or folders, an image folder, a CSV index.
    #[arg(long)]
    data: Option<String>,
    /// Held-out data, for sources without a test split of their own (.inkd, .gnt, .pot).
    #[arg(long)]
    test_data: Option<String>,
    /// Classes for file labels: digits, gb2312-1, chinese-numerals, or a file (one per line).
    #[arg(long)]
    charset: Option<String>,
    /// Skip and count records whose label is outside the charset (default: an error).
    #[arg(long)]
    skip_unknown: bool,
    /// Input recipe for raw images: mnist or characters (default: from the data and model).
    #[arg(long)]
    recipe: Option<String>,
    /// Model input side in pixels (e.g. 64 or 112 for ResNet-18).
    #[arg(long)]
    input: Option<u32>,
    /// A config.json (e.g. from an earlier run); flags given here override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long, value_parser = parse_optimizer)]
    optimizer: Option<OptimizerKind>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// constant, steps, poly, linear or cosine.
    #[arg(long, value_parser = parse_schedule)]
    schedule: Option<ScheduleKind>,
    #[arg(long)]
    warmup_epochs: Option<usize>,
    #[arg(long)]
    weight_decay: Option<f64>,
    #[arg(long)]
    momentum: Option<f64>,
    #[arg(long)]
    label_smoothing: Option<f32>,
    /// Training distortions: digits (affine), characters (affine, elastic, stroke width,
    /// noise) or off (default: digits for digitcnn, characters for resnet18, off otherwise).
    #[arg(long, value_parser = parse_augment)]
    augment: Option<AugmentChoice>,
    #[arg(long)]
    seed: Option<u64>,
    /// Cap steps per epoch (quick looks).
    #[arg(long)]
    max_steps_per_epoch: Option<usize>,
    /// Also checkpoint every N steps within an epoch (a checkpoint is always written at the end
    /// of each epoch), for long epochs: `--resume` then loses at most N steps.
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<usize>,
    /// Start from this bundle's weights (fine-tuning, e.g. on your own handwriting) instead
    /// of a random initialisation; it must hold the same model and classes.
    #[arg(long, value_name = "BUNDLE")]
    init: Option<PathBuf>,
    /// Compute format: fp32, or bf16 / fp16 mixed precision (fp32 master weights; fp16 with
    /// dynamic loss scaling). Evaluation and the saved bundles are always fp32.
    #[arg(long)]
    precision: Option<Precision>,
    /// Continue the run in RUN_DIR from its last checkpoint (after a crash, kill or power cut),
    /// with its own config.json; the result is the same as if it had never stopped.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = [
        "model", "data", "test_data", "charset", "skip_unknown", "recipe", "input", "config",
        "epochs", "batch_size", "optimizer", "lr", "schedule", "warmup_epochs", "weight_decay",
        "momentum", "label_smoothing", "augment", "seed", "max_steps_per_epoch",
        "checkpoint_every", "precision", "init", "out", "synth_per_class", "font",
        "font_fraction", "photo_fraction", "synth_style", "real_test"])]
    resume: Option<PathBuf>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Data parallel over several devices of one kind, e.g. `cuda:0,cuda:1`: each batch is
    /// split between them and their gradients summed (`cpu,cpu` runs the same code on the CPU).
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "device",
        value_name = "LIST"
    )]
    devices: Vec<DeviceChoice>,
    /// Run directory (default: runs/<model>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// With `--data synth:<charset>`: writers per class drawn afresh for every epoch (an epoch
    /// is classes × N samples).
    #[arg(long, value_name = "N")]
    synth_per_class: Option<usize>,
    /// With `--data synth:<charset>`: fonts to mix in, files or folders of
    /// .ttf/.otf/.ttc/.woff/.woff2; repeatable. Each `--font` is one family (one writer, drawn
    /// as often as any other, however many files its folder holds).
    #[arg(long)]
    font: Vec<PathBuf>,
    /// With `--data synth:<charset>`: share of samples drawn from the fonts.
    #[arg(long)]
    font_fraction: Option<f32>,
    /// With `--data synth:<charset>`: share of samples photographed as phone photos (uneven
    /// light, paper, ink, rules, clutter, blur, JPEG) before the recipe, as `data photos`
    /// takes them; overrides the style's `photo_fraction`.
    #[arg(long)]
    photo_fraction: Option<f32>,
    /// With `--data synth:<charset>`: the writers' style, JSON (`'{"stroke_scale": 0.2}'`,
    /// every field optional, the rest as the default writer) or a JSON file; `--font-fraction`
    /// overrides its share of fonts.
    #[arg(long, value_name = "JSON|FILE")]
    synth_style: Option<String>,
    /// Real handwriting to evaluate after every epoch beside the test data, with the run's
    /// classes (e.g. ../shared/data/chinese-mnist:test for a GB2312 model); never trained on.
    #[arg(long, value_name = "DATA")]
    real_test: Option<String>,
}

fn parse_optimizer(s: &str) -> Result<OptimizerKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("`{s}`: use sgd or adamw"))
}

/// `--augment`: a preset, or none.
#[derive(Clone)]
struct AugmentChoice(Option<inkstone_data::augment::Augment>);

fn parse_augment(s: &str) -> Result<AugmentChoice, String> {
    use inkstone_data::augment::Augment;
    match s {
        "digits" => Ok(AugmentChoice(Some(Augment::digits()))),
        "characters" => Ok(AugmentChoice(Some(Augment::characters()))),
        "off" | "none" => Ok(AugmentChoice(None)),
        _ => Err(format!("`{s}`: use digits, characters or off")),
    }
}

fn parse_schedule(s: &str) -> Result<ScheduleKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("`{s}`: use constant, steps, poly, linear or cosine"))
}

impl TrainArgs {
    fn config(&self) -> Result<TrainConfig> {
        let mut c = match &self.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a training config", path.display()))?
            }
            None => TrainConfig::defaults_for(&self.model),
        };
        if self.config.is_none() || self.model != "lenet5" {
            c.model = self.model.clone();
        }
        macro_rules! set {
            ($field:expr, $value:expr) => {
                if let Some(v) = $value {
                    $field = v;
                }
            };
        }
        set!(c.data, self.data.clone());
        if self.test_data.is_some() {
            c.test_data = self.test_data.clone();
        }
        if self.charset.is_some() {
            c.charset = self.charset.clone();
        }
        c.skip_unknown |= self.skip_unknown;
        if self.recipe.is_some() || self.input.is_some() {
            let name = self.recipe.as_deref().unwrap_or("characters");
            c.recipe = Some(Recipe::preset(name, self.input).with_context(|| {
                format!("--recipe {name}: use one of {}", Recipe::PRESETS.join(", "))
            })?);
        }
        set!(c.epochs, self.epochs);
        set!(c.batch_size, self.batch_size);
        set!(c.optimizer.kind, self.optimizer);
        set!(c.optimizer.weight_decay, self.weight_decay);
        set!(c.optimizer.momentum, self.momentum);
        set!(c.lr.max, self.lr);
        set!(c.lr.kind, self.schedule);
        set!(c.lr.warmup_epochs, self.warmup_epochs);
        set!(c.label_smoothing, self.label_smoothing);
        set!(c.seed, self.seed);
        set!(c.precision, self.precision);
        if let Some(init) = &self.init {
            c.init = Some(init.to_string_lossy().into_owned());
        }
        if let Some(AugmentChoice(augment)) = &self.augment {
            c.augment = augment.clone();
        }
        if self.max_steps_per_epoch.is_some() {
            c.max_steps_per_epoch = self.max_steps_per_epoch;
        }
        if self.checkpoint_every.is_some() {
            c.checkpoint_every_steps = self.checkpoint_every.filter(|&n| n > 0);
        }
        if dataset::synth_charset(&c.data).is_some() {
            let synth = c.synth.get_or_insert_with(Default::default);
            set!(synth.per_class, self.synth_per_class);
            if let Some(style) = &self.synth_style {
                synth.style = dataset::synth_style(style).context("--synth-style")?;
            }
            set!(synth.style.font_fraction, self.font_fraction);
            set!(synth.style.photo_fraction, self.photo_fraction);
            if !self.font.is_empty() {
                synth.fonts = self
                    .font
                    .iter()
                    .map(|f| f.to_string_lossy().into_owned())
                    .collect();
            }
            if synth.per_class == 0 {
                anyhow::bail!("--synth-per-class 0: use 1 or more writers per class");
            }
            synth
                .style
                .validate()
                .map_err(|e| anyhow::anyhow!("synthetic style: {e}"))?;
        } else if self.synth_per_class.is_some()
            || !self.font.is_empty()
            || self.font_fraction.is_some()
            || self.photo_fraction.is_some()
            || self.synth_style.is_some()
        {
            anyhow::bail!(
                "--synth-per-class, --font, --font-fraction, --photo-fraction and --synth-style need --data synth:<charset>"
            );
        }
        if self.real_test.is_some() {
            c.real_test = self.real_test.clone();
        }
        c.validate()?;
        Ok(c)
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    // A device that cannot run is reported before a run folder is made.
    let devices = if args.devices.is_empty() {
        vec![args.device]
    } else {
        args.devices.clone()
    };
    for device in &devices {
        device.start()?;
    }
    let (config, resumed, has_checkpoint) = match &args.resume {
        Some(dir) => {
            let (run, config) = RunDir::resume(dir)?;
            let has_checkpoint = match checkpoint::state(dir, config.epochs)? {
                RunState::Finished => {
                    // Not a failure: the run is complete.
                    let done = inkstone_train::TrainError::Finished(config.epochs);
                    println!("{}: {done}", dir.display());
                    return Ok(());
                }
                RunState::Stopped(at) => {
                    eprintln!(
                        "resuming {} at epoch {}, step {}",
                        dir.display(),
                        at.epoch,
                        at.step
                    );
                    true
                }
                RunState::Fresh => {
                    eprintln!(
                        "resuming {}: no checkpoint yet, from the start",
                        dir.display()
                    );
                    false
                }
            };
            (config, Some(run), has_checkpoint)
        }
        None => (args.config()?, None, false),
    };
    let started = std::time::Instant::now();
    let done = run_job(&config, resumed, has_checkpoint, &devices, args.out.clone())?;
    println!(
        "best test top-1 {:.2}% on {} after {} epochs in {:.1}s; bundle: {}",
        100.0 * done.best_top1,
        done.test_name,
        config.epochs,
        started.elapsed().as_secs_f64(),
        done.best_bundle.display()
    );
    Ok(())
}

/// What a finished job reports.
pub struct JobDone {
    pub best_top1: f64,
    pub test_name: String,
    pub best_bundle: PathBuf,
}

/// Runs a training job to its end: in `resumed` (a reopened run folder) or a new one at `out`
/// (default: runs/<model>-<unix time>). The best test top-1 and the best bundle's path.
pub fn run_job(
    config: &TrainConfig,
    resumed: Option<RunDir>,
    has_checkpoint: bool,
    devices: &[DeviceChoice],
    out: Option<PathBuf>,
) -> Result<JobDone> {
    let started = std::time::Instant::now();
    let prepared = PreparedJob::from_config(config, has_checkpoint)?;
    for note in &prepared.notes {
        eprintln!("{note}");
    }
    eprintln!(
        "data: {} ({} samples) / {} ({}), {} classes ({}), {}² input, prepared in {:.1}s; \
         model {} ({} parameters)",
        prepared.train_name,
        prepared.train.as_prepared().len(),
        prepared.test_name,
        prepared.test.len(),
        prepared.charset.len(),
        prepared.charset.name,
        prepared.recipe.input_size,
        started.elapsed().as_secs_f64(),
        prepared.spec.name,
        inkstone_model::Summary::of(&prepared.spec)?.params()
    );
    let out = out.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from("runs").join(format!("{}-{secs}", prepared.spec.name))
    });
    let mut run = match resumed {
        Some(run) => run,
        None => RunDir::create(&out, config)?,
    };
    let job = prepared.job();
    let mut progress = TrainProgress::new();
    let best = crate::with_train_backend!(devices[0], |B, _device| {
        let devices = devices
            .iter()
            .map(|&d| <B as crate::device::DeviceOf>::device_of(d))
            .collect::<Result<Vec<_>>>()?;
        inkstone_train::trainer::train_on::<B>(&job, &devices, &mut run, &mut progress)?.best_top1
    });
    Ok(JobDone {
        best_top1: best,
        test_name: prepared.test_name.clone(),
        best_bundle: run.best_bundle(),
    })
}
