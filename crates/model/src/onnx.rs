//! ONNX export: every [`Layer`] kind maps to standard ONNX nodes (opset 17), weights become
//! initialisers under the bundle's own tensor names, the batch axis is dynamic (`N`), and the
//! spec, recipe and charset travel in `metadata_props`, so a deployed `.onnx` still knows how
//! to prepare its input and what its outputs mean. Messages are the prost-generated ONNX types
//! shipped by `tract-onnx`; nothing is serialised by hand.

use crate::bundle::Bundle;
use crate::error::ModelError;
use crate::parts::{ConvPart, ResidualParts};
use crate::spec::SpecError;
use crate::spec::{Layer, Shape};
use crate::weights::WeightMap;
use prost::Message;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::dimension::Value as Dim, tensor_shape_proto::Dimension, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

pub const OPSET: i64 = 17;
pub const INPUT_NAME: &str = "input";
pub const OUTPUT_NAME: &str = "logits";
/// Burn's `BatchNormConfig` default, which every built network uses.
const BATCH_NORM_EPSILON: f32 = 1e-5;

/// The bundle as an ONNX model, encoded.
pub fn export(bundle: &Bundle) -> Result<Vec<u8>, ModelError> {
    let mut g = GraphBuilder {
        weights: bundle.weights.clone(),
        nodes: Vec::new(),
        initializers: Vec::new(),
    };
    let mut x = INPUT_NAME.to_string();
    let shapes = bundle.spec.shapes()?;
    let inputs = std::iter::once(bundle.spec.input_shape()).chain(shapes.iter().copied());
    for (i, (layer, input)) in bundle.spec.layers.iter().zip(inputs).enumerate() {
        x = g
            .layer(&format!("layers.{i}"), layer, input, x)
            .map_err(ModelError::Weights)?;
    }
    if let Some(extra) = g.weights.keys().next() {
        return Err(ModelError::Weights(format!(
            "tensor `{extra}` is not used by any layer of the spec"
        )));
    }
    // Rename the last node's output to the public name.
    let last = g.nodes.last_mut().ok_or_else(|| SpecError::Model {
        model: bundle.spec.name.clone(),
        detail: "the spec has no layers".into(),
    })?;
    last.output = vec![OUTPUT_NAME.to_string()];
    let [c, h, w] = bundle.spec.input;
    let json = |v: serde_json::Result<String>| v.expect("bundle parts serialise to JSON");
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "inkstone".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!(
            "{} for {} classes ({})",
            bundle.spec.name, bundle.spec.classes, bundle.charset.name
        ),
        graph: Some(GraphProto {
            name: bundle.spec.name.clone(),
            node: g.nodes,
            initializer: g.initializers,
            input: vec![value_info(INPUT_NAME, &[None, Some(c), Some(h), Some(w)])],
            output: vec![value_info(OUTPUT_NAME, &[None, Some(bundle.spec.classes)])],
            ..Default::default()
        }),
        metadata_props: [
            ("inkstone.spec", json(serde_json::to_string(&bundle.spec))),
            (
                "inkstone.recipe",
                json(serde_json::to_string(&bundle.recipe)),
            ),
            (
                "inkstone.charset",
                json(serde_json::to_string(&bundle.charset)),
            ),
        ]
        .into_iter()
        .map(|(key, value)| StringStringEntryProto {
            key: key.into(),
            value,
        })
        .collect(),
        ..Default::default()
    };
    Ok(model.encode_to_vec())
}

fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(n) => Dim::DimValue(*n as i64),
                None => Dim::DimParam("N".into()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.iter().map(|&v| v as i64).collect(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..Default::default()
    }
}

