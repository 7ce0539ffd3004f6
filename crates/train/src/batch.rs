//! Prepared `u8` images → normalised float batches, built ahead of the training step by
//! loader threads, then moved to the device.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use inkstone_data::augment::Augment;
use inkstone_data::packed::PreparedSet;
use inkstone_data::Recipe;
use rand::SeedableRng;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::Scope;

pub struct Batch<B: Backend> {
    pub images: Tensor<B, 4>,
    pub labels: Tensor<B, 1, Int>,
}

/// A batch still in host memory: normalised pixels `[n, 1, side, side]` and labels.
#[derive(Clone)]
pub struct HostBatch {
    pub pixels: Vec<f32>,
    pub labels: Vec<i64>,
    pub side: usize,
}

impl HostBatch {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Splits the batch into `parts` consecutive shards as equal as can be (the first ones one
    /// sample larger), for data-parallel replicas; shards may be empty when the batch is
    /// smaller than `parts`.
    pub fn split(self, parts: usize) -> Vec<HostBatch> {
        let n = self.len();
        let per_sample = self.side * self.side;
        if parts <= 1 {
            return vec![self];
        }
        let mut shards = Vec::with_capacity(parts);
        let mut start = 0;
        for i in 0..parts {
            let len = n / parts + usize::from(i < n % parts);
            shards.push(HostBatch {
                pixels: self.pixels[start * per_sample..(start + len) * per_sample].to_vec(),
                labels: self.labels[start..start + len].to_vec(),
                side: self.side,
            });
            start += len;
        }
        shards
    }

    pub fn to_device<B: Backend>(self, device: &B::Device) -> Batch<B> {
        let n = self.labels.len();
        Batch {
            images: Tensor::from_data(
                TensorData::new(self.pixels, [n, 1, self.side, self.side]),
                device,
            ),
            labels: Tensor::from_data(TensorData::new(self.labels, [n]), device),
        }
    }
}

/// How many of a batch's `logits` rank the true label first.
pub fn hits<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1, Int> {
    logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(labels)
        .int()
        .sum()
}

/// What an epoch draws: its seed, which picks a synthetic source's samples and, with
/// `augment`, each sample's distortion, seeded by (epoch seed, sample index) so that neither
/// depends on batch size, order, or which loader thread built it.
#[derive(Clone, Copy)]
pub struct Epoch<'a> {
    pub seed: u64,
    pub augment: Option<&'a Augment>,
}

impl Epoch<'_> {
    /// An epoch that changes nothing: evaluation, and packed sets without augmentation.
    pub const FIXED: Epoch<'static> = Epoch {
        seed: 0,
        augment: None,
    };
}

/// The samples `indices` of `set` as `epoch` draws them, normalised by `recipe`.
pub fn host_batch(
    set: &dyn PreparedSet,
    indices: &[usize],
    recipe: &Recipe,
    epoch: Epoch,
) -> HostBatch {
    let side = set.side() as usize;
    let mut pixels = Vec::with_capacity(indices.len() * side * side);
    for &i in indices {
        let image = set.prepared(i, epoch.seed);
        match epoch.augment {
            Some(augment) => {
                let sample_seed = epoch.seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                let mut rng = rand::rngs::StdRng::seed_from_u64(sample_seed);
                recipe.append_input(&augment.apply(&image, &mut rng), &mut pixels);
            }
            None => recipe.append_input(&image, &mut pixels),
        }
    }
    HostBatch {
        pixels,
        labels: indices.iter().map(|&i| set.label(i) as i64).collect(),
        side,
    }
}

/// The batch of samples `indices`, on the device.
pub fn make_batch<B: Backend>(
    set: &dyn PreparedSet,
    indices: &[usize],
    recipe: &Recipe,
    epoch: Epoch,
    device: &B::Device,
) -> Batch<B> {
    host_batch(set, indices, recipe, epoch).to_device(device)
}

/// Host batches of an epoch, in order, built by `workers` threads that stay up to two
/// batches each ahead of the consumer. Batch `k` is built by worker `k mod workers`, so the
/// order is fixed; dropping the iterator stops the workers.
pub struct Loader {
    receivers: Vec<Receiver<HostBatch>>,
    next: usize,
    batches: usize,
}

impl Loader {
    pub fn spawn<'scope, 'env>(
        scope: &'scope Scope<'scope, 'env>,
        set: &'env dyn PreparedSet,
        batches: &'env [&'env [usize]],
        recipe: &'env Recipe,
        epoch: Epoch<'env>,
        workers: usize,
    ) -> Self {
        let workers = workers.clamp(1, batches.len().max(1));
        let receivers = (0..workers)
            .map(|w| {
                let (tx, rx) = sync_channel(2);
                scope.spawn(move || {
                    for indices in batches.iter().skip(w).step_by(workers) {
                        if tx.send(host_batch(set, indices, recipe, epoch)).is_err() {
                            return; // the consumer stopped early
                        }
                    }
                });
                rx
            })
            .collect();
        Loader {
            receivers,
            next: 0,
            batches: batches.len(),
        }
    }
}

impl Iterator for Loader {
    type Item = HostBatch;

    fn next(&mut self) -> Option<HostBatch> {
        if self.next == self.batches {
            return None;
        }
        let batch = self.receivers[self.next % self.receivers.len()]
            .recv()
            .expect("loader thread ended early (it panicked)");
        self.next += 1;
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkstone_data::packed::PackedSet;
    use inkstone_data::Split;

    #[test]
    fn loader_threads_deliver_the_batches_in_order_whatever_the_worker_count() {
        let set = PackedSet::prepare(
            &inkstone_data::embedded::load(Split::Test),
            &Recipe::mnist(),
            "mnist",
        );
        let order = inkstone_data::packed::permutation(300, 3);
        let chunks: Vec<&[usize]> = order.chunks(32).collect();
        let augment = Augment::digits();
        let aug = Epoch {
            seed: 9,
            augment: Some(&augment),
        };
        let recipe = Recipe::mnist();
        let expected: Vec<HostBatch> = chunks
            .iter()
            .map(|c| host_batch(&set, c, &recipe, aug))
            .collect();
        for workers in [1, 3, 20] {
            let got: Vec<HostBatch> = std::thread::scope(|s| {
                Loader::spawn(s, &set, &chunks, &recipe, aug, workers).collect()
            });
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!((&g.pixels, &g.labels), (&e.pixels, &e.labels));
            }
        }
        // Stopping early does not hang the scope.
        std::thread::scope(|s| {
            let mut loader = Loader::spawn(s, &set, &chunks, &recipe, aug, 2);
            assert_eq!(loader.next().unwrap().len(), 32);
        });
    }
}
