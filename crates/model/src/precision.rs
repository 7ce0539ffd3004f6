//! Mixed precision (`train --precision bf16|fp16`): the network computes in a 16-bit format
//! while its weights, their gradients and the optimiser state stay fp32 — PyTorch's autocast
//! with fp32 master weights. Each weight is cast to the compute format where it is used, so
//! the cast is part of the autodiff graph and gradients arrive in fp32. Batch norm runs in
//! fp32 (its statistics lose too much in 16 bits), and the logits come back as fp32 for the
//! loss.

use crate::network::{Activation, BasicBlock, LayerModule, Network};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::module::{conv2d, linear};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// The number format of the forward and backward computation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    /// bfloat16: fp32's range, so no loss scaling is needed.
    Bf16,
    /// IEEE half: small gradients underflow, so training scales the loss (see `LossScaler`
    /// in inkstone-train).
    Fp16,
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Precision::Fp32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::Fp16 => DType::F16,
        }
    }

    pub fn is_fp32(&self) -> bool {
        *self == Precision::Fp32
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fp32" => Ok(Precision::Fp32),
            "bf16" => Ok(Precision::Bf16),
            "fp16" => Ok(Precision::Fp16),
            _ => Err(format!("`{s}`: use fp32, bf16 or fp16")),
        }
    }
}

impl<B: Backend> Network<B> {
    /// [`Network::forward`] computed in `precision`; returns fp32 logits.
    pub fn forward_in(&self, images: Tensor<B, 4>, precision: Precision) -> Tensor<B, 2> {
        if precision.is_fp32() {
            return self.forward(images);
        }
        let dtype = precision.dtype();
        let out = self
            .layers
            .iter()
            .fold(Activation::Map(images.cast(dtype)), |x, layer| {
                layer.forward_in(x, dtype)
            });
        let logits = match out {
            Activation::Flat(logits) => logits,
            Activation::Map(map) => map.flatten(1, 3),
        };
        logits.cast(DType::F32)
    }
}

impl<B: Backend> LayerModule<B> {
    fn forward_in(&self, x: Activation<B>, dtype: DType) -> Activation<B> {
        use Activation::{Flat, Map};
        match (self, x) {
            (LayerModule::Conv(m), Map(x)) => Map(conv_in(m, x, dtype)),
            (LayerModule::BatchNorm(m), Map(x)) => Map(batch_norm_in(m, x, dtype)),
            (LayerModule::Linear(m), Flat(x)) => Flat(linear_in(m, x, dtype)),
            (LayerModule::Residual(m), Map(x)) => Map(m.forward_in(x, dtype)),
            // Activations, pooling, flatten and dropout work in any format.
            (layer, x) => layer.forward(x),
        }
    }
}

impl<B: Backend> BasicBlock<B> {
    fn forward_in(&self, x: Tensor<B, 4>, dtype: DType) -> Tensor<B, 4> {
        let identity = match &self.down {
            Some(d) => batch_norm_in(&d.bn, conv_in(&d.conv, x.clone(), dtype), dtype),
            None => x.clone(),
        };
        let y = conv_in(&self.conv1, x, dtype);
        let y = burn::tensor::activation::relu(batch_norm_in(&self.bn1, y, dtype));
        let y = batch_norm_in(&self.bn2, conv_in(&self.conv2, y, dtype), dtype);
        burn::tensor::activation::relu(y + identity)
    }
}

fn conv_in<B: Backend>(m: &Conv2d<B>, x: Tensor<B, 4>, dtype: DType) -> Tensor<B, 4> {
    // Networks are built with explicit symmetric padding (`network::conv`).
    let padding = match m.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return m.forward(x.cast(DType::F32)).cast(dtype),
    };
    let options = ConvOptions::new(m.stride, padding, m.dilation, m.groups);
    let weight = m.weight.val().cast(dtype);
    let bias = m.bias.as_ref().map(|b| b.val().cast(dtype));
    conv2d(x, weight, bias, options)
}

fn linear_in<B: Backend>(m: &Linear<B>, x: Tensor<B, 2>, dtype: DType) -> Tensor<B, 2> {
    let weight = m.weight.val().cast(dtype);
    let bias = m.bias.as_ref().map(|b| b.val().cast(dtype));
    linear(x, weight, bias)
}

