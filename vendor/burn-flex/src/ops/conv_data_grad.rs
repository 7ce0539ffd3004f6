//! Stride-1 2-D transposed convolution (the data gradient of every stride-1 convolution) as a
//! forward convolution.
//!
//! Patched into burn-flex 0.21.0 by inkstone (see `vendor/README.md`). Burn's
//! `conv2d_x_backward` is a transposed convolution, which Flex runs as one GEMM per sample
//! followed by a single-threaded col2im scatter (`conv_transpose3d_f32`: 7–8% of a charcnn
//! training step on its own, profiled with `perf record`). For stride 1, no dilation, one
//! group and no output padding the same result is a plain convolution with the kernel flipped
//! in space and its channel axes swapped, padded by `k - 1 - p`:
//! `y[n, c] = Σ_o x[n, o] ⋆ rot180(W[o, c])`, which goes through Flex's tiled, parallel
//! im2col + GEMM forward path.

use crate::{FlexTensor, Layout};
use burn_backend::DType;
use burn_backend::ops::{ConvOptions, ConvTransposeOptions};
use burn_std::{Bytes, Shape};

/// Whether [`conv_transpose2d_stride1_f32`] handles these options and kernel.
pub fn handles(options: &ConvTransposeOptions<2>, weight_shape: &Shape) -> bool {
    options.stride == [1, 1]
        && options.dilation == [1, 1]
        && options.groups == 1
        && options.padding_out == [0, 0]
        && options.padding[0] < weight_shape[2]
        && options.padding[1] < weight_shape[3]
}

/// `conv_transpose2d(x, weight, bias)` for f32 tensors and options accepted by [`handles`].
pub fn conv_transpose2d_stride1_f32(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: &ConvTransposeOptions<2>,
) -> FlexTensor {
    let weight = weight.to_contiguous();
    let shape = weight.layout().shape();
    let [o, c, kh, kw] = [shape[0], shape[1], shape[2], shape[3]];
    let w: &[f32] = weight.storage();
    let mut flipped = alloc::vec![0f32; w.len()];
    for oi in 0..o {
        for ci in 0..c {
            let from = (oi * c + ci) * kh * kw;
            let to = (ci * o + oi) * kh * kw;
            for y in 0..kh {
                for x in 0..kw {
                    flipped[to + (kh - 1 - y) * kw + (kw - 1 - x)] = w[from + y * kw + x];
                }
            }
        }
    }
    let flipped = FlexTensor::new(
        Bytes::from_elems(flipped),
        Layout::contiguous(Shape::from(alloc::vec![c, o, kh, kw])),
        DType::F32,
    );
    let padding = [kh - 1 - options.padding[0], kw - 1 - options.padding[1]];
    let options = ConvOptions::new([1, 1], padding, [1, 1], 1);
    super::conv::conv2d_f32(x, flipped, bias, &options)
}
