//! `ModelSpec`: the network as data. One enum of layer kinds; building, summarising and
//! (later) exporting each match on it once. Users may write their own as JSON, the way the
//! seeds' Caffe users wrote a prototxt.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A feed-forward network over `input` = `[channels, height, width]`, ending in `classes`
/// logits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub input: [usize; 3],
    pub classes: usize,
    pub layers: Vec<Layer>,
}

fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}

/// One layer (or residual block) of a [`ModelSpec`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// Square 2-D convolution with symmetric zero padding.
    Conv {
        out: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    BatchNorm,
    Relu,
    MaxPool {
        kernel: usize,
        stride: usize,
        /// Implicit −∞ border on every side (ResNet's 3×3/2 stem pool uses 1).
        #[serde(default)]
        padding: usize,
    },
    /// Average over all spatial positions: `[c, h, w]` → `[c, 1, 1]`.
    GlobalAvgPool,
    /// `[c, h, w]` → `[c·h·w]`.
    Flatten,
    Dropout {
        p: f64,
    },
    Linear {
        out: usize,
    },
    /// ResNet basic block: conv3×3(stride)-BN-ReLU-conv3×3-BN, plus the input (through a
    /// 1×1 conv + BN when the shape changes), then ReLU.
    Residual {
        out: usize,
        #[serde(default = "one")]
        stride: usize,
    },
}

/// The shape of the activation between layers, per sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Map { c: usize, h: usize, w: usize },
    Flat(usize),
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Map { c, h, w } => write!(f, "{c}×{h}×{w}"),
            Shape::Flat(n) => write!(f, "{n}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("model spec `{model}`, layer {index} ({kind}): {detail}")]
    Layer {
        model: String,
        index: usize,
        kind: &'static str,
        detail: String,
    },
    #[error("model spec `{model}`: {detail}")]
    Model { model: String, detail: String },
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv { .. } => "conv",
            Layer::BatchNorm => "batch_norm",
            Layer::Relu => "relu",
            Layer::MaxPool { .. } => "max_pool",
            Layer::GlobalAvgPool => "global_avg_pool",
            Layer::Flatten => "flatten",
            Layer::Dropout { .. } => "dropout",
            Layer::Linear { .. } => "linear",
            Layer::Residual { .. } => "residual",
        }
    }

    /// The output shape for `input`, or why this layer cannot take it.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, String> {
        let map = |input: Shape| match input {
            Shape::Map { c, h, w } => Ok((c, h, w)),
            Shape::Flat(_) => Err(format!("needs a feature map, got a flat vector {input}")),
        };
        let window = |size: usize, kernel: usize, stride: usize, pad: usize| {
            if kernel == 0 || stride == 0 {
                return Err("kernel and stride must be at least 1".to_string());
            }
            (size + 2 * pad)
                .checked_sub(kernel)
                .map(|d| d / stride + 1)
                .ok_or_else(|| {
                    format!(
                        "kernel {kernel} is larger than the padded input {}",
                        size + 2 * pad
                    )
                })
        };
        Ok(match *self {
            Layer::Conv {
                out,
                kernel,
                stride,
                padding,
                ..
            } => {
                let (_, h, w) = map(input)?;
                Shape::Map {
                    c: out,
                    h: window(h, kernel, stride, padding)?,
                    w: window(w, kernel, stride, padding)?,
                }
            }
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            } => {
                let (c, h, w) = map(input)?;
                Shape::Map {
                    c,
                    h: window(h, kernel, stride, padding)?,
                    w: window(w, kernel, stride, padding)?,
                }
            }
            Layer::Residual { out, stride } => {
                let (_, h, w) = map(input)?;
                Shape::Map {
                    c: out,
                    h: window(h, 3, stride, 1)?,
                    w: window(w, 3, stride, 1)?,
                }
            }
            Layer::GlobalAvgPool => {
                let (c, _, _) = map(input)?;
                Shape::Map { c, h: 1, w: 1 }
            }
            Layer::Flatten => {
                let (c, h, w) = map(input)?;
                Shape::Flat(c * h * w)
            }
            Layer::Linear { out } => match input {
                Shape::Flat(_) => Shape::Flat(out),
                Shape::Map { .. } => {
                    return Err(format!(
                        "needs a flat vector (add a flatten layer), got {input}"
                    ))
                }
            },
            Layer::Dropout { p } if !(0.0..1.0).contains(&p) => {
                return Err(format!("p = {p} is outside [0, 1)"))
            }
            Layer::BatchNorm => {
                map(input)?;
                input
            }
            Layer::Relu | Layer::Dropout { .. } => input,
        })
    }
}

