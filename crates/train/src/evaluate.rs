//! Top-1 / top-5 accuracy, per-class accuracy and the confusion matrix of a network on a
//! prepared set.

use crate::batch::{make_batch, Epoch};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use inkstone_data::packed::PackedSet;
use inkstone_data::{Charset, Recipe};
use inkstone_model::recognizer::log_mean_probabilities;
use inkstone_model::Network;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub samples: usize,
    pub loss: f64,
    pub top1: f64,
    pub top5: f64,
    /// Top-10: the figure HCCR papers report beside top-1 for thousands of classes.
    #[serde(default)]
    pub top10: f64,
    /// Per class: (correct, total).
    pub per_class: Vec<(usize, usize)>,
    /// `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<u32>>,
}

/// One misrecognised sample: where it is in the set, its class and the network's three best
/// guesses with their probabilities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Misrecognised {
    pub index: usize,
    pub truth: usize,
    pub top: Vec<(usize, f32)>,
}

/// Evaluates `network` (use the inner, non-autodiff backend) in batches of `batch_size`.
pub fn evaluate<B: Backend>(
    network: &Network<B>,
    set: &PackedSet,
    recipe: &Recipe,
    batch_size: usize,
    device: &B::Device,
) -> Evaluation {
    evaluate_with(
        network,
        std::slice::from_ref(set),
        recipe,
        batch_size,
        device,
        |_, _, _| {},
        &mut |_| {},
    )
}

/// [`evaluate`] over the test-time views and readings of one set (`inputs[i]` holds every
/// sample prepared as input `i` of `Recipe::prepare_views`, in the same order; one set: the
/// recipe's own view and reading): each sample's probabilities are the mean over its inputs.
/// Also every misrecognised sample with its top-3, in set order;
/// `progress(n)` is told each time another `n` samples are done.
pub fn evaluate_with_errors<B: Backend>(
    network: &Network<B>,
    inputs: &[PackedSet],
    recipe: &Recipe,
    batch_size: usize,
    device: &B::Device,
    progress: &mut dyn FnMut(usize),
) -> (Evaluation, Vec<Misrecognised>) {
    let set = &inputs[0];
    let mut errors = Vec::new();
    let evaluation = evaluate_with(
        network,
        inputs,
        recipe,
        batch_size,
        device,
        |i, row, ranked| {
            let truth = set.label(i) as usize;
            if ranked[0] != truth {
                let top = ranked.iter().take(3).map(|&c| (c, row[c].exp())).collect();
                errors.push(Misrecognised {
                    index: i,
                    truth,
                    top,
                });
            }
        },
        progress,
    );
    (evaluation, errors)
}

/// The evaluation loop over one set's `inputs` (at least one; see [`evaluate_with_errors`]);
/// `on_sample(index, log_probs, ranked top-10)` sees every sample.
fn evaluate_with<B: Backend>(
    network: &Network<B>,
    inputs: &[PackedSet],
    recipe: &Recipe,
    batch_size: usize,
    device: &B::Device,
    mut on_sample: impl FnMut(usize, &[f32], &[usize]),
    progress: &mut dyn FnMut(usize),
) -> Evaluation {
    let set = &inputs[0];
    let k = set.classes();
    let readings = match inputs.len() {
        1 => 1,
        _ => 1 + recipe.readings.len(),
    };
    assert_eq!(
        inputs.len() % readings,
        0,
        "a set for every view of every reading"
    );
    let mut confusion = vec![vec![0u32; k]; k];
    let (mut loss_sum, mut top5_hits, mut top10_hits) = (0f64, 0usize, 0usize);
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let log_probs = |input: &PackedSet| -> Vec<f32> {
            let batch = make_batch::<B>(input, chunk, recipe, Epoch::FIXED, device);
            log_softmax(network.forward(batch.images), 1)
                .into_data()
                .convert::<f32>()
                .to_vec()
                .expect("f32 logits")
        };
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            // A reading alike the one before for the whole batch (clean images read the same
            // every way) is not run again.
            let alike = i % readings > 0
                && chunk
                    .iter()
                    .all(|&s| input.pixels(s) == inputs[i - 1].pixels(s));
            let values = match alike {
                true => rows[i - 1].clone(),
                false => log_probs(input),
            };
            rows.push(values);
        }
        let values = match rows.len() {
            1 => rows.remove(0),
            _ => mean_by_sample(rows, k),
        };
        for (row, &i) in values.chunks_exact(k).zip(chunk) {
            let truth = set.label(i) as usize;
            loss_sum -= row[truth] as f64;
            let ranked = rank(row, 10);
            confusion[truth][ranked[0]] += 1;
            top5_hits += ranked.iter().take(5).any(|&r| r == truth) as usize;
            top10_hits += ranked.contains(&truth) as usize;
            on_sample(i, row, &ranked);
        }
        progress(chunk.len());
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
        top10: top10_hits as f64 / n,
        per_class,
        confusion,
    }
}

/// Each sample's log of mean probability over its inputs, from each input's batch of
/// log-probabilities (`k` classes a row).
fn mean_by_sample(inputs: Vec<Vec<f32>>, k: usize) -> Vec<f32> {
    let rows = inputs[0].len() / k;
    (0..rows)
        .flat_map(|r| {
            let one: Vec<&[f32]> = inputs.iter().map(|v| &v[r * k..(r + 1) * k]).collect();
            log_mean_probabilities(&one)
        })
        .collect()
}

/// Indices of the `k` largest values, largest first.
pub fn rank(row: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order.truncate(k);
    order
}

/// Classes listed one per line in the text report; beyond this only the worst are.
const MAX_LISTED: usize = 40;

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
            "samples {}  top-1 {:.2}%  top-5 {:.2}%  top-10 {:.2}%  loss {:.4}",
            e.samples,
            100.0 * e.top1,
            100.0 * e.top5,
            100.0 * e.top10,
            e.loss
        )?;
        // Thousands of classes: the worst ones say more than a 3 755-line list.
        let mut classes: Vec<usize> = (0..e.per_class.len()).collect();
        if classes.len() > MAX_LISTED {
            let acc = |c: usize| e.per_class[c].0 as f64 / e.per_class[c].1.max(1) as f64;
            classes.retain(|&c| e.per_class[c].1 > 0);
            classes.sort_by(|&a, &b| acc(a).total_cmp(&acc(b)));
            classes.truncate(MAX_LISTED);
            writeln!(f, "worst {MAX_LISTED} classes (of {}):", e.per_class.len())?;
        } else {
            writeln!(f, "per class:")?;
        }
        for c in classes {
            let (right, total) = e.per_class[c];
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
