//! What each layer holds, derived from the spec alone: its convolutions, batch norms and
//! linear maps, and the tensors they own (PyTorch's names and layouts). The Burn network,
//! the ONNX graph, the parameter and FLOP counts and [`crate::Bundle::check`] all read this
//! one description, so a residual block's structure is written here and nowhere else.

use crate::spec::{Layer, ModelSpec, Shape, SpecError};

/// A square 2-D convolution inside a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPart {
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub bias: bool,
}

/// A ResNet basic block: conv1-BN-ReLU, conv2-BN, and, when the shape changes, a 1×1
/// convolution + BN on the way round; each convolution is followed by a batch norm of its
/// output channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResidualParts {
    pub conv1: ConvPart,
    pub conv2: ConvPart,
    pub down: Option<ConvPart>,
}

impl ResidualParts {
    pub fn new(cin: usize, out: usize, stride: usize) -> Self {
        let conv = |cin, kernel, stride, padding| ConvPart {
            cin,
            cout: out,
            kernel,
            stride,
            padding,
            bias: false,
        };
        ResidualParts {
            conv1: conv(cin, 3, stride, 1),
            conv2: conv(out, 3, 1, 1),
            down: (stride != 1 || cin != out).then(|| conv(cin, 1, stride, 0)),
        }
    }

    /// Each convolution with the names of its tensors and of its batch norm's, in order.
    pub fn named(&self) -> Vec<(&'static str, &'static str, ConvPart)> {
        let mut pairs = vec![("conv1", "bn1", self.conv1), ("conv2", "bn2", self.conv2)];
        pairs.extend(self.down.map(|d| ("down.conv", "down.bn", d)));
        pairs
    }
}

/// One tensor a layer owns: its name under the layer's prefix (`weight`, `conv1.weight`),
/// its shape, and whether training updates it (running statistics are not parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSlot {
    pub name: String,
    pub shape: Vec<usize>,
    pub trainable: bool,
}

impl TensorSlot {
    fn new(prefix: &str, name: &str, shape: Vec<usize>, trainable: bool) -> Self {
        let name = match prefix {
            "" => name.to_string(),
            p => format!("{p}.{name}"),
        };
        TensorSlot {
            name,
            shape,
            trainable,
        }
    }

    /// Values in the tensor; `None` when the count overflows.
    pub fn elements(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    }
}

fn conv_tensors(prefix: &str, c: ConvPart) -> Vec<TensorSlot> {
    let mut t = vec![TensorSlot::new(
        prefix,
        "weight",
        vec![c.cout, c.cin, c.kernel, c.kernel],
        true,
    )];
    if c.bias {
        t.push(TensorSlot::new(prefix, "bias", vec![c.cout], true));
    }
    t
}

fn batch_norm_tensors(prefix: &str, channels: usize) -> Vec<TensorSlot> {
    [
        ("weight", true),
        ("bias", true),
        ("running_mean", false),
        ("running_var", false),
    ]
    .into_iter()
    .map(|(name, trainable)| TensorSlot::new(prefix, name, vec![channels], trainable))
    .collect()
}

impl Layer {
    /// The convolution of a `conv` layer on `input` (`None` for other kinds).
    pub fn conv_part(&self, input: Shape) -> Option<ConvPart> {
        match *self {
            Layer::Conv {
                out,
                kernel,
                stride,
                padding,
                bias,
            } => Some(ConvPart {
                cin: input.channels(),
                cout: out,
                kernel,
                stride,
                padding,
                bias,
            }),
            _ => None,
        }
    }

    /// Every tensor this layer owns when its input is `input`. Linear weights are
    /// `[out, in]`, as PyTorch and ONNX Gemm (transB) have them.
    pub fn tensors(&self, input: Shape) -> Vec<TensorSlot> {
        let cin = input.channels();
        match *self {
            Layer::Conv { .. } => conv_tensors("", self.conv_part(input).expect("a conv layer")),
            Layer::Residual { out, stride } => ResidualParts::new(cin, out, stride)
                .named()
                .into_iter()
                .flat_map(|(conv, bn, part)| {
                    let mut t = conv_tensors(conv, part);
                    t.extend(batch_norm_tensors(bn, part.cout));
                    t
                })
                .collect(),
            Layer::BatchNorm => batch_norm_tensors("", cin),
            Layer::Linear { out } => vec![
                TensorSlot::new("", "weight", vec![out, cin], true),
                TensorSlot::new("", "bias", vec![out], true),
            ],
            _ => Vec::new(),
        }
    }

