//! The Burn module built from a [`ModelSpec`]: one enum variant per layer kind, generic over
//! the backend, so the same network trains on the CPU (Flex) and on CUDA.

use crate::batch_norm;
use crate::parts::{ConvPart, ResidualParts};
use crate::spec::{Layer, ModelSpec, Shape, SpecError};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// A network built from a spec. `forward` maps `[batch, c, h, w]` images to `[batch, classes]`
/// logits.
#[derive(Module, Debug)]
pub struct Network<B: Backend> {
    pub layers: Vec<LayerModule<B>>,
}

// A network holds a few dozen layers, built once; the size spread between variants costs
// nothing, and Burn's `Module` derive has no `Box` support to even it out.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum LayerModule<B: Backend> {
    Conv(Conv2d<B>),
    BatchNorm(BatchNorm<B>),
    Relu(Relu),
    MaxPool(MaxPool2d),
    GlobalAvgPool(AdaptiveAvgPool2d),
    Flatten(Flatten),
    Dropout(Dropout),
    Linear(Linear<B>),
    Residual(BasicBlock<B>),
}

/// `[b, c, h, w]` → `[b, c·h·w]`. (A module only so that it can sit in [`LayerModule`].)
#[derive(Module, Clone, Debug)]
pub struct Flatten {
    pub start_dim: usize,
}

#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    pub conv1: Conv2d<B>,
    pub bn1: BatchNorm<B>,
    pub conv2: Conv2d<B>,
    pub bn2: BatchNorm<B>,
    pub down: Option<Downsample<B>>,
}

#[derive(Module, Debug)]
pub struct Downsample<B: Backend> {
    pub conv: Conv2d<B>,
    pub bn: BatchNorm<B>,
}

/// The activation between layers: feature maps before `flatten`, vectors after.
pub enum Activation<B: Backend> {
    Map(Tensor<B, 4>),
    Flat(Tensor<B, 2>),
}

impl<B: Backend> Network<B> {
    /// Builds a freshly initialised network; fails if the spec's shapes do not chain.
    pub fn new(spec: &ModelSpec, device: &B::Device) -> Result<Self, SpecError> {
        let shapes = spec.shapes()?;
        let inputs = std::iter::once(spec.input_shape()).chain(shapes.iter().copied());
        let layers = spec
            .layers
            .iter()
            .zip(inputs)
            .map(|(layer, input)| LayerModule::new(layer, input, device))
            .collect();
        Ok(Network { layers })
    }

    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let out = self
            .layers
            .iter()
            .fold(Activation::Map(images), |x, layer| layer.forward(x));
        match out {
            Activation::Flat(logits) => logits,
            Activation::Map(map) => map.flatten(1, 3),
        }
    }
}

