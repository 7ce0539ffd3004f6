//! The CPU inference path shared by `inkstone predict` and the service: the bundle's recipe,
//! then its exported ONNX graph run by tract. Measured faster than Burn Flex for single images
//! (see the deploy issue's figures); `tests/onnx_tract.rs` holds its outputs to Burn's.

use crate::bundle::Bundle;
use image::GrayImage;
use serde::Serialize;
use std::sync::Arc;
use tract_onnx::prelude::*;

/// One ranked answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub label: usize,
    pub char: String,
    pub prob: f32,
}

pub struct Recognizer {
    pub bundle: Bundle,
    plan: Arc<TypedRunnableModel>,
}

impl Recognizer {
    /// Exports the bundle's network and compiles it for single-image inference.
    pub fn new(bundle: Bundle) -> Result<Self, String> {
        let bytes = crate::onnx::export(&bundle)?;
        let [c, h, w] = bundle.spec.input;
        let plan = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .and_then(|m| m.with_input_fact(0, f32::fact([1, c, h, w]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| format!("cannot compile the network for inference: {e}"))?;
        Ok(Recognizer { bundle, plan })
    }

    /// Class probabilities for one raw image (any size or polarity).
    pub fn probabilities(&self, image: &GrayImage) -> Vec<f32> {
        let recipe = &self.bundle.recipe;
        let side = recipe.input_size as usize;
        let mut input = Vec::with_capacity(side * side);
        recipe.append_input(&recipe.prepare(image), &mut input);
        let x = tract_ndarray::Array4::from_shape_vec((1, 1, side, side), input)
            .expect("recipe makes side² values");
        let out = self
            .plan
            .run(tvec!(tract_onnx::prelude::Tensor::from(x).into()))
            .expect("a compiled plan runs on the input shape it was compiled for");
        let logits = out[0].to_plain_array_view::<f32>().expect("f32 logits");
        softmax(logits.iter().copied())
    }

    /// The `k` most probable classes, best first.
    pub fn top_k(&self, image: &GrayImage, k: usize) -> Vec<Candidate> {
        let probs = self.probabilities(image);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        order
            .into_iter()
            .take(k)
            .map(|c| Candidate {
                label: c,
                char: self.bundle.charset.symbol(c).to_string(),
                prob: probs[c],
            })
            .collect()
    }
}

fn softmax(logits: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = logits.clone().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}
