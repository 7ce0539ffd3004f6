//! Top-1 / top-5 accuracy, per-class accuracy and the confusion matrix of a network on a
//! prepared set.

use crate::batch::make_batch;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use inkstone_data::packed::PackedSet;
use inkstone_data::{Charset, Recipe};
use inkstone_model::Network;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub samples: usize,
    pub loss: f64,
    pub top1: f64,
    pub top5: f64,
    /// Per class: (correct, total).
    pub per_class: Vec<(usize, usize)>,
    /// `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<u32>>,
}

/// Evaluates `network` (use the inner, non-autodiff backend) in batches of `batch_size`.
pub fn evaluate<B: Backend>(
    network: &Network<B>,
    set: &PackedSet,
    recipe: &Recipe,
    batch_size: usize,
    device: &B::Device,
) -> Evaluation {
    let k = set.classes();
    let mut confusion = vec![vec![0u32; k]; k];
    let (mut loss_sum, mut top5_hits) = (0f64, 0usize);
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = make_batch::<B>(set, chunk, recipe, None, device);
        let log_probs = log_softmax(network.forward(batch.images), 1);
        let values: Vec<f32> = log_probs
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 logits");
        for (row, &i) in values.chunks_exact(k).zip(chunk) {
            let truth = set.label(i) as usize;
            loss_sum -= row[truth] as f64;
            let ranked = rank(row, 5);
            confusion[truth][ranked[0]] += 1;
            top5_hits += ranked.contains(&truth) as usize;
        }
    }
    let per_class: Vec<(usize, usize)> = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| (row[c] as usize, row.iter().map(|&v| v as usize).sum()))
        .collect();
    let n = set.len().max(1) as f64;
    Evaluation {
        samples: set.len(),
        loss: loss_sum / n,
        top1: per_class.iter().map(|p| p.0).sum::<usize>() as f64 / n,
        top5: top5_hits as f64 / n,
        per_class,
        confusion,
    }
}

/// Indices of the `k` largest values, largest first.
pub fn rank(row: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order.truncate(k);
    order
}

/// The evaluation as text: totals, per-class accuracy and (for up to 20 classes) the
/// confusion matrix.
pub struct EvaluationReport<'a> {
    pub evaluation: &'a Evaluation,
    pub charset: &'a Charset,
}

impl fmt::Display for EvaluationReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.evaluation;
        writeln!(
            f,
            "samples {}  top-1 {:.2}%  top-5 {:.2}%  loss {:.4}",
            e.samples,
            100.0 * e.top1,
            100.0 * e.top5,
            e.loss
        )?;
        writeln!(f, "per class:")?;
        for (c, &(right, total)) in e.per_class.iter().enumerate() {
            let acc = 100.0 * right as f64 / total.max(1) as f64;
            writeln!(
                f,
                "  {:>4}  {acc:6.2}%  ({right}/{total})",
                self.charset.symbol(c)
            )?;
        }
        if e.confusion.len() <= 20 {
            writeln!(f, "confusion (rows: truth, columns: predicted):")?;
            write!(f, "      ")?;
            for c in 0..e.confusion.len() {
                write!(f, "{:>6}", self.charset.symbol(c))?;
            }
            writeln!(f)?;
            for (t, row) in e.confusion.iter().enumerate() {
                write!(f, "{:>6}", self.charset.symbol(t))?;
                for v in row {
                    write!(f, "{v:>6}")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
