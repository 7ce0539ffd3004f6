//! `inkstone train`.

use crate::dataset;
use crate::device::DeviceChoice;
use crate::progress::TrainProgress;
use anyhow::{Context, Result};
use clap::Args;
use inkstone_data::packed::{PackedSet, PreparedSet};
use inkstone_data::source::Loaded;
use inkstone_data::synth::SynthSet;
use inkstone_data::Split;
use inkstone_data::{Charset, Recipe};
use inkstone_model::{ModelSpec, Precision};
use inkstone_train::optimizer::OptimizerKind;
use inkstone_train::schedule::ScheduleKind;
use inkstone_train::trainer::TrainJob;
use inkstone_train::{RunDir, TrainConfig};
use std::path::{Path, PathBuf};

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
        "font_fraction", "synth_style", "real_test"])]
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
    /// .ttf/.otf/.ttc/.woff/.woff2; repeatable.
    #[arg(long)]
    font: Vec<PathBuf>,
    /// With `--data synth:<charset>`: share of samples drawn from the fonts.
    #[arg(long)]
    font_fraction: Option<f32>,
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
            || self.synth_style.is_some()
        {
            anyhow::bail!(
                "--synth-per-class, --font, --font-fraction and --synth-style need --data synth:<charset>"
            );
        }
        if self.real_test.is_some() {
            c.real_test = self.real_test.clone();
        }
        c.validate()?;
        Ok(c)
    }
}

/// Writers per class in the held-out test set of a synthetic run without `--test-data`.
const SYNTH_TEST_PER_CLASS: usize = 2;

/// The training samples: a prepared (packed) set, or a synthesiser writing afresh per epoch.
enum TrainSet {
    Packed(PackedSet),
    Synth(SynthSet),
}

impl TrainSet {
    fn as_prepared(&self) -> &dyn PreparedSet {
        match self {
            TrainSet::Packed(set) => set,
            TrainSet::Synth(set) => set,
        }
    }
}

