//! `inkstone bench train`: training throughput on random data, the same measurement as
//! `shared/bench/torch_reference.py` (Adam, lr 1e-3, cross-entropy, warm-up steps excluded).
//! `inkstone bench predict`: single-image latency of the path `predict` and `serve` use.

use crate::device::DeviceChoice;
use anyhow::{Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use clap::Subcommand;
use inkstone_data::image_file::decode_gray;
use inkstone_model::recognizer::Recognizer;
use inkstone_model::{Bundle, ModelSpec, Network, Precision};
use inkstone_train::batch::HostBatch;
use inkstone_train::loss_scale::LossScaler;
use inkstone_train::optimizer::{OptimizerConfig, OptimizerKind};
use inkstone_train::step::Stepper;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Loader throughput: samples/s of batches built by the loader threads (map read or
    /// synthesis, augmentation, normalisation), to compare with a training step's time.
    Loader {
        /// An `.inkd` packed file, or `synth:<charset>` (fresh synthetic writers, drawn with
        /// the default style and the characters recipe at `--input`).
        data: String,
        /// Input side for `synth:` data.
        #[arg(long, default_value_t = 32)]
        input: u32,
        /// Fonts for `synth:` data (files or folders); repeatable.
        #[arg(long)]
        font: Vec<PathBuf>,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Loader threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Augmentation: none, digits or characters.
        #[arg(long, default_value = "characters")]
        augment: String,
        #[arg(long, default_value_t = 100)]
        batches: usize,
    },
    /// Training steps per second on random data; prints img/s and step time.
    Train {
        #[arg(long, default_value = "lenet5")]
        model: String,
        /// Input side in pixels.
        #[arg(long)]
        input: Option<usize>,
        #[arg(long, default_value_t = 10)]
        classes: usize,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long, default_value_t = 50)]
        steps: usize,
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        #[arg(long, default_value = "cpu")]
        device: DeviceChoice,
        /// fp32, bf16 or fp16 (as `train --precision`, loss scaling included).
        #[arg(long, default_value = "fp32")]
        precision: Precision,
    },
    /// One image at a time through decode, recipe, network and ranking; prints the median
    /// time per image and its parts (compare with bench/torch_serve.py latency).
    Predict {
        bundle: PathBuf,
        /// An image file (PNG, JPEG, ...).
        image: PathBuf,
        #[arg(long, default_value_t = 2000)]
        iters: usize,
        /// Also time the network alone on batches of this many copies (the service's batches).
        #[arg(long)]
        batch: Option<usize>,
        /// Threads one network run spreads its matrix products over, or a bundle's test-time
        /// views run side by side on (as `predict --threads`; default: all cores for views or
        /// a network large enough to gain from them, else one).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=crate::MAX_THREADS))]
        threads: Option<u16>,
    },
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Loader {
            data,
            input,
            font,
            batch,
            threads,
            augment,
            batches,
        } => {
            let (set, recipe) = loader_set(&data, input, &font)?;
            run_loader(set.as_ref(), &recipe, batch, threads, &augment, batches)
        }
        BenchCommand::Train {
            model,
            input,
            classes,
            batch,
            steps,
            warmup,
            device,
            precision,
        } => run_train(
            model,
            input,
            classes,
            TrainShape {
                batch,
                steps,
                warmup,
                precision,
            },
            device,
        ),
        BenchCommand::Predict {
            bundle,
            image,
            iters,
            batch,
            threads,
        } => run_predict(&bundle, &image, iters, batch, threads.map(usize::from)),
    }
}

