//! `inkstone bench train`: training throughput on random data, the same measurement as
//! `shared/bench/torch_reference.py` (Adam, lr 1e-3, cross-entropy, warm-up steps excluded).

use crate::device::DeviceChoice;
use anyhow::Result;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Int, Tensor};
use clap::Subcommand;
use inkstone_model::{ModelSpec, Network};
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
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
    },
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    let BenchCommand::Train {
        model,
        input,
        classes,
        batch,
        steps,
        warmup,
        device,
    } = cmd;
    let side = input.unwrap_or_else(|| inkstone_model::builtin::default_side(&model));
    let spec = crate::train_cmd::resolve_spec(&model, classes, side)?;
    let started = Instant::now();
    let (first_step, per_step) = crate::with_train_backend!(device, |B, device| {
        bench_train::<B>(&spec, batch, steps, warmup, &device)
    });
    let img_s = batch as f64 / per_step;
    println!(
        "inkstone {} {side}x{side}x1 {classes}cls train bs={batch} device={device:?}: {img_s:.1} img/s, {:.2} ms/step (first step {:.2}s, total {:.1}s)",
        spec.name,
        per_step * 1e3,
        first_step,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Returns (seconds until the first step finished, seconds per step after warm-up).
fn bench_train<B: AutodiffBackend>(
    spec: &ModelSpec,
    batch: usize,
    steps: usize,
    warmup: usize,
    device: &B::Device,
) -> (f64, f64) {
    B::seed(device, 0);
    let started = Instant::now();
    let mut network = Network::<B>::new(spec, device).expect("spec was checked");
    let mut optim = AdamConfig::new().init::<B, Network<B>>();
    let [c, h, w] = spec.input;
    let x = Tensor::<B, 4>::random([batch, c, h, w], Distribution::Normal(0.0, 1.0), device);
    let y = Tensor::<B, 1, Int>::random(
        [batch],
        Distribution::Uniform(0.0, spec.classes as f64),
        device,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut first = 0.0;
    let mut timer = Instant::now();
    for i in 0..warmup.max(1) + steps {
        if i == warmup.max(1) {
            B::sync(device).expect("device sync");
            timer = Instant::now();
        }
        let loss = loss_fn.forward(network.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optim.step(1e-3, network, grads);
        if i == 0 {
            B::sync(device).expect("device sync");
            first = started.elapsed().as_secs_f64();
        }
    }
    <B as Backend>::sync(device).expect("device sync");
    (first, timer.elapsed().as_secs_f64() / steps.max(1) as f64)
}
