//! Dynamic loss scaling for fp16 training, as PyTorch's `GradScaler`: fp16 gradients below
//! 2^-24 flush to zero, so the loss is multiplied by a large scale before the backward pass
//! and the (fp32) gradients divided by it before the optimiser step. A step whose gradients
//! overflowed (inf or NaN) is skipped and the scale halved; after `GROWTH_INTERVAL` good
//! steps in a row it doubles, so it settles just under the overflow point.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};

/// PyTorch's defaults.
pub const INITIAL_SCALE: f32 = 65_536.0;
pub const GROWTH_INTERVAL: usize = 2_000;

/// The scale and the count of good steps since it last changed; saved in checkpoints so a
/// resumed fp16 run scales exactly as an uninterrupted one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossScaler {
    pub scale: f32,
    pub good_steps: usize,
    /// Steps skipped for overflow since the run began (reported in the step records).
    #[serde(default)]
    pub skipped: usize,
}

impl Default for LossScaler {
    fn default() -> Self {
        LossScaler {
            scale: INITIAL_SCALE,
            good_steps: 0,
            skipped: 0,
        }
    }
}

impl LossScaler {
    /// Divides every gradient of `module` in `grads` by the scale and updates the scale.
    /// Returns false when a gradient is not finite: the caller must skip this step.
    pub fn unscale<B: AutodiffBackend, M: AutodiffModule<B>>(
        &mut self,
        module: &M,
        grads: &mut GradientsParams,
    ) -> bool {
        let mut unscale = Unscale::<B> {
            grads,
            factor: 1.0 / self.scale,
            probe: None,
        };
        module.visit(&mut unscale);
        // One read back for the whole model: x - x is NaN exactly where x is inf or NaN.
        let finite = unscale
            .probe
            .is_none_or(|p| p.into_scalar().elem::<f64>().is_finite());
        self.update(finite);
        finite
    }

    fn update(&mut self, finite: bool) {
        if finite {
            self.good_steps += 1;
            if self.good_steps == GROWTH_INTERVAL {
                self.scale *= 2.0;
                self.good_steps = 0;
            }
        } else {
            self.scale /= 2.0;
            self.good_steps = 0;
            self.skipped += 1;
        }
    }
}

struct Unscale<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    factor: f32,
    probe: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Unscale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) else {
            return;
        };
        let grad = grad * self.factor;
        let probe = (grad.clone() - grad.clone()).sum();
        self.probe = Some(match self.probe.take() {
            Some(sum) => sum + probe,
            None => probe,
        });
        self.grads.register::<B::InnerBackend, D>(param.id, grad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::{Linear, LinearConfig};

    type A = Autodiff<Flex>;

    fn grads_of(layer: &Linear<A>, input: [f32; 2]) -> GradientsParams {
        let device = Default::default();
        let x = Tensor::<A, 2>::from_floats([input], &device);
        let loss = layer.forward(x).sum();
        GradientsParams::from_grads(loss.backward(), layer)
    }

    #[test]
    fn finite_gradients_are_divided_by_the_scale() {
        let device = Default::default();
        let layer = LinearConfig::new(2, 1).init::<A>(&device);
        let mut scaler = LossScaler::default();
        let mut grads = grads_of(&layer, [3.0, 5.0]);
        assert!(scaler.unscale(&layer, &mut grads));
        let weight = grads
            .get::<Flex, 2>(layer.weight.id)
            .expect("weight gradient")
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(weight, vec![3.0 / INITIAL_SCALE, 5.0 / INITIAL_SCALE]);
        assert_eq!(scaler.good_steps, 1);
        assert_eq!(scaler.scale, INITIAL_SCALE);
    }

    #[test]
    fn an_overflow_is_reported_and_halves_the_scale_and_good_steps_double_it() {
        let device = Default::default();
        let layer = LinearConfig::new(2, 1).init::<A>(&device);
        let mut scaler = LossScaler::default();
        let mut grads = grads_of(&layer, [f32::INFINITY, 1.0]);
        assert!(!scaler.unscale(&layer, &mut grads));
        assert_eq!(scaler.scale, INITIAL_SCALE / 2.0);
        let mut grads = grads_of(&layer, [f32::NAN, 1.0]);
        assert!(!scaler.unscale(&layer, &mut grads));
        assert_eq!(scaler.scale, INITIAL_SCALE / 4.0);
        assert_eq!(scaler.skipped, 2);
        for step in 1..=GROWTH_INTERVAL {
            let mut grads = grads_of(&layer, [1.0, 1.0]);
            assert!(scaler.unscale(&layer, &mut grads));
            let expected = if step < GROWTH_INTERVAL { 4.0 } else { 2.0 };
            assert_eq!(
                scaler.scale,
                INITIAL_SCALE / expected,
                "after {step} good steps"
            );
        }
        assert_eq!(scaler.good_steps, 0);
    }
}