/// The set `bench loader` reads, a packed file or a synthetic source, and its recipe.
fn loader_set(
    data: &str,
    input: u32,
    fonts: &[PathBuf],
) -> Result<(
    Box<dyn inkstone_data::packed::PreparedSet>,
    inkstone_data::Recipe,
)> {
    let Some(charset) = crate::dataset::synth_charset(data) else {
        let set = inkstone_data::packed::PackedSet::open(Path::new(data))?;
        let recipe = set.meta.recipe.clone();
        return Ok((Box::new(set), recipe));
    };
    let charset = inkstone_data::Charset::resolve(charset)?;
    let recipe = inkstone_data::Recipe::characters(input);
    let config = inkstone_data::synth::set::SynthConfig {
        fonts: fonts
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect(),
        ..Default::default()
    };
    let set = crate::dataset::synth_set(data, &config, charset, &recipe, 1)?;
    Ok((Box::new(set), recipe))
}

fn run_loader(
    set: &dyn inkstone_data::packed::PreparedSet,
    recipe: &inkstone_data::Recipe,
    batch: usize,
    threads: usize,
    augment: &str,
    batches: usize,
) -> Result<()> {
    use inkstone_data::augment::Augment;
    use inkstone_train::batch::{Epoch, Loader};
    let augment = match augment {
        "none" => None,
        "digits" => Some(Augment::digits()),
        "characters" => Some(Augment::characters()),
        other => anyhow::bail!("--augment {other}: use none, digits or characters"),
    };
    let order = inkstone_data::packed::permutation(set.len(), 1);
    let chunks: Vec<&[usize]> = order.chunks(batch.max(1)).cycle().take(batches).collect();
    let epoch = Epoch {
        seed: 1,
        augment: augment.as_ref(),
    };
    let started = Instant::now();
    let samples: usize = std::thread::scope(|scope| {
        Loader::spawn(scope, set, &chunks, recipe, epoch, threads)
            .map(|b| b.len())
            .sum()
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "loader: {samples} samples of {0}×{0} in {seconds:.2}s = {1:.0} samples/s \
         ({threads} threads, batch {batch}, augment {2})",
        set.side(),
        samples as f64 / seconds,
        if epoch.augment.is_some() { "on" } else { "off" }
    );
    Ok(())
}

fn run_predict(
    bundle: &Path,
    image: &Path,
    iters: usize,
    batch: Option<usize>,
    threads: Option<usize>,
) -> Result<()> {
    let recognizer =
        Recognizer::with_threads_or_worth(Bundle::load(bundle)?, threads, crate::cores())
            .with_context(|| bundle.display().to_string())?;
    let threads = recognizer.threads();
    let bytes = std::fs::read(image)?;
    let (mut decode, mut recipe, mut network) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..iters.max(1) + 10 {
        let t0 = Instant::now();
        let gray = decode_gray(&bytes).with_context(|| image.display().to_string())?;
        let t1 = Instant::now();
        let input = recognizer.input_for(&gray);
        let t2 = Instant::now();
        let top = recognizer
            .rank_batch(input, 1, 5)
            .map_err(anyhow::Error::msg)?;
        let t3 = Instant::now();
        std::hint::black_box(top);
        if i < 10 {
            continue; // warm-up
        }
        decode.push((t1 - t0).as_secs_f64());
        recipe.push((t2 - t1).as_secs_f64());
        network.push((t3 - t2).as_secs_f64());
    }
    let median_us = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1e6
    };
    let (d, r, n) = (
        median_us(&mut decode),
        median_us(&mut recipe),
        median_us(&mut network),
    );
    println!(
        "inkstone predict {} ({}): {:.1} us/image median = decode {d:.1} + recipe {r:.1} + network {n:.1} ({iters} images, {threads} thread{})",
        recognizer.bundle.spec.name,
        image.display(),
        d + r + n,
        if threads == 1 { "" } else { "s" }
    );
    if let Some(n) = batch.filter(|&n| n > 1) {
        let one = recognizer.input_for(&decode_gray(&bytes).map_err(anyhow::Error::msg)?);
        let inputs: Vec<f32> = one.iter().copied().cycle().take(one.len() * n).collect();
        let rounds = (iters / n).max(3);
        let mut times = Vec::new();
        for _ in 0..rounds + 2 {
            let t0 = Instant::now();
            std::hint::black_box(
                recognizer
                    .logits(inputs.clone(), n)
                    .map_err(anyhow::Error::msg)?,
            );
            times.push(t0.elapsed().as_secs_f64());
        }
        let per_image = median_us(&mut times.split_off(0).into_iter().skip(2).collect()) / n as f64;
        println!("  network on batches of {n}: {per_image:.1} us/image median ({rounds} batches)");
    }
    Ok(())
}

