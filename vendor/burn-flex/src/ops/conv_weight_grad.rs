//! Weight gradient of 2-D convolution as im2col + one GEMM per sample and group.
//!
//! Patched into burn-flex 0.21.0 by inkstone (see `vendor/README.md`). Burn's default
//! `conv2d_weight_backward` runs a forward convolution over batch-swapped, non-contiguous
//! tensors with the output gradient as its kernel (28×28 for an MNIST layer): on Flex that
//! copied through the per-element strided iterator and ran GEMMs with an output of a few
//! elements, which was ~70% of a training step. Here:
//! `dW[g] = Σ_n dY[n, g] (O_g × HoWo) · im2col(X[n, g])ᵀ (HoWo × C_g·kh·kw)`,
//! with the batch split across threads.

use crate::{FlexTensor, Layout};
use burn_backend::ops::ConvOptions;
use burn_backend::DType;
use burn_std::{Bytes, Shape};

/// `dW` for `conv2d(x, w)` with output gradient `dy`; all tensors f32.
pub fn conv2d_weight_backward_f32(
    x: FlexTensor,
    weight_shape: Shape,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let x = x.to_contiguous();
    let dy = output_grad.to_contiguous();
    let [n, c, h, w] = dims4(x.layout().shape());
    let [_, o, ho, wo] = dims4(dy.layout().shape());
    let [_, cg, kh, kw] = dims4(&weight_shape);
    let geo = Geometry {
        c,
        h,
        w,
        cg,
        kh,
        kw,
        ho,
        wo,
        groups: options.groups,
        og: o / options.groups,
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
    };
    let xs: &[f32] = x.storage();
    let dys: &[f32] = dy.storage();
    let grad = accumulate(n, o * cg * kh * kw, |samples, acc| {
        let mut cols = alloc::vec![0f32; geo.ckk() * ho * wo];
        let mut nhwc = alloc::vec![0f32; if geo.position_major() { h * w * cg } else { 0 }];
        for s in samples {
            geo.add_sample(s, xs, dys, &mut nhwc, &mut cols, acc);
        }
    });
    let grad = match geo.position_major() {
        true => geo.channels_outer(&grad),
        false => grad,
    };
    FlexTensor::new(Bytes::from_elems(grad), Layout::contiguous(weight_shape), DType::F32)
}

/// Sums per-thread partial gradients over the batch.
fn accumulate(n: usize, len: usize, work: impl Fn(core::ops::Range<usize>, &mut [f32]) + Sync) -> alloc::vec::Vec<f32> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads().clamp(1, n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        let partials: alloc::vec::Vec<alloc::vec::Vec<f32>> = (0..threads)
            .into_par_iter()
            .map(|t| {
                let mut acc = alloc::vec![0f32; len];
                work(t * chunk..((t + 1) * chunk).min(n), &mut acc);
                acc
            })
            .collect();
        let mut total = alloc::vec![0f32; len];
        for p in partials {
            total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
        }
        total
    }
    #[cfg(not(feature = "rayon"))]
    {
        let mut acc = alloc::vec![0f32; len];
        work(0..n, &mut acc);
        acc
    }
}

fn dims4(shape: &Shape) -> [usize; 4] {
    [shape[0], shape[1], shape[2], shape[3]]
}

struct Geometry {
    c: usize,
    h: usize,
    w: usize,
    cg: usize,
    kh: usize,
    kw: usize,
    ho: usize,
    wo: usize,
    groups: usize,
    og: usize,
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

/// From this many input channels a group, the weight gradient's im2col matrix is built
/// position-major (inkstone patch, stop 36): each output position's patch contiguous, its
/// channels one slice copy from an NHWC copy of the sample, the layout `gemm`'s micro-kernel
/// reads for this product. Built channel-major, `gemm` transposed it into its packing buffer
/// for every sample (charcnn `bench train` 212 -> 246 img/s). With a few channels the slice
/// copies are too short to pay: LeNet-5 (1 and 6 channels) went 6 900 -> 5 200 img/s, so
/// narrow layers keep the channel-major rows.
const POSITION_MAJOR_CHANNELS: usize = 16;

impl Geometry {
    /// Whether the im2col matrix is position-major (see [`POSITION_MAJOR_CHANNELS`]).
    fn position_major(&self) -> bool {
        self.cg >= POSITION_MAJOR_CHANNELS
    }

    fn ckk(&self) -> usize {
        self.cg * self.kh * self.kw
    }

