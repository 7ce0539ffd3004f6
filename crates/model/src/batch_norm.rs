//! Batch normalisation in training mode with fewer passes over the activation than
//! `burn::nn::BatchNorm`, same results.
//!
//! Burn's training forward copies the activation twice into channel-major order (a
//! `swap_dims` + `reshape` for the mean and again for the variance), subtracts the mean twice
//! and divides by the deviation element by element: ten full-size passes, each with its own
//! backward step. Here the per-channel sums reduce the batch axis first and then each plane,
//! so no transposed copy is made; the mean is subtracted once; and the deviation is folded
//! into γ before it meets the activation: six passes. It was a tenth of a charcnn training
//! step in `perf` (`bench/README.md`). Evaluation keeps Burn's own forward (running
//! statistics), and the running statistics are updated exactly as Burn updates them.

use burn::nn::BatchNorm;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// `bn` applied to `x` (`[n, c, h, w]`): batch statistics when autodiff is on (training),
/// running statistics otherwise.
pub fn forward<B: Backend>(bn: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    if !B::ad_enabled(&x.device()) {
        return bn.forward(x);
    }
    let [n, c, h, w] = x.dims();
    let count = (n * h * w) as f64;
    let channel_mean = |t: Tensor<B, 4>| {
        t.sum_dim(0)
            .reshape([c, h * w])
            .sum_dim(1)
            .div_scalar(count)
            .reshape([c])
    };
    let mean = channel_mean(x.clone());
    let centered = x - mean.clone().reshape([1, c, 1, 1]);
    // The biased variance, as Burn uses for both the normalisation and the running state.
    let var = channel_mean(centered.clone().square());
    update_running(bn, mean, var.clone());
    let scale = bn.gamma.val() / var.add_scalar(bn.epsilon).sqrt();
    centered * scale.reshape([1, c, 1, 1]) + bn.beta.val().reshape([1, c, 1, 1])
}

fn update_running<B: Backend>(bn: &BatchNorm<B>, mean: Tensor<B, 1>, var: Tensor<B, 1>) {
    let device = mean.device();
    let blend = |running: Tensor<B, 1>, batch: Tensor<B, 1>| {
        running
            .to_device(&device)
            .mul_scalar(1.0 - bn.momentum)
            .add(batch.detach().mul_scalar(bn.momentum))
            .detach()
    };
    bn.running_mean
        .update(blend(bn.running_mean.value_sync(), mean));
    bn.running_var
        .update(blend(bn.running_var.value_sync(), var));
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::module::Param;
    use burn::nn::BatchNormConfig;
    use burn::tensor::Distribution;

    type B = Autodiff<Flex>;

    fn close(a: Tensor<Flex, 1>, b: Tensor<Flex, 1>, what: &str) {
        let (a, b): (Vec<f32>, Vec<f32>) = (
            a.into_data().to_vec().unwrap(),
            b.into_data().to_vec().unwrap(),
        );
        assert_eq!(a.len(), b.len(), "{what}");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() < 1e-4 * (1.0 + y.abs()),
                "{what} {i}: {x} vs {y}"
            );
        }
    }

    /// Output, gradients of input, γ and β, and the running statistics after two steps are
    /// Burn's own, for a batch-norm whose γ and β are not the identity.
    #[test]
    fn matches_burns_batch_norm_forward_backward_and_running_statistics() {
        let d = Default::default();
        let make = || {
            let mut bn = BatchNormConfig::new(3).init::<B>(&d);
            bn.gamma = Param::from_tensor(Tensor::from_floats([1.5, 0.25, 2.0], &d));
            bn.beta = Param::from_tensor(Tensor::from_floats([-0.5, 0.0, 1.0], &d));
            bn
        };
        let (ours, burns) = (make(), make());
        for step in 0..2 {
            let data = Tensor::<Flex, 4>::random([4, 3, 5, 6], Distribution::Normal(2.0, 3.0), &d);
            let leaf = || Tensor::<B, 4>::from_inner(data.clone()).require_grad();
            let (xa, xb) = (leaf(), leaf());
            let weights = Tensor::<B, 4>::random([4, 3, 5, 6], Distribution::Default, &d);
            let a = forward(&ours, xa.clone());
            let b = burns.forward(xb.clone());
            close(
                a.clone().inner().reshape([360]),
                b.clone().inner().reshape([360]),
                &format!("output, step {step}"),
            );
            let ga = (a * weights.clone()).sum().backward();
            let gb = (b * weights).sum().backward();
            let grad = |t: &Tensor<B, 4>, g| t.grad(g).unwrap().reshape([360]);
            close(grad(&xa, &ga), grad(&xb, &gb), "input gradient");
            close(
                ours.gamma.val().grad(&ga).unwrap(),
                burns.gamma.val().grad(&gb).unwrap(),
                "gamma gradient",
            );
            close(
                ours.beta.val().grad(&ga).unwrap(),
                burns.beta.val().grad(&gb).unwrap(),
                "beta gradient",
            );
        }
        close(
            ours.running_mean.value().inner(),
            burns.running_mean.value().inner(),
            "running mean",
        );
        close(
            ours.running_var.value().inner(),
            burns.running_var.value().inner(),
            "running variance",
        );
    }
}