fn batch_norm_in<B: Backend>(m: &BatchNorm<B>, x: Tensor<B, 4>, dtype: DType) -> Tensor<B, 4> {
    crate::batch_norm::forward(m, x.cast(DType::F32)).cast(dtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::builtin;
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::Distribution;

    type B = Flex;

    /// Every built-in computes nearly the same logits in 16 bits as in fp32, and returns fp32.
    #[test]
    fn sixteen_bit_forward_is_close_to_fp32_for_every_builtin() {
        let device = Default::default();
        for (name, side) in [("lenet5", 28), ("digitcnn", 28), ("resnet18", 32)] {
            let spec = builtin(name, 10, side).unwrap();
            let net = Network::<B>::new(&spec, &device).unwrap();
            let x = Tensor::<B, 4>::random([2, 1, side, side], Distribution::Default, &device);
            let reference = net.forward(x.clone());
            let scale = reference.clone().abs().max().into_scalar().max(1e-3);
            for precision in [Precision::Bf16, Precision::Fp16] {
                let out = net.forward_in(x.clone(), precision);
                assert_eq!(out.dtype(), DType::F32, "{name} {precision:?}");
                let err = (out - reference.clone()).abs().max().into_scalar();
                // bf16 keeps 8 significant bits, fp16 11; errors grow with depth. Over 20 draws
                // per model the largest were 0.0073 (bf16) and 0.0008 (fp16).
                let tolerance = if precision == Precision::Bf16 {
                    0.1
                } else {
                    0.02
                };
                assert!(
                    err / scale < tolerance,
                    "{name} {precision:?}: max error {err} against logits up to {scale}"
                );
                assert!(err > 0.0, "{name} {precision:?} did not compute in 16 bits");
            }
        }
    }

    /// Gradients flow through the casts back to the fp32 weights and point where fp32's do
    /// (a direction check: single elements of a sum of cancelling bf16 terms can be far off).
    #[test]
    fn gradients_reach_the_fp32_weights() {
        type A = Autodiff<Flex>;
        let device = Default::default();
        let spec = builtin("lenet5", 10, 28).unwrap();
        for seed in 0..5 {
            A::seed(&device, seed);
            let net = Network::<A>::new(&spec, &device).unwrap();
            let x = Tensor::<A, 4>::random([8, 1, 28, 28], Distribution::Default, &device);
            let labels =
                Tensor::<A, 1, burn::tensor::Int>::from_ints([0, 1, 2, 3, 4, 5, 6, 7], &device);
            let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&device);
            let grad_of_first_conv = |precision| {
                let loss = loss_fn.forward(net.forward_in(x.clone(), precision), labels.clone());
                let grads = loss.backward();
                let LayerModule::Conv(conv) = &net.layers[0] else {
                    panic!("lenet5 starts with a convolution")
                };
                conv.weight.grad(&grads).expect("a gradient for the weight")
            };
            let reference = grad_of_first_conv(Precision::Fp32);
            let bf16 = grad_of_first_conv(Precision::Bf16);
            assert_eq!(bf16.dtype(), DType::F32);
            let dot = (bf16.clone() * reference.clone()).sum().into_scalar();
            let norms = (bf16.powi_scalar(2).sum() * reference.powi_scalar(2).sum())
                .sqrt()
                .into_scalar();
            let cosine = dot / norms;
            // Over 40 seeds the lowest was 0.963; a lost or wrong gradient is near 0.
            assert!(cosine > 0.9, "seed {seed}: cosine {cosine}");
        }
    }

    #[test]
    fn parses_and_serialises_as_the_flag_spells_it() {
        for (text, precision) in [
            ("fp32", Precision::Fp32),
            ("bf16", Precision::Bf16),
            ("fp16", Precision::Fp16),
        ] {
            assert_eq!(text.parse::<Precision>(), Ok(precision));
            assert_eq!(
                serde_json::to_string(&precision).unwrap(),
                format!("\"{text}\"")
            );
        }
        assert!("half".parse::<Precision>().unwrap_err().contains("bf16"));
    }
}
