//! One training step, the same for every path that trains: the training loop on one device,
//! data-parallel training on several (`--devices cuda:0,cuda:1`) and `inkstone bench train`.
//! One device is one replica, so a faster step reaches all of them.
//!
//! With several devices the step works in the manner of PyTorch's `DataParallel`: the batch
//! is split into one shard per device, each device runs forward and backward on its shard with
//! a copy of the network made from the master on the first device, the gradients are summed on
//! the first device and the optimiser steps there. Burn queues each device's kernels without
//! waiting, so one host thread keeps all devices busy; no collective is needed inside one
//! machine.
//!
//! Each shard's loss is weighted by its share of the batch, so the summed gradient is exactly
//! the gradient of the whole batch's mean loss: with one device or many, a step is the same
//! step (up to float summation order). Batch norm normalises each shard by its own statistics
//! and the first replica's running statistics are kept, as with `DataParallel`.

use crate::batch::HostBatch;
use crate::loss_scale::LossScaler;
use crate::optimizer::NetworkOptimizer;
use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use inkstone_model::{Network, Precision};

/// How a run steps: the devices a batch is spread over (the first holds the master copy of
/// the network), the loss and the compute format.
pub struct Stepper<B: AutodiffBackend> {
    devices: Vec<B::Device>,
    loss_fn: CrossEntropyLoss<B>,
    precision: Precision,
}

/// What a step computed, for the running metrics: the batch's mean loss and its hits, still on
/// the first device so that reading them waits for nothing.
pub struct StepOutcome<B: AutodiffBackend> {
    pub loss: Tensor<B::InnerBackend, 1>,
    pub hits: Tensor<B::InnerBackend, 1, Int>,
}

impl<B: AutodiffBackend> Stepper<B> {
    /// Cross-entropy with `label_smoothing` (none at 0) over `devices` (at least one).
    pub fn new(devices: &[B::Device], label_smoothing: f32, precision: Precision) -> Self {
        assert!(!devices.is_empty(), "a step needs a device");
        let loss_fn = CrossEntropyLossConfig::new()
            .with_smoothing((label_smoothing > 0.0).then_some(label_smoothing))
            .init(&devices[0]);
        Stepper {
            devices: devices.to_vec(),
            loss_fn,
            precision,
        }
    }

    /// One step of `network` (on the first device) on `host` at learning rate `lr`; returns
    /// the updated network and the step's loss and hits. `seed` seeds the backend's random
    /// numbers (dropout) on each device, so a step depends on its seed, never on history. With
    /// a `scaler` (fp16) the loss is scaled before backward and the gradients unscaled after;
    /// a step whose gradients overflowed is skipped.
    pub fn step(
        &self,
        network: Network<B>,
        host: HostBatch,
        optimizer: &mut NetworkOptimizer<B>,
        lr: f64,
        scaler: Option<&mut LossScaler>,
        seed: u64,
    ) -> (Network<B>, StepOutcome<B>) {
        let n = host.len() as f64;
        let scale = scaler.as_ref().map(|s| s.scale);
        let first = &self.devices[0];
        let mut accumulator = GradientsAccumulator::<Network<B>>::new();
        let mut loss_sum: Option<Tensor<B::InnerBackend, 1>> = None;
        let mut hits_sum: Option<Tensor<B::InnerBackend, 1, Int>> = None;
        for (r, shard) in host.split(self.devices.len()).into_iter().enumerate() {
            if shard.is_empty() {
                continue;
            }
            let share = shard.len() as f64 / n;
            let device = &self.devices[r];
            B::seed(
                device,
                seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            // The copies are made from the master each step, after its first shard: Burn
            // initialises parameters on first use, so a copy made before that would draw
            // weights of its own.
            let copy;
            let replica = if r == 0 {
                &network
            } else {
                copy = network.clone().fork(device);
                &copy
            };
            let b = shard.to_device::<B>(device);
            let logits = replica.forward_in(b.images, self.precision);
            let mut loss = self.loss_fn.forward(logits.clone(), b.labels.clone());
            if self.devices.len() > 1 {
                loss = loss * share;
            }
            let hits = crate::batch::hits(logits, b.labels);
            let (l, h) = (
                loss.clone().inner().to_device(first),
                hits.inner().to_device(first),
            );
            loss_sum = Some(loss_sum.map_or(l.clone(), |s| s + l));
            hits_sum = Some(hits_sum.map_or(h.clone(), |s| s + h));
            let loss = match scale {
                Some(scale) => loss * scale,
                None => loss,
            };
            let grads =
                GradientsParams::from_grads(loss.backward(), replica).to_device(first, replica);
            accumulator.accumulate(&network, grads);
        }
        let network = optimizer.step_unscaling(lr, network, accumulator.grads(), scaler);
        let outcome = StepOutcome {
            loss: loss_sum.expect("a batch is never empty"),
            hits: hits_sum.expect("a batch is never empty"),
        };
        (network, outcome)
    }
}
