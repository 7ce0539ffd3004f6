//! The built-in networks: classic LeNet-5, a stronger digit CNN, and ResNet-18 for 1-channel
//! input (the HCCR seed's network).

use crate::spec::{Layer, ModelSpec, SpecError};

/// Names accepted by [`builtin`].
pub const BUILTIN_NAMES: &[&str] = &["lenet5", "digitcnn", "charcnn", "resnet18"];

/// A built-in spec for `classes` classes on `side`×`side` 1-channel input.
pub fn builtin(name: &str, classes: usize, side: usize) -> Option<ModelSpec> {
    let layers = match name {
        "lenet5" => lenet5(classes),
        "digitcnn" => digit_cnn(classes),
        "charcnn" => char_cnn(classes),
        "resnet18" => resnet18(classes, side),
        _ => return None,
    };
    Some(ModelSpec {
        name: name.to_string(),
        input: [1, side, side],
        classes,
        layers,
    })
}

/// A built-in name or a spec JSON file, for `classes` classes on `side`² input (a file's own
/// input and classes are kept: the caller checks them against the data).
pub fn resolve(model: &str, classes: usize, side: usize) -> Result<ModelSpec, SpecError> {
    if let Some(spec) = builtin(model, classes, side) {
        return Ok(spec);
    }
    let text = std::fs::read_to_string(model).map_err(|e| SpecError::Model {
        model: model.to_string(),
        detail: format!(
            "not a built-in model ({}) and not a readable spec file: {e}",
            BUILTIN_NAMES.join(", ")
        ),
    })?;
    // A file's parse errors name the file.
    ModelSpec::from_json(&text).map_err(|e| match e {
        SpecError::Model { detail, .. } => SpecError::Model {
            model: model.to_string(),
            detail,
        },
        layer => layer,
    })
}

/// [`resolve`], refusing a side the network's pooling cannot take with the smallest side it
/// can (a spec file whose own input is too small keeps its own error).
pub fn resolve_for_input(model: &str, classes: usize, side: usize) -> Result<ModelSpec, SpecError> {
    let spec = resolve(model, classes, side)?;
    let Err(why) = spec.shapes() else {
        return Ok(spec);
    };
    let fits = |s: usize| {
        let mut spec = spec.clone();
        spec.input = [spec.input[0], s, s];
        spec.shapes().is_ok()
    };
    match (side + 1..=1024).find(|&s| fits(s)) {
        Some(least) => Err(SpecError::InputTooSmall {
            model: model.to_string(),
            side,
            least,
            why: Box::new(why),
        }),
        None => Err(why),
    }
}

/// The input side a built-in was designed for.
pub fn default_side(name: &str) -> usize {
    match name {
        "resnet18" => 64,
        "charcnn" => 32,
        _ => 28,
    }
}

fn conv(out: usize, kernel: usize, padding: usize) -> Layer {
    Layer::Conv {
        out,
        kernel,
        stride: 1,
        padding,
        bias: true,
    }
}

/// Convolution without bias (the batch norm after it has one), batch norm, ReLU.
fn conv_bn_relu(out: usize, kernel: usize, stride: usize, padding: usize) -> [Layer; 3] {
    [
        Layer::Conv {
            out,
            kernel,
            stride,
            padding,
            bias: false,
        },
        Layer::BatchNorm,
        Layer::Relu,
    ]
}

fn pool() -> Layer {
    Layer::MaxPool {
        kernel: 2,
        stride: 2,
        padding: 0,
    }
}

/// LeCun et al. 1998 as commonly implemented: conv 6@5×5 (pad 2), pool, conv 16@5×5, pool,
/// 120, 84, classes, with ReLU.
fn lenet5(classes: usize) -> Vec<Layer> {
    vec![
        conv(6, 5, 2),
        Layer::Relu,
        pool(),
        conv(16, 5, 0),
        Layer::Relu,
        pool(),
        Layer::Flatten,
        Layer::Linear { out: 120 },
        Layer::Relu,
        Layer::Linear { out: 84 },
        Layer::Relu,
        Layer::Linear { out: classes },
    ]
}