    /// `acc += dY[s] · im2col(X[s])ᵀ`, group by group; `acc` is in `[o, kh, kw, c]` order
    /// where the im2col matrix is position-major (see [`Geometry::position_major`]).
    fn add_sample(
        &self,
        s: usize,
        xs: &[f32],
        dys: &[f32],
        nhwc: &mut [f32],
        cols: &mut [f32],
        acc: &mut [f32],
    ) {
        let (hw_in, hw_out, ckk) = (self.h * self.w, self.ho * self.wo, self.ckk());
        for g in 0..self.groups {
            let x0 = (s * self.c + g * self.cg) * hw_in;
            let x = &xs[x0..x0 + self.cg * hw_in];
            // cols is hw_out×ckk row-major (position-major) or ckk×hw_out (channel-major).
            let (cols_cs, cols_rs) = match self.position_major() {
                true => {
                    self.im2col_position_major(x, nhwc, cols);
                    (1, ckk as isize)
                }
                false => {
                    self.im2col_channel_major(x, cols);
                    (hw_out as isize, 1)
                }
            };
            let o_total = self.og * self.groups;
            let dy0 = (s * o_total + g * self.og) * hw_out;
            let dst = &mut acc[g * self.og * ckk..(g + 1) * self.og * ckk];
            // SAFETY: every pointer/stride pair addresses inside its slice: dst is og×ckk
            // row-major, lhs og×hw_out row-major, rhs is cols read as hw_out×ckk.
            unsafe {
                gemm::gemm(
                    self.og,
                    ckk,
                    hw_out,
                    dst.as_mut_ptr(),
                    1,
                    ckk as isize,
                    true,
                    dys[dy0..].as_ptr(),
                    1,
                    hw_out as isize,
                    cols.as_ptr(),
                    cols_cs,
                    cols_rs,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }

    /// `cols[oh·wo + ow][(i·kw + j)·cg + ci] = x[ci, oh·sh + i·dh − ph, ow·sw + j·dw − pw]`,
    /// zero outside the image; `x` is the group's `cg` planes, `nhwc` scratch for their
    /// channels-last copy.
    fn im2col_position_major(&self, x: &[f32], nhwc: &mut [f32], cols: &mut [f32]) {
        let (cg, hw_in, ckk) = (self.cg, self.h * self.w, self.ckk());
        for (ci, plane) in x.chunks_exact(hw_in).enumerate() {
            for (q, &v) in plane.iter().enumerate() {
                nhwc[q * cg + ci] = v;
            }
        }
        let [sh, sw] = self.stride;
        let [ph, pw] = self.padding;
        let [dh, dw] = self.dilation;
        for oh in 0..self.ho {
            for ow in 0..self.wo {
                let patch = &mut cols[(oh * self.wo + ow) * ckk..][..ckk];
                for i in 0..self.kh {
                    let y = (oh * sh + i * dh) as isize - ph as isize;
                    for j in 0..self.kw {
                        let xx = (ow * sw + j * dw) as isize - pw as isize;
                        let dst = &mut patch[(i * self.kw + j) * cg..][..cg];
                        if y < 0 || y >= self.h as isize || xx < 0 || xx >= self.w as isize {
                            dst.fill(0.0);
                        } else {
                            let at = (y as usize * self.w + xx as usize) * cg;
                            dst.copy_from_slice(&nhwc[at..at + cg]);
                        }
                    }
                }
            }
        }
    }

    /// `cols[(ci·kh + i)·kw + j][oh·wo + ow] = x[ci, oh·sh + i·dh − ph, ow·sw + j·dw − pw]`,
    /// zero outside the image.
    fn im2col_channel_major(&self, x: &[f32], cols: &mut [f32]) {
        let hw_out = self.ho * self.wo;
        let [sh, sw] = self.stride;
        let [ph, pw] = self.padding;
        let [dh, dw] = self.dilation;
        for ci in 0..self.cg {
            let plane = &x[ci * self.h * self.w..(ci + 1) * self.h * self.w];
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = ((ci * self.kh + i) * self.kw + j) * hw_out;
                    let out = &mut cols[row..row + hw_out];
                    for oh in 0..self.ho {
                        let y = (oh * sh + i * dh) as isize - ph as isize;
                        let line = &mut out[oh * self.wo..(oh + 1) * self.wo];
                        if y < 0 || y >= self.h as isize {
                            line.fill(0.0);
                            continue;
                        }
                        let src = &plane[y as usize * self.w..(y as usize + 1) * self.w];
                        for (ow, v) in line.iter_mut().enumerate() {
                            let xx = (ow * sw + j * dw) as isize - pw as isize;
                            *v = if xx >= 0 && (xx as usize) < self.w { src[xx as usize] } else { 0.0 };
                        }
                    }
                }
            }
        }
    }

    /// The gradient from `[o, kh, kw, c]` (the order [`Geometry::add_sample`] accumulates
    /// in) to the weights' `[o, c, kh, kw]`.
    fn channels_outer(&self, grad: &[f32]) -> alloc::vec::Vec<f32> {
        let (cg, kk, ckk) = (self.cg, self.kh * self.kw, self.ckk());
        let mut out = alloc::vec![0f32; grad.len()];
        for (src, dst) in grad.chunks_exact(ckk).zip(out.chunks_exact_mut(ckk)) {
            for k in 0..kk {
                for ci in 0..cg {
                    dst[ci * kk + k] = src[k * cg + ci];
                }
            }
        }
        out
    }
}
