//! Prepared `u8` images → normalised float tensors on the device.

use crate::prepare::PreparedSet;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use inkstone_data::augment::Augment;
use inkstone_data::Recipe;
use rand::SeedableRng;

pub struct Batch<B: Backend> {
    pub images: Tensor<B, 4>,
    pub labels: Tensor<B, 1, Int>,
}

/// Random distortions for one epoch: each sample's warp is seeded by (epoch seed, sample index),
/// so it does not depend on batch size or order.
pub struct EpochAugment<'a> {
    pub augment: &'a Augment,
    pub epoch_seed: u64,
}

/// The batch of samples `indices` of `set`, augmented when `augment` is given.
pub fn make_batch<B: Backend>(
    set: &PreparedSet,
    indices: &[usize],
    recipe: &Recipe,
    augment: Option<&EpochAugment>,
    device: &B::Device,
) -> Batch<B> {
    let side = recipe.input_size as usize;
    let mut pixels = Vec::with_capacity(indices.len() * side * side);
    for &i in indices {
        match augment {
            Some(a) => {
                let sample_seed = a.epoch_seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                let mut rng = rand::rngs::StdRng::seed_from_u64(sample_seed);
                recipe.append_input(&a.augment.apply(&set.images[i], &mut rng), &mut pixels);
            }
            None => recipe.append_input(&set.images[i], &mut pixels),
        }
    }
    let labels: Vec<i64> = indices.iter().map(|&i| set.labels[i] as i64).collect();
    Batch {
        images: Tensor::from_data(
            TensorData::new(pixels, [indices.len(), 1, side, side]),
            device,
        ),
        labels: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
    }
}
