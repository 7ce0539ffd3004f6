//! The optimisers a run can use, built from serialisable settings.

use crate::loss_scale::LossScaler;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamW, AdamWConfig, GradientsParams, Optimizer, Sgd, SgdConfig};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder, RecorderError};
use burn::tensor::backend::AutodiffBackend;
use inkstone_model::Network;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// SGD with (heavy-ball, undampened) momentum and L2 weight decay, as PyTorch and the seeds.
    Sgd,
    /// AdamW (decoupled weight decay).
    Adamw,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    /// SGD momentum (ignored by AdamW).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

fn default_momentum() -> f64 {
    0.9
}

/// An optimiser over a [`Network`], whichever kind the config chose.
pub enum NetworkOptimizer<B: AutodiffBackend> {
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, Network<B>, B>),
    AdamW(OptimizerAdaptor<AdamW, Network<B>, B>),
}

impl OptimizerConfig {
    pub fn build<B: AutodiffBackend>(&self) -> NetworkOptimizer<B> {
        match self.kind {
            OptimizerKind::Sgd => {
                let momentum = (self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                });
                let decay = (self.weight_decay > 0.0)
                    .then(|| WeightDecayConfig::new(self.weight_decay as f32));
                NetworkOptimizer::Sgd(
                    SgdConfig::new()
                        .with_momentum(momentum)
                        .with_weight_decay(decay)
                        .init(),
                )
            }
            OptimizerKind::Adamw => NetworkOptimizer::AdamW(
                AdamWConfig::new()
                    .with_weight_decay(self.weight_decay as f32)
                    .with_epsilon(1e-8)
                    .init(),
            ),
        }
    }
}

impl<B: AutodiffBackend> NetworkOptimizer<B> {
    pub fn step(&mut self, lr: f64, network: Network<B>, grads: GradientsParams) -> Network<B> {
        match self {
            NetworkOptimizer::Sgd(o) => o.step(lr, network, grads),
            NetworkOptimizer::AdamW(o) => o.step(lr, network, grads),
        }
    }

    /// One step from `grads`. With a `scaler`, they are gradients of the loss times its scale:
    /// they are unscaled first, and a step whose gradients overflowed is skipped.
    pub fn step_unscaling(
        &mut self,
        lr: f64,
        network: Network<B>,
        mut grads: GradientsParams,
        scaler: Option<&mut LossScaler>,
    ) -> Network<B> {
        if let Some(scaler) = scaler {
            if !scaler.unscale(&network, &mut grads) {
                return network;
            }
        }
        self.step(lr, network, grads)
    }
}

/// Optimiser state (momenta, Adam moments) serialised at full precision, so a resumed run
/// steps exactly as the uninterrupted one would have.
type StateRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

impl<B: AutodiffBackend> NetworkOptimizer<B> {
    pub fn state_bytes(&self) -> Result<Vec<u8>, RecorderError> {
        let recorder = StateRecorder::new();
        match self {
            NetworkOptimizer::Sgd(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
            NetworkOptimizer::AdamW(o) => Recorder::<B>::record(&recorder, o.to_record(), ()),
        }
    }

    /// This optimiser with the state [`NetworkOptimizer::state_bytes`] saved.
    pub fn with_state(self, bytes: Vec<u8>, device: &B::Device) -> Result<Self, RecorderError> {
        let recorder = StateRecorder::new();
        Ok(match self {
            NetworkOptimizer::Sgd(o) => {
                NetworkOptimizer::Sgd(o.load_record(recorder.load(bytes, device)?))
            }
            NetworkOptimizer::AdamW(o) => {
                NetworkOptimizer::AdamW(o.load_record(recorder.load(bytes, device)?))
            }
        })
    }
}