struct GraphBuilder {
    /// Weights not yet placed in the graph.
    weights: WeightMap,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl GraphBuilder {
    /// Adds a node named `name` with one output (also `name`), returning the output.
    fn node(
        &mut self,
        name: &str,
        op: &str,
        inputs: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            name: name.into(),
            op_type: op.into(),
            input: inputs,
            output: vec![name.into()],
            attribute,
            ..Default::default()
        });
        name.to_string()
    }

    /// Moves weight `name` into the initialisers.
    fn weight(&mut self, name: &str) -> Result<String, String> {
        let t = self
            .weights
            .remove(name)
            .ok_or_else(|| format!("tensor `{name}` is missing"))?;
        self.initializers.push(TensorProto {
            name: name.into(),
            dims: t.shape.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            raw_data: t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        Ok(name.to_string())
    }

    fn conv(&mut self, p: &str, x: String, part: ConvPart) -> Result<String, String> {
        let mut inputs = vec![x, self.weight(&format!("{p}.weight"))?];
        if part.bias {
            inputs.push(self.weight(&format!("{p}.bias"))?);
        }
        let (k, s, pad) = (part.kernel, part.stride, part.padding);
        let attrs = vec![
            ints("kernel_shape", &[k, k]),
            ints("strides", &[s, s]),
            ints("pads", &[pad; 4]),
            ints("dilations", &[1, 1]),
            int("group", 1),
        ];
        Ok(self.node(p, "Conv", inputs, attrs))
    }

    fn batch_norm(&mut self, p: &str, x: String) -> Result<String, String> {
        let inputs = ["weight", "bias", "running_mean", "running_var"]
            .iter()
            .map(|t| self.weight(&format!("{p}.{t}")))
            .collect::<Result<Vec<_>, _>>()?;
        let inputs = std::iter::once(x).chain(inputs).collect();
        Ok(self.node(
            p,
            "BatchNormalization",
            inputs,
            vec![float("epsilon", BATCH_NORM_EPSILON)],
        ))
    }

    fn layer(&mut self, p: &str, layer: &Layer, input: Shape, x: String) -> Result<String, String> {
        let cin = input.channels();
        Ok(match *layer {
            Layer::Conv { .. } => self.conv(p, x, layer.conv_part(input).expect("a conv layer"))?,
            Layer::BatchNorm => self.batch_norm(p, x)?,
            Layer::Relu => self.node(p, "Relu", vec![x], vec![]),
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            } => self.node(
                p,
                "MaxPool",
                vec![x],
                vec![
                    ints("kernel_shape", &[kernel, kernel]),
                    ints("strides", &[stride, stride]),
                    ints("pads", &[padding; 4]),
                ],
            ),
            Layer::GlobalAvgPool => self.node(p, "GlobalAveragePool", vec![x], vec![]),
            Layer::Flatten => self.node(p, "Flatten", vec![x], vec![int("axis", 1)]),
            // Dropout is the identity at inference.
            Layer::Dropout { .. } => self.node(p, "Identity", vec![x], vec![]),
            Layer::Linear { .. } => {
                let inputs = vec![
                    x,
                    self.weight(&format!("{p}.weight"))?,
                    self.weight(&format!("{p}.bias"))?,
                ];
                self.node(p, "Gemm", inputs, vec![int("transB", 1)])
            }
            Layer::Residual { out, stride } => {
                let block = ResidualParts::new(cin, out, stride);
                let y = self.conv(&format!("{p}.conv1"), x.clone(), block.conv1)?;
                let y = self.batch_norm(&format!("{p}.bn1"), y)?;
                let y = self.node(&format!("{p}.relu1"), "Relu", vec![y], vec![]);
                let y = self.conv(&format!("{p}.conv2"), y, block.conv2)?;
                let y = self.batch_norm(&format!("{p}.bn2"), y)?;
                let identity = match block.down {
                    Some(down) => {
                        let d = self.conv(&format!("{p}.down.conv"), x, down)?;
                        self.batch_norm(&format!("{p}.down.bn"), d)?
                    }
                    None => x,
                };
                let sum = self.node(&format!("{p}.add"), "Add", vec![y, identity], vec![]);
                self.node(&format!("{p}.relu"), "Relu", vec![sum], vec![])
            }
        })
    }
}