/// Two conv-BN-ReLU pairs per stage, two stages with pooling and dropout, then a 256-unit
/// head: the usual ≥ 99.5% MNIST recipe.
fn digit_cnn(classes: usize) -> Vec<Layer> {
    let mut layers = Vec::new();
    for out in [32, 64] {
        layers.extend(conv_bn_relu(out, 3, 1, 1));
        layers.extend(conv_bn_relu(out, 3, 1, 1));
        layers.extend([pool(), Layer::Dropout { p: 0.25 }]);
    }
    layers.extend([
        Layer::Flatten,
        Layer::Linear { out: 256 },
        Layer::Relu,
        Layer::Dropout { p: 0.5 },
        Layer::Linear { out: classes },
    ]);
    layers
}

/// A CPU-sized network for thousands of character classes on 32–64 px input: four stages
/// of two conv-BN-ReLU pairs (32, 64, 128, 256 channels; pooling between them), global
/// average pooling, and a linear classifier. The pooled head reads a stroke the same wherever
/// the writer put it. On a 495-class proxy (the 15 numerals, the 180 GB2312 level-1
/// characters of ≤ 4 strokes, 300 others; synthetic writers, 30 a class, 4 epochs, seed 1),
/// Chinese MNIST `:train` (real, 80 writers) read 72.69% after epoch 3 and 69.55% after
/// epoch 4, against 65.71% and 68.63% for three stages flattened into the classifier (the
/// earlier charcnn), which fitted the synthetic writers better (98.59% against 96.36%). The
/// 3 755-class head is 1 M parameters instead of 7.7 M. (The digit CNN's 256-unit bottleneck
/// with dropout 0.5 stalls at chance for 3 755 classes: 700 steps without leaving ln 3755.)
fn char_cnn(classes: usize) -> Vec<Layer> {
    let mut layers = Vec::new();
    for out in [32, 64, 128, 256] {
        if out > 32 {
            layers.push(pool());
        }
        layers.extend(conv_bn_relu(out, 3, 1, 1));
        layers.extend(conv_bn_relu(out, 3, 1, 1));
    }
    layers.extend([
        Layer::GlobalAvgPool,
        Layer::Flatten,
        Layer::Dropout { p: 0.2 },
        Layer::Linear { out: classes },
    ]);
    layers
}

/// ResNet-18 (He et al.) on 1-channel input. Below 112 px, a 3×3 stride-1 stem and no
/// max-pool, as the PyTorch reference in `shared/bench` uses at 64×64; from 112 px up, the
/// paper's 7×7/2 stem and 3×3/2 max-pool, as the HCCR seed uses at 112×112 (both reach the
/// residual stages at 56 px or less).
fn resnet18(classes: usize, side: usize) -> Vec<Layer> {
    let mut layers = if side >= 112 {
        let mut stem = conv_bn_relu(64, 7, 2, 3).to_vec();
        stem.push(Layer::MaxPool {
            kernel: 3,
            stride: 2,
            padding: 1,
        });
        stem
    } else {
        conv_bn_relu(64, 3, 1, 1).to_vec()
    };
    for (out, stride) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
        layers.push(Layer::Residual { out, stride });
        layers.push(Layer::Residual { out, stride: 1 });
    }
    layers.extend([
        Layer::GlobalAvgPool,
        Layer::Flatten,
        Layer::Linear { out: classes },
    ]);
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_a_valid_spec() {
        for name in BUILTIN_NAMES {
            let spec = builtin(name, 10, default_side(name)).unwrap();
            spec.shapes().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        builtin("resnet18", 3755, 112).unwrap().shapes().unwrap();
        assert!(builtin("vgg", 10, 28).is_none());
    }
}