/// A model whose pooling cannot take the input side is refused with the smallest side it can.
fn check_input_side(spec: &ModelSpec, model: &str, side: usize) -> Result<()> {
    let Err(why) = spec.shapes() else {
        return Ok(());
    };
    let fits = |s: usize| {
        let mut spec = spec.clone();
        spec.input = [spec.input[0], s, s];
        spec.shapes().is_ok()
    };
    match (side + 1..=1024).find(|&s| fits(s)) {
        Some(least) => anyhow::bail!(
            "--input {side}: too small for {model}, which needs at least {least} ({why})"
        ),
        None => Err(why.into()),
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
            let checkpoint = inkstone_train::checkpoint::peek(dir)?;
            if let Some(at) = &checkpoint {
                if at.finished(config.epochs) {
                    // Not a failure: the run is complete.
                    let done = inkstone_train::TrainError::Finished(config.epochs);
                    println!("{}: {done}", dir.display());
                    return Ok(());
                }
                eprintln!(
                    "resuming {} at epoch {}, step {}",
                    dir.display(),
                    at.epoch,
                    at.step
                );
            } else {
                eprintln!(
                    "resuming {}: no checkpoint yet, from the start",
                    dir.display()
                );
            }
            (config, Some(run), checkpoint.is_some())
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
    let labels = dataset::label_options(config.charset.as_deref(), config.skip_unknown)?;
    let started = std::time::Instant::now();
    let side = inkstone_model::builtin::default_side(&config.model) as u32;
    let (train, train_name, test, test_name, recipe, charset) =
        match dataset::synth_charset(&config.data) {
            Some(name) => {
                let synth = config.synth.clone().unwrap_or_default();
                let charset = Charset::resolve(name)?;
                let recipe = config
                    .recipe
                    .clone()
                    .unwrap_or_else(|| dataset::default_recipe(&charset, side));
                let set = dataset::synth_set(
                    &config.data,
                    &synth,
                    charset.clone(),
                    &recipe,
                    config.seed,
                )?;
                let (test, test_name) = match &config.test_data {
                    Some(arg) => {
                        let (loaded, name) = dataset::load(arg, Split::Test, &labels)?;
                        (dataset::prepare(loaded, &recipe, &name)?, name)
                    }
                    None => {
                        let name = format!("{} (held-out writers)", config.data);
                        (set.held_out(SYNTH_TEST_PER_CLASS, &name), name)
                    }
                };
                (
                    TrainSet::Synth(set),
                    config.data.clone(),
                    test,
                    test_name,
                    recipe,
                    charset,
                )
            }
            None => {
                let (train_loaded, train_name) =
                    dataset::load(&config.data, Split::Train, &labels)?;
                let test_arg = dataset::test_source(&config.data, config.test_data.as_deref())?;
                let (test_loaded, test_name) = dataset::load(&test_arg, Split::Test, &labels)?;
                let charset = dataset::charset_of(&train_loaded).clone();
                let recipe = match (&config.recipe, &train_loaded) {
                    (Some(r), _) => r.clone(),
                    (None, Loaded::Packed(p)) => p.meta.recipe.clone(),
                    (None, Loaded::Raw(_)) => dataset::default_recipe(&charset, side),
                };
                let train = dataset::prepare(train_loaded, &recipe, &train_name)?;
                let test = dataset::prepare(test_loaded, &recipe, &test_name)?;
                (
                    TrainSet::Packed(train),
                    train_name,
                    test,
                    test_name,
                    recipe,
                    charset,
                )
            }
        };
    if test.meta.charset.symbols != charset.symbols {
        anyhow::bail!(
            "{test_name}: its classes ({}) differ from the training data's ({})",
            test.meta.charset.name,
            charset.name
        );
    }
    // Real handwriting is read with the run's classes: its own labels map onto them.
    let real = match &config.real_test {
        Some(arg) => {
            let real_labels = inkstone_data::source::LabelOptions {
                charset: Some(charset.clone()),
                skip_unknown: false,
            };
            let (loaded, name) = dataset::load(arg, Split::Test, &real_labels)?;
            Some((name.clone(), dataset::prepare(loaded, &recipe, &name)?))
        }
        None => None,
    };
    let spec =
        inkstone_model::builtin::resolve(&config.model, charset.len(), recipe.input_size as usize)?;
    check_input_side(&spec, &config.model, recipe.input_size as usize)?;
    if spec.input != [1, recipe.input_size as usize, recipe.input_size as usize]
        || spec.classes != charset.len()
    {
        anyhow::bail!(
            "{}: model takes {:?} input with {} classes, the data is 1×{}² with {} classes",
            config.model,
            spec.input,
            spec.classes,
            recipe.input_size,
            charset.len()
        );
    }
    eprintln!(
        "data: {train_name} ({} samples) / {test_name} ({}), {} classes ({}), {}² input, \
         prepared in {:.1}s; model {} ({} parameters)",
        train.as_prepared().len(),
        test.len(),
        charset.len(),
        charset.name,
        recipe.input_size,
        started.elapsed().as_secs_f64(),
        spec.name,
        inkstone_model::Summary::of(&spec)?.params()
    );
    let out = out.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from("runs").join(format!("{}-{secs}", spec.name))
    });
    // `--init` matters only to a run without a checkpoint; it is loaded and checked before a
    // run folder is made.
    let init = match &config.init {
        Some(path) if !has_checkpoint => Some(inkstone_train::trainer::check_init(
            Path::new(path),
            &spec,
            &charset,
        )?),
        _ => None,
    };
    let mut run = match resumed {
        Some(run) => run,
        None => RunDir::create(&out, config)?,
    };
    let job = TrainJob {
        config,
        spec: &spec,
        recipe: &recipe,
        charset: &charset,
        train: train.as_prepared(),
        test: &test,
        real: real.as_ref().map(|(name, set)| (name.as_str(), set)),
        init: init.as_ref(),
    };
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
        test_name,
        best_bundle: run.best_bundle(),
    })
}