impl ModelSpec {
    /// Parses a spec from JSON and checks it.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let spec: ModelSpec = serde_json::from_str(text).map_err(|e| SpecError::Model {
            model: "<json>".into(),
            detail: e.to_string(),
        })?;
        spec.shapes()?;
        Ok(spec)
    }

    pub fn input_shape(&self) -> Shape {
        let [c, h, w] = self.input;
        Shape::Map { c, h, w }
    }

    /// The output shape of every layer, checking that each layer accepts its input and that
    /// the network ends in `classes` logits.
    pub fn shapes(&self) -> Result<Vec<Shape>, SpecError> {
        let model_error = |detail: String| SpecError::Model {
            model: self.name.clone(),
            detail,
        };
        if self.input.contains(&0) || self.classes == 0 {
            return Err(model_error(
                "input sizes and class count must be positive".into(),
            ));
        }
        let mut shape = self.input_shape();
        let mut shapes = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            shape = layer
                .output_shape(shape)
                .map_err(|detail| SpecError::Layer {
                    model: self.name.clone(),
                    index,
                    kind: layer.kind(),
                    detail,
                })?;
            shapes.push(shape);
        }
        if shape != Shape::Flat(self.classes) {
            return Err(model_error(format!(
                "ends in {shape}, but must end in {} class logits",
                self.classes
            )));
        }
        Ok(shapes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_with_defaults() {
        let text = r#"{"name":"tiny","input":[1,8,8],"classes":3,"layers":[
            {"kind":"conv","out":4,"kernel":3,"padding":1},{"kind":"relu"},
            {"kind":"max_pool","kernel":2,"stride":2},{"kind":"flatten"},{"kind":"linear","out":3}]}"#;
        let spec = ModelSpec::from_json(text).unwrap();
        assert_eq!(
            spec.layers[0],
            Layer::Conv {
                out: 4,
                kernel: 3,
                stride: 1,
                padding: 1,
                bias: true
            }
        );
        let shapes = spec.shapes().unwrap();
        assert_eq!(shapes[2], Shape::Map { c: 4, h: 4, w: 4 });
        assert_eq!(shapes[3], Shape::Flat(64));
        let again: ModelSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn bad_specs_say_which_layer_and_why() {
        let no_flatten =
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"linear","out":3}]}"#;
        let err = ModelSpec::from_json(no_flatten).unwrap_err().to_string();
        assert!(
            err.contains("layer 0 (linear)") && err.contains("flatten"),
            "{err}"
        );
        let wrong_end = r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"flatten"}]}"#;
        let err = ModelSpec::from_json(wrong_end).unwrap_err().to_string();
        assert!(err.contains("ends in 64"), "{err}");
        let too_big = r#"{"name":"m","input":[1,2,2],"classes":3,"layers":[{"kind":"conv","out":1,"kernel":5}]}"#;
        assert!(ModelSpec::from_json(too_big)
            .unwrap_err()
            .to_string()
            .contains("larger"));
        let unknown = r#"{"name":"m","input":[1,2,2],"classes":3,"layers":[{"kind":"lstm"}]}"#;
        assert!(ModelSpec::from_json(unknown)
            .unwrap_err()
            .to_string()
            .contains("lstm"));
    }
}
