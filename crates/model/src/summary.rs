//! `inkstone model summary`: each layer's output shape, parameters and FLOPs, computed from
//! the spec alone (no weights needed).

use crate::spec::{Layer, ModelSpec, Shape, SpecError};
use std::fmt;

pub struct SummaryRow {
    pub index: usize,
    pub layer: String,
    pub output: Shape,
    pub params: usize,
    pub flops: u64,
}

/// Per-layer and total figures. FLOPs count a multiply-add as 2, for convolutions and linear
/// layers (the rest is < 1% of the work in these networks).
pub struct Summary {
    pub name: String,
    pub input: Shape,
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    pub fn of(spec: &ModelSpec) -> Result<Self, SpecError> {
        let shapes = spec.shapes()?;
        let inputs = std::iter::once(spec.input_shape()).chain(shapes.iter().copied());
        let rows = spec
            .layers
            .iter()
            .zip(inputs)
            .zip(&shapes)
            .enumerate()
            .map(|(index, ((layer, input), &output))| {
                let (params, flops) = cost(layer, input, output);
                SummaryRow {
                    index,
                    layer: describe(layer),
                    output,
                    params,
                    flops,
                }
            })
            .collect();
        Ok(Summary {
            name: spec.name.clone(),
            input: spec.input_shape(),
            rows,
        })
    }

    pub fn params(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    pub fn flops(&self) -> u64 {
        self.rows.iter().map(|r| r.flops).sum()
    }
}

fn area(shape: Shape) -> u64 {
    match shape {
        Shape::Map { h, w, .. } => (h * w) as u64,
        Shape::Flat(_) => 1,
    }
}

/// Trainable parameters and FLOPs of one layer. Every multiply-add comes from a weight
/// matrix or kernel element applied once per output position.
fn cost(layer: &Layer, input: Shape, output: Shape) -> (usize, u64) {
    // `ModelSpec::shapes` has accepted the spec, which bounds every count.
    let bounded = "counts bounded by ModelSpec::shapes";
    let params = layer.params(input).expect(bounded);
    let macs: u64 = layer
        .tensors(input)
        .iter()
        .filter(|t| t.trainable && t.shape.len() >= 2)
        .map(|t| t.elements().expect(bounded) as u64 * area(output))
        .sum();
    (params, 2 * macs)
}

fn describe(layer: &Layer) -> String {
    match *layer {
        Layer::Conv {
            out,
            kernel,
            stride,
            padding,
            bias,
        } => {
            let bias = if bias { "" } else { ", no bias" };
            format!("conv {out}@{kernel}×{kernel} s{stride} p{padding}{bias}")
        }
        Layer::MaxPool {
            kernel,
            stride,
            padding,
        } => format!("max_pool {kernel}×{kernel} s{stride} p{padding}"),
        Layer::Dropout { p } => format!("dropout {p}"),
        Layer::Linear { out } => format!("linear {out}"),
        Layer::Residual { out, stride } => format!("residual {out} s{stride}"),
        _ => layer.kind().to_string(),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model {}  input {}", self.name, self.input)?;
        writeln!(
            f,
            "{:>3}  {:<28} {:>12} {:>11} {:>14}",
            "#", "layer", "output", "params", "FLOPs"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:>3}  {:<28} {:>12} {:>11} {:>14}",
                r.index,
                r.layer,
                r.output.to_string(),
                r.params,
                r.flops
            )?;
        }
        writeln!(
            f,
            "total: {} parameters ({:.2} MB as f32), {:.3} MFLOPs per image (multiply-add = 2)",
            self.params(),
            self.params() as f64 * 4.0 / 1e6,
            self.flops() as f64 / 1e6
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::builtin;

    #[test]
    fn lenet5_has_the_textbook_parameter_count() {
        let s = Summary::of(&builtin("lenet5", 10, 28).unwrap()).unwrap();
        assert_eq!(s.params(), 61_706);
        // conv1 28·28·6·25, conv2 10·10·16·150, fc 400·120 + 120·84 + 84·10 multiply-adds.
        let macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10;
        assert_eq!(s.flops(), 2 * macs as u64);
    }

    #[test]
    fn resnet18_matches_torchvision_count_for_its_head() {
        // torchvision resnet18 (3-ch 7×7 stem, 1000 classes) has 11 689 512 parameters; ours
        // differs only in the stem (1·64·9 vs 3·64·49) and the head (512·c + c).
        let s = Summary::of(&builtin("resnet18", 1000, 64).unwrap()).unwrap();
        assert_eq!(s.params(), 11_689_512 - 3 * 64 * 49 + 64 * 9);
    }
}