    /// Trainable parameters of this layer on `input`; `None` when the count overflows.
    pub fn params(&self, input: Shape) -> Option<usize> {
        self.tensors(input)
            .iter()
            .filter(|t| t.trainable)
            .try_fold(0usize, |n, t| n.checked_add(t.elements()?))
    }
}

impl ModelSpec {
    /// Whether `other` holds exactly the tensors of this spec (names and shapes), so that one's
    /// weights serve the other: the same layers and classes on another input side, where every
    /// weight is a convolution's or follows a global pooling (charcnn, ResNet-18), not where a
    /// flattened feature map feeds a linear layer (LeNet-5).
    pub fn same_weights(&self, other: &ModelSpec) -> bool {
        self.layers == other.layers
            && self.classes == other.classes
            && self.input[0] == other.input[0]
            && matches!((self.tensors(), other.tensors()), (Ok(a), Ok(b)) if a == b)
    }

    /// Every tensor of the network by its full name (`layers.3.weight`), with its shape;
    /// an error when the spec's shapes do not chain.
    pub fn tensors(&self) -> Result<Vec<TensorSlot>, SpecError> {
        let inputs = std::iter::once(self.input_shape()).chain(self.shapes()?);
        Ok(self
            .layers
            .iter()
            .zip(inputs)
            .enumerate()
            .flat_map(|(i, (layer, input))| {
                layer.tensors(input).into_iter().map(move |t| TensorSlot {
                    name: format!("layers.{i}.{}", t.name),
                    ..t
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{builtin, default_side, BUILTIN_NAMES};
    use crate::network::Network;
    use burn::backend::Flex;

    #[test]
    fn the_tensor_list_is_what_the_built_network_holds() {
        for name in BUILTIN_NAMES {
            let spec = builtin(name, 7, default_side(name)).unwrap();
            let weights = Network::<Flex>::new(&spec, &Default::default())
                .unwrap()
                .weights();
            let listed: Vec<(String, Vec<usize>)> = spec
                .tensors()
                .unwrap()
                .into_iter()
                .map(|t| (t.name, t.shape))
                .collect();
            let built: Vec<(String, Vec<usize>)> = weights
                .into_iter()
                .map(|(name, t)| (name, t.shape))
                .collect();
            let mut listed_sorted = listed.clone();
            listed_sorted.sort();
            assert_eq!(listed_sorted, built, "{name}");
        }
    }

    #[test]
    fn weights_serve_another_input_side_only_where_none_depends_on_it() {
        let charcnn = |side| builtin("charcnn", 9, side).unwrap();
        assert!(charcnn(32).same_weights(&charcnn(48)));
        assert!(builtin("resnet18", 9, 64)
            .unwrap()
            .same_weights(&builtin("resnet18", 9, 96).unwrap()));
        // LeNet-5 flattens its last feature map into a linear layer sized by the input.
        let lenet = |side| builtin("lenet5", 9, side).unwrap();
        assert!(!lenet(28).same_weights(&lenet(32)));
        // Another head, or the stem of another stage (112 px), is another network.
        assert!(!charcnn(32).same_weights(&builtin("charcnn", 10, 32).unwrap()));
        assert!(!builtin("resnet18", 9, 64)
            .unwrap()
            .same_weights(&builtin("resnet18", 9, 112).unwrap()));
        // The smaller network's weights load into the larger one unchanged.
        let small = Network::<Flex>::new(&charcnn(32), &Default::default()).unwrap();
        let large = Network::<Flex>::new(&charcnn(48), &Default::default())
            .unwrap()
            .with_weights(small.weights())
            .unwrap();
        assert_eq!(large.weights(), small.weights());
    }

    #[test]
    fn a_block_changing_shape_has_a_way_round() {
        let same = ResidualParts::new(64, 64, 1);
        assert!(same.down.is_none());
        let down = ResidualParts::new(64, 128, 2);
        let d = down.down.unwrap();
        assert_eq!((d.cin, d.cout, d.kernel, d.stride), (64, 128, 1, 2));
        let names: Vec<_> = down.named().iter().map(|(c, b, _)| (*c, *b)).collect();
        assert_eq!(
            names,
            [("conv1", "bn1"), ("conv2", "bn2"), ("down.conv", "down.bn")]
        );
    }
}
