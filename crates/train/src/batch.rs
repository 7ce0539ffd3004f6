//! Prepared `u8` images → normalised float tensors on the device.

use crate::prepare::PreparedSet;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use inkstone_data::Recipe;

pub struct Batch<B: Backend> {
    pub images: Tensor<B, 4>,
    pub labels: Tensor<B, 1, Int>,
}

/// The batch of samples `indices` of `set`.
pub fn make_batch<B: Backend>(
    set: &PreparedSet,
    indices: &[usize],
    recipe: &Recipe,
    device: &B::Device,
) -> Batch<B> {
    let side = recipe.input_size as usize;
    let mut pixels = Vec::with_capacity(indices.len() * side * side);
    for &i in indices {
        recipe.append_input(&set.images[i], &mut pixels);
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
