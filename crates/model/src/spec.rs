//! `ModelSpec`: the network as data. One enum of layer kinds; building, summarising and
//! exporting each match on it. Users may write their own as JSON, the way the
//! seeds' Caffe users wrote a prototxt.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most trainable parameters a spec may have: 2^28 (1 GiB of f32 weights), over ten times
/// ResNet-18 with a 7 000-class head. A larger spec is refused before anything is allocated.
pub const MAX_PARAMS: usize = 1 << 28;
/// Most values in one sample's feature map (the input, any layer's output, or a layer's
/// zero-padded input): 2^28, a 1 GiB map per sample.
pub const MAX_ACTIVATION: usize = 1 << 28;

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

impl Shape {
    /// Values per sample; `None` when the count overflows.
    pub fn elements(&self) -> Option<usize> {
        match *self {
            Shape::Map { c, h, w } => c.checked_mul(h)?.checked_mul(w),
            Shape::Flat(n) => Some(n),
        }
    }

    /// Channels of a feature map, or the length of a flat vector (a linear layer's input).
    pub fn channels(self) -> usize {
        match self {
            Shape::Map { c, .. } => c,
            Shape::Flat(n) => n,
        }
    }
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
    #[error("--input {side}: too small for {model}, which needs at least {least} ({why})")]
    InputTooSmall {
        model: String,
        side: usize,
        least: usize,
        why: Box<SpecError>,
    },
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
        let padded = |size: usize, pad: usize| {
            pad.checked_mul(2)
                .and_then(|p| p.checked_add(size))
                .ok_or_else(|| format!("padding {pad} is too large"))
        };
        let window = |size: usize, kernel: usize, stride: usize, pad: usize| {
            if kernel == 0 || stride == 0 {
                return Err("kernel and stride must be at least 1".to_string());
            }
            let padded = padded(size, pad)?;
            padded
                .checked_sub(kernel)
                .map(|d| d / stride + 1)
                .ok_or_else(|| format!("kernel {kernel} is larger than the padded input {padded}"))
        };
        // Zero padding is materialised by some backends, so a padded map counts as an
        // activation too (a huge padding with a huge stride otherwise has a tiny output).
        let padded_fits = |(c, h, w): (usize, usize, usize), pad: usize| {
            let (ph, pw) = (padded(h, pad)?, padded(w, pad)?);
            match (Shape::Map { c, h: ph, w: pw }).elements() {
                Some(n) if n <= MAX_ACTIVATION => Ok(()),
                _ => Err(format!(
                    "padding {pad} makes a {c}×{ph}×{pw} input, over the limit of \
                     {MAX_ACTIVATION} values"
                )),
            }
        };
        let positive = |out: usize| match out {
            0 => Err("out must be at least 1".to_string()),
            _ => Ok(out),
        };
        Ok(match *self {
            Layer::Conv {
                out,
                kernel,
                stride,
                padding,
                ..
            } => {
                let (c, h, w) = map(input)?;
                padded_fits((c, h, w), padding)?;
                Shape::Map {
                    c: positive(out)?,
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
                padded_fits((c, h, w), padding)?;
                Shape::Map {
                    c,
                    h: window(h, kernel, stride, padding)?,
                    w: window(w, kernel, stride, padding)?,
                }
            }
            Layer::Residual { out, stride } => {
                let (_, h, w) = map(input)?;
                Shape::Map {
                    c: positive(out)?,
                    h: window(h, 3, stride, 1)?,
                    w: window(w, 3, stride, 1)?,
                }
            }
            Layer::GlobalAvgPool => {
                let (c, _, _) = map(input)?;
                Shape::Map { c, h: 1, w: 1 }
            }
            Layer::Flatten => {
                map(input)?;
                Shape::Flat(input.elements().ok_or("the flattened size overflows")?)
            }
            Layer::Linear { out } => match input {
                Shape::Flat(_) => Shape::Flat(positive(out)?),
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

    /// The output shape of every layer, checking that each layer accepts its input, that
    /// the network ends in `classes` logits, and that it stays within [`MAX_PARAMS`] and
    /// [`MAX_ACTIVATION`].
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
        let too_large = |n: Option<usize>| n.is_none_or(|n| n > MAX_ACTIVATION);
        if too_large(self.input_shape().elements()) {
            return Err(model_error(format!(
                "input {} is over the limit of {MAX_ACTIVATION} values",
                self.input_shape()
            )));
        }
        let mut shape = self.input_shape();
        let mut shapes = Vec::with_capacity(self.layers.len());
        let mut params = 0usize;
        for (index, layer) in self.layers.iter().enumerate() {
            let layer_error = |detail: String| SpecError::Layer {
                model: self.name.clone(),
                index,
                kind: layer.kind(),
                detail,
            };
            let output = layer.output_shape(shape).map_err(layer_error)?;
            if too_large(output.elements()) {
                return Err(layer_error(format!(
                    "output {output} is over the limit of {MAX_ACTIVATION} values"
                )));
            }
            params = layer
                .params(shape)
                .and_then(|p| p.checked_add(params))
                .filter(|&p| p <= MAX_PARAMS)
                .ok_or_else(|| {
                    layer_error(format!(
                        "brings the parameters over the limit of {MAX_PARAMS}"
                    ))
                })?;
            shape = output;
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

    #[test]
    fn absurd_sizes_are_refused_not_allocated() {
        let spec = |input: &str, layers: &str| {
            let text = format!(r#"{{"name":"m","input":{input},"classes":3,"layers":[{layers}]}}"#);
            ModelSpec::from_json(&text).unwrap_err().to_string()
        };
        let head = r#"{"kind":"flatten"},{"kind":"linear","out":3}"#;
        let err = spec(
            "[1,8,8]",
            &format!(r#"{{"kind":"conv","out":1000000000000,"kernel":3}},{head}"#),
        );
        assert!(
            err.contains("layer 0 (conv)") && err.contains("limit"),
            "{err}"
        );
        let err = spec(
            "[1,8,8]",
            r#"{"kind":"flatten"},{"kind":"linear","out":100000000},{"kind":"linear","out":3}"#,
        );
        assert!(
            err.contains("layer 1 (linear)") && err.contains("parameters"),
            "{err}"
        );
        let huge = usize::MAX;
        let err = spec(
            "[1,8,8]",
            &format!(
                r#"{{"kind":"conv","out":1,"kernel":3,"padding":{huge},"stride":{huge}}},{head}"#
            ),
        );
        assert!(err.contains("padding"), "{err}");
        let err = spec(
            "[1,8,8]",
            &format!(r#"{{"kind":"max_pool","kernel":3,"stride":100000,"padding":100000}},{head}"#),
        );
        assert!(
            err.contains("padding 100000") && err.contains("limit"),
            "{err}"
        );
        let err = spec("[1000000,1000000,1000000]", head);
        assert!(err.contains("input") && err.contains("limit"), "{err}");
        let err = spec(
            "[1,4,4]",
            &format!(r#"{{"kind":"conv","out":0,"kernel":3}},{head}"#),
        );
        assert!(err.contains("at least 1"), "{err}");
    }
}