/// What one `bench train` measures: steps of `batch` images after `warmup` untimed ones.
struct TrainShape {
    batch: usize,
    steps: usize,
    warmup: usize,
    precision: Precision,
}

fn run_train(
    model: String,
    input: Option<usize>,
    classes: usize,
    shape: TrainShape,
    device: DeviceChoice,
) -> Result<()> {
    let side = input.unwrap_or_else(|| inkstone_model::builtin::default_side(&model));
    let spec = inkstone_model::builtin::resolve(&model, classes, side)?;
    let started = Instant::now();
    let (first_step, per_step) = crate::with_train_backend!(device, |B, device| {
        bench_train::<B>(&spec, &shape, &device)
    });
    let TrainShape {
        batch, precision, ..
    } = shape;
    let img_s = batch as f64 / per_step;
    println!(
        "inkstone {} {side}x{side}x1 {classes}cls train bs={batch} {precision:?} device={device:?}: {img_s:.1} img/s, {:.2} ms/step (first step {:.2}s, total {:.1}s)",
        spec.name,
        per_step * 1e3,
        first_step,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Returns (seconds until the first step finished, seconds per step after warm-up). Each step
/// is the training loop's own ([`Stepper::step`]), host batch to updated weights, on one
/// batch of noise.
fn bench_train<B: AutodiffBackend>(
    spec: &ModelSpec,
    shape: &TrainShape,
    device: &B::Device,
) -> (f64, f64) {
    let &TrainShape {
        batch,
        steps,
        warmup,
        precision,
    } = shape;
    B::seed(device, 0);
    let started = Instant::now();
    let mut network = Network::<B>::new(spec, device).expect("spec was checked");
    // Adam, as the PyTorch reference (`bench/torch_cpu_train.py`): AdamW without decay.
    let mut optim = OptimizerConfig {
        kind: OptimizerKind::Adamw,
        momentum: 0.0,
        weight_decay: 0.0,
    }
    .build::<B>();
    let stepper = Stepper::<B>::new(std::slice::from_ref(device), 0.0, precision);
    let host = random_batch(spec, batch);
    let mut scaler = (precision == Precision::Fp16).then(LossScaler::default);
    let mut first = 0.0;
    let mut timer = Instant::now();
    for i in 0..warmup.max(1) + steps {
        if i == warmup.max(1) {
            B::sync(device).expect("device sync");
            timer = Instant::now();
        }
        let (stepped, _) = stepper.step(
            network,
            host.clone(),
            &mut optim,
            1e-3,
            scaler.as_mut(),
            i as u64,
        );
        network = stepped;
        if i == 0 {
            B::sync(device).expect("device sync");
            first = started.elapsed().as_secs_f64();
        }
    }
    <B as Backend>::sync(device).expect("device sync");
    (first, timer.elapsed().as_secs_f64() / steps.max(1) as f64)
}

/// A batch of `n` images of uniform noise in [-1, 1) at of `spec`'s input with uniform labels, seeded.
fn random_batch(spec: &ModelSpec, n: usize) -> HostBatch {
    let [_, side, _] = spec.input;
    let mut rng = StdRng::seed_from_u64(0);
    HostBatch {
        pixels: (0..n * side * side)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect(),
        labels: (0..n)
            .map(|_| rng.random_range(0..spec.classes as i64))
            .collect(),
        side,
    }
}