fn conv<B: Backend>(part: ConvPart, device: &B::Device) -> Conv2d<B> {
    let pad = part.padding;
    Conv2dConfig::new([part.cin, part.cout], [part.kernel, part.kernel])
        .with_stride([part.stride, part.stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(part.bias)
        .init(device)
}

impl<B: Backend> LayerModule<B> {
    fn new(layer: &Layer, input: Shape, device: &B::Device) -> Self {
        let cin = input.channels();
        match *layer {
            Layer::BatchNorm => LayerModule::BatchNorm(BatchNormConfig::new(cin).init(device)),
            Layer::Relu => LayerModule::Relu(Relu::new()),
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            } => LayerModule::MaxPool(
                MaxPool2dConfig::new([kernel, kernel])
                    .with_strides([stride, stride])
                    .with_padding(PaddingConfig2d::Explicit(
                        padding, padding, padding, padding,
                    ))
                    .init(),
            ),
            Layer::GlobalAvgPool => {
                LayerModule::GlobalAvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init())
            }
            Layer::Flatten => LayerModule::Flatten(Flatten { start_dim: 1 }),
            Layer::Dropout { p } => LayerModule::Dropout(DropoutConfig::new(p).init()),
            Layer::Linear { out } => LayerModule::Linear(LinearConfig::new(cin, out).init(device)),
            Layer::Conv { .. } => {
                LayerModule::Conv(conv(layer.conv_part(input).expect("a conv layer"), device))
            }
            Layer::Residual { out, stride } => LayerModule::Residual(BasicBlock::new(
                ResidualParts::new(cin, out, stride),
                device,
            )),
        }
    }

    pub(crate) fn forward(&self, x: Activation<B>) -> Activation<B> {
        use Activation::{Flat, Map};
        match (self, x) {
            (LayerModule::Conv(m), Map(x)) => Map(m.forward(x)),
            (LayerModule::BatchNorm(m), Map(x)) => Map(batch_norm::forward(m, x)),
            (LayerModule::Relu(m), Map(x)) => Map(m.forward(x)),
            (LayerModule::Relu(m), Flat(x)) => Flat(m.forward(x)),
            (LayerModule::MaxPool(m), Map(x)) => Map(m.forward(x)),
            (LayerModule::GlobalAvgPool(m), Map(x)) => Map(m.forward(x)),
            (LayerModule::Flatten(_), Map(x)) => Flat(x.flatten(1, 3)),
            (LayerModule::Dropout(m), Map(x)) => Map(m.forward(x)),
            (LayerModule::Dropout(m), Flat(x)) => Flat(m.forward(x)),
            (LayerModule::Linear(m), Flat(x)) => Flat(m.forward(x)),
            (LayerModule::Residual(m), Map(x)) => Map(m.forward(x)),
            // `ModelSpec::shapes` rejects every other pairing before a network is built.
            (_, Map(_)) | (_, Flat(_)) => unreachable!("spec shapes were checked at build time"),
        }
    }
}

impl<B: Backend> BasicBlock<B> {
    fn new(parts: ResidualParts, device: &B::Device) -> Self {
        let bn = |part: ConvPart| BatchNormConfig::new(part.cout).init(device);
        BasicBlock {
            conv1: conv(parts.conv1, device),
            bn1: bn(parts.conv1),
            conv2: conv(parts.conv2, device),
            bn2: bn(parts.conv2),
            down: parts.down.map(|part| Downsample {
                conv: conv(part, device),
                bn: bn(part),
            }),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let identity = match &self.down {
            Some(d) => batch_norm::forward(&d.bn, d.conv.forward(x.clone())),
            None => x.clone(),
        };
        let y = batch_norm::forward(&self.bn1, self.conv1.forward(x));
        let y = batch_norm::forward(
            &self.bn2,
            self.conv2.forward(burn::tensor::activation::relu(y)),
        );
        burn::tensor::activation::relu(y + identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{builtin, default_side, BUILTIN_NAMES};
    use burn::backend::Flex;
    use burn::tensor::Distribution;

    #[test]
    fn every_builtin_maps_images_to_class_logits() {
        let device = Default::default();
        for name in BUILTIN_NAMES {
            let side = default_side(name);
            let spec = builtin(name, 7, side).unwrap();
            let net = Network::<Flex>::new(&spec, &device).unwrap();
            let x = Tensor::<Flex, 4>::random([2, 1, side, side], Distribution::Default, &device);
            assert_eq!(net.forward(x).dims(), [2, 7], "{name}");
        }
    }

    #[test]
    fn weights_round_trip_reproduces_outputs() {
        let device = Default::default();
        let spec = builtin("digitcnn", 10, 28).unwrap();
        let a = Network::<Flex>::new(&spec, &device).unwrap();
        let b = Network::<Flex>::new(&spec, &device)
            .unwrap()
            .with_weights(a.weights())
            .unwrap();
        let x = Tensor::<Flex, 4>::random([3, 1, 28, 28], Distribution::Default, &device);
        let diff = (a.forward(x.clone()) - b.forward(x))
            .abs()
            .max()
            .into_scalar();
        // Linear weights are transposed out and back, which may change the matmul's
        // summation order, not the values.
        assert!(diff < 1e-6, "outputs differ by {diff}");
        let mut broken = a.weights();
        broken.remove("layers.0.weight");
        let err = Network::<Flex>::new(&spec, &device)
            .unwrap()
            .with_weights(broken)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "weights do not match the spec: tensor `layers.0.weight` is missing"
        );
    }
}
