//! The vendored burn-flex patches (vendor/README.md) against plain reference computations:
//! strided copies, per-channel broadcasting, the convolution weight and data gradients, and
//! the stride-1 transposed convolution, max pooling over tiling windows.

use burn::backend::{Autodiff, Flex};
use burn::tensor::module::{conv2d, conv_transpose2d, max_pool2d, max_pool2d_with_indices};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Distribution, Tensor, TensorData};

type B = Flex;
type BinaryCase = (Tensor<B, 4>, fn(f32, f32) -> f32);

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().to_vec().unwrap()
}

#[test]
fn permuted_copies_match_index_arithmetic() {
    let d = Default::default();
    let x = Tensor::<B, 1>::from_data(
        TensorData::new((0..120).map(|v| v as f32).collect::<Vec<_>>(), [120]),
        &d,
    )
    .reshape([2, 3, 4, 5]);
    let p = values(x.permute([2, 0, 3, 1]).reshape([120]));
    let mut expect = Vec::new();
    for k in 0..4 {
        for i in 0..2 {
            for l in 0..5 {
                for j in 0..3 {
                    expect.push((((i * 3 + j) * 4 + k) * 5 + l) as f32);
                }
            }
        }
    }
    assert_eq!(p, expect);
}

#[test]
fn per_channel_broadcast_ops_match_loops() {
    let d = Default::default();
    let x = Tensor::<B, 4>::random([2, 3, 4, 5], Distribution::Default, &d);
    let c = Tensor::<B, 4>::random([1, 3, 1, 1], Distribution::Default, &d);
    let (xv, cv) = (values(x.clone()), values(c.clone()));
    let at = |i: usize| cv[(i / 20) % 3];
    let ops: [BinaryCase; 4] = [
        (x.clone() - c.clone(), |a, b| a - b),
        (x.clone() + c.clone(), |a, b| a + b),
        (x.clone() * c.clone(), |a, b| a * b),
        (x.clone() / c.clone(), |a, b| a / b),
    ];
    for (result, op) in ops {
        let got = values(result);
        for (i, (&g, &xi)) in got.iter().zip(&xv).enumerate() {
            assert!((g - op(xi, at(i))).abs() < 1e-6, "element {i}");
        }
    }
}

#[test]
fn blocks_broadcast_along_leading_dims_match_loops() {
    let d = Default::default();
    let x = Tensor::<B, 4>::random([3, 2, 4, 5], Distribution::Default, &d);
    let xv = values(x.clone());
    // A `[1, C, H, W]` block (what the gradient of a batch sum broadcasts), a `[1, 1, H, W]`
    // plane, and a `[N, C, 1, W]` row that is not one block (the general path), each against
    // `[N, C, H, W]`; the left operand both shared (`x` stays alive: a new output) and the
    // only handle on its storage (written in place).
    let block = |shape: [usize; 4], at: fn(usize) -> usize| {
        let r = Tensor::<B, 4>::random(shape, Distribution::Default, &d);
        (r.clone(), values(r), at)
    };
    let cases = [
        block([1, 2, 4, 5], |i| i % 40),
        block([1, 1, 4, 5], |i| i % 20),
        block([3, 2, 1, 5], |i| i / 20 * 5 + i % 5),
    ];
    for (r, rv, at) in cases {
        let own = || x.clone().mul_scalar(1.0);
        let ops: [BinaryCase; 8] = [
            (x.clone() - r.clone(), |a, b| a - b),
            (x.clone() + r.clone(), |a, b| a + b),
            (x.clone() * r.clone(), |a, b| a * b),
            (x.clone() / r.clone(), |a, b| a / b),
            (own() - r.clone(), |a, b| a - b),
            (own() + r.clone(), |a, b| a + b),
            (own() * r.clone(), |a, b| a * b),
            (own() / r.clone(), |a, b| a / b),
        ];
        for (result, op) in ops {
            let got = values(result);
            for (i, (&g, &xi)) in got.iter().zip(&xv).enumerate() {
                assert!(
                    (g - op(xi, rv[at(i)])).abs() < 1e-5,
                    "{:?} element {i}",
                    r.dims()
                );
            }
        }
    }
    // The gradient of a sum over the batch is the incoming gradient at every sample.
    let x =
        Tensor::<Autodiff<B>, 4>::random([3, 2, 4, 5], Distribution::Default, &d).require_grad();
    let weights = Tensor::<Autodiff<B>, 4>::random([1, 2, 4, 5], Distribution::Default, &d);
    let wv = values(weights.clone().inner());
    let grads = (x.clone().sum_dim(0) * weights).sum().backward();
    let gv = values(x.grad(&grads).expect("x takes part in the sum"));
    for (i, &g) in gv.iter().enumerate() {
        assert!((g - wv[i % 40]).abs() < 1e-6, "element {i}");
    }
}

/// dW[o][c][i][j] = Σ_n Σ_oh Σ_ow dY[n][o][oh][ow] · X[n][g·cg + c][oh·s + i·dil − p][ow·s +
/// j·dil − p], where group g = o / (O / groups) and cg = C / groups input channels a group.
#[allow(clippy::too_many_arguments)]
fn reference_weight_grad(
    x: &[f32],
    dy: &[f32],
    dims: [usize; 8],
    stride: usize,
    pad: usize,
    dilation: usize,
    groups: usize,
) -> Vec<f32> {
    let [n, c, h, w, o, k, ho, wo] = dims;
    let (cg, og) = (c / groups, o / groups);
    let mut dw = vec![0f32; o * cg * k * k];
    for b in 0..n {
        for oc in 0..o {
            for ic in 0..cg {
                let xc = oc / og * cg + ic;
                for i in 0..k {
                    for j in 0..k {
                        let mut acc = 0.0;
                        for oh in 0..ho {
                            for ow in 0..wo {
                                let (y, xx) = (
                                    (oh * stride + i * dilation) as isize - pad as isize,
                                    (ow * stride + j * dilation) as isize - pad as isize,
                                );
                                if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                    acc += dy[((b * o + oc) * ho + oh) * wo + ow]
                                        * x[((b * c + xc) * h + y as usize) * w + xx as usize];
                                }
                            }
                        }
                        dw[((oc * cg + ic) * k + i) * k + j] += acc;
                    }
                }
            }
        }
    }
    dw
}

#[test]
fn conv_weight_gradient_matches_the_definition() {
    let d = Default::default();
    // (channels in, channels out, stride, pad, dilation, groups)
    let cases = [
        (2, 4, 1, 1, 1, 1),
        (2, 4, 2, 1, 1, 1),
        (2, 4, 1, 0, 1, 1),
        (6, 5, 1, 1, 1, 1),
        (4, 6, 1, 2, 2, 2),
        (6, 4, 2, 2, 1, 2),
        // From 16 channels a group the im2col matrix is position-major (change 9).
        (32, 8, 1, 1, 1, 1),
        (16, 4, 1, 2, 2, 1),
        (32, 4, 2, 1, 1, 2),
    ];
    for (c, o, stride, pad, dilation, groups) in cases {
        let (n, h, w, k) = (3, 7, 6, 3);
        let x = Tensor::<Autodiff<B>, 4>::random([n, c, h, w], Distribution::Default, &d);
        let weight =
            Tensor::<Autodiff<B>, 4>::random([o, c / groups, k, k], Distribution::Default, &d)
                .require_grad();
        let options = ConvOptions::new([stride, stride], [pad, pad], [dilation, dilation], groups);
        let y = conv2d(x.clone(), weight.clone(), None, options);
        let [_, _, ho, wo] = y.dims();
        let dy = Tensor::<Autodiff<B>, 4>::random([n, o, ho, wo], Distribution::Default, &d);
        let grads = (y * dy.clone()).sum().backward();
        let got: Vec<f32> = weight.grad(&grads).unwrap().into_data().to_vec().unwrap();
        let xv: Vec<f32> = x.inner().into_data().to_vec().unwrap();
        let dyv: Vec<f32> = dy.inner().into_data().to_vec().unwrap();
        let dims = [n, c, h, w, o, k, ho, wo];
        let want = reference_weight_grad(&xv, &dyv, dims, stride, pad, dilation, groups);
        assert_eq!(got.len(), want.len());
        for (i, (g, r)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - r).abs() < 1e-4 * (1.0 + r.abs()),
                "case {:?} element {i}: {g} vs {r}",
                (c, o, stride, pad, dilation, groups)
            );
        }
    }
}

/// dX[n][c][y][x] = Σ_o Σ_i Σ_j dY[n][o][oh][ow] · W[o][c][i][j] where oh·s + i − p = y and
/// ow·s + j − p = x.
fn reference_data_grad(
    w: &[f32],
    dy: &[f32],
    dims: [usize; 8],
    stride: usize,
    pad: usize,
) -> Vec<f32> {
    let [n, c, h, wd, o, k, ho, wo] = dims;
    let mut dx = vec![0f32; n * c * h * wd];
    for b in 0..n {
        for oc in 0..o {
            for oh in 0..ho {
                for ow in 0..wo {
                    let g = dy[((b * o + oc) * ho + oh) * wo + ow];
                    for ic in 0..c {
                        for i in 0..k {
                            for j in 0..k {
                                let y = (oh * stride + i) as isize - pad as isize;
                                let x = (ow * stride + j) as isize - pad as isize;
                                if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < wd {
                                    dx[((b * c + ic) * h + y as usize) * wd + x as usize] +=
                                        g * w[((oc * c + ic) * k + i) * k + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

/// The stride-1 cases run the patched path (a convolution with the flipped kernel); stride 2
/// keeps Burn's transposed convolution.
#[test]
fn conv_data_gradient_matches_the_definition() {
    let d = Default::default();
    for (stride, pad, k) in [(1, 1, 3), (1, 0, 3), (1, 2, 5), (1, 0, 1), (2, 1, 3)] {
        let (n, c, h, w, o) = (3, 2, 7, 6, 4);
        let x = Tensor::<Autodiff<B>, 4>::random([n, c, h, w], Distribution::Default, &d)
            .require_grad();
        let weight = Tensor::<Autodiff<B>, 4>::random([o, c, k, k], Distribution::Default, &d);
        let options = ConvOptions::new([stride, stride], [pad, pad], [1, 1], 1);
        let y = conv2d(x.clone(), weight.clone(), None, options);
        let [_, _, ho, wo] = y.dims();
        let dy = Tensor::<Autodiff<B>, 4>::random([n, o, ho, wo], Distribution::Default, &d);
        let grads = (y * dy.clone()).sum().backward();
        let got: Vec<f32> = x.grad(&grads).unwrap().into_data().to_vec().unwrap();
        let wv: Vec<f32> = weight.inner().into_data().to_vec().unwrap();
        let dyv: Vec<f32> = dy.inner().into_data().to_vec().unwrap();
        let want = reference_data_grad(&wv, &dyv, [n, c, h, w, o, k, ho, wo], stride, pad);
        assert_eq!(got.len(), want.len());
        for (i, (g, r)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - r).abs() < 1e-4 * (1.0 + r.abs()),
                "stride {stride} pad {pad} kernel {k} element {i}: {g} vs {r}"
            );
        }
    }
}

/// A stride-1 transposed convolution with a bias (the patched path outside autodiff): the
/// data-gradient definition with `x` as the output gradient, plus the bias per channel.
#[test]
fn stride_one_transposed_convolution_with_bias_matches_the_definition() {
    let d = Default::default();
    let (n, o, ho, wo, c, k, pad) = (2, 4, 5, 6, 3, 3, 1);
    let x = Tensor::<B, 4>::random([n, o, ho, wo], Distribution::Default, &d);
    let weight = Tensor::<B, 4>::random([o, c, k, k], Distribution::Default, &d);
    let bias = Tensor::<B, 1>::random([c], Distribution::Default, &d);
    let options = ConvTransposeOptions::new([1, 1], [pad, pad], [0, 0], [1, 1], 1);
    let y = conv_transpose2d(x.clone(), weight.clone(), Some(bias.clone()), options);
    let [_, _, h, w] = y.dims();
    assert_eq!([h, w], [ho + k - 1 - 2 * pad, wo + k - 1 - 2 * pad]);
    let got = values(y);
    let plain = reference_data_grad(
        &values(weight),
        &values(x),
        [n, c, h, w, o, k, ho, wo],
        1,
        pad,
    );
    let b = values(bias);
    for (i, (g, r)) in got.iter().zip(&plain).enumerate() {
        let r = r + b[(i / (h * w)) % c];
        assert!(
            (g - r).abs() < 1e-4 * (1.0 + r.abs()),
            "element {i}: {g} vs {r}"
        );
    }
}

/// Max pooling by its definition: each output the largest of its window (the first in scan
/// order on ties), with the flat index of that element in its channel's plane.
fn reference_max_pool(x: &[f32], [n, c, h, w]: [usize; 4], k: usize) -> (Vec<f32>, Vec<i64>) {
    let (ho, wo) = (h / k, w / k);
    let (mut out, mut idx) = (Vec::new(), Vec::new());
    for p in 0..n * c {
        for oh in 0..ho {
            for ow in 0..wo {
                let mut best = (f32::NEG_INFINITY, -1i64);
                for i in 0..k {
                    for j in 0..k {
                        let at = (oh * k + i) * w + ow * k + j;
                        let v = x[p * h * w + at];
                        if best.1 < 0 || v > best.0 {
                            best = (v, at as i64);
                        }
                    }
                }
                out.push(best.0);
                idx.push(best.1);
            }
        }
    }
    (out, idx)
}

#[test]
fn max_pooling_over_tiling_windows_matches_the_definition() {
    let d = Default::default();
    // Odd sides (the last row and column fall outside every window), window 2 and 3, and a
    // plane of ties (the first element wins).
    for (shape, k) in [([2, 3, 7, 9], 2), ([1, 2, 9, 6], 3), ([3, 4, 8, 8], 2)] {
        let x = Tensor::<B, 4>::random(shape, Distribution::Default, &d);
        let mut xv = values(x.clone());
        xv[..shape[2] * shape[3]].iter_mut().for_each(|v| *v = 0.5);
        let x = Tensor::<B, 4>::from_data(TensorData::new(xv.clone(), shape), &d);
        let (out, idx) = max_pool2d_with_indices(x.clone(), [k, k], [k, k], [0, 0], [1, 1], false);
        let (want_out, want_idx) = reference_max_pool(&xv, shape, k);
        assert_eq!(out.dims(), [shape[0], shape[1], shape[2] / k, shape[3] / k]);
        assert_eq!(values(out), want_out, "{shape:?} k={k}");
        let idx: Vec<i64> = idx.into_data().convert::<i64>().to_vec().unwrap();
        assert_eq!(idx, want_idx, "{shape:?} k={k}");
        let plain = max_pool2d(x, [k, k], [k, k], [0, 0], [1, 1], false);
        assert_eq!(values(plain), want_out);
    }
    // An empty batch: an empty output of the right shape, no panic.
    let empty = Tensor::<B, 4>::zeros([0, 2, 4, 4], &d);
    let (out, idx) = max_pool2d_with_indices(empty, [2, 2], [2, 2], [0, 0], [1, 1], false);
    assert_eq!((out.dims(), idx.dims()), ([0, 2, 2, 2], [0, 2, 2, 2]));
    // Overlapping windows (stride 1) keep the general path: still the definition.
    let x = Tensor::<B, 4>::random([1, 1, 4, 4], Distribution::Default, &d);
    let xv = values(x.clone());
    let (out, _) = max_pool2d_with_indices(x, [2, 2], [1, 1], [0, 0], [1, 1], false);
    let got = values(out);
    for (o, g) in got.iter().enumerate() {
        let (oh, ow) = (o / 3, o % 3);
        let want = [0, 1, 4, 5]
            .map(|a| xv[(oh + a / 4) * 4 + ow + a % 4])
            .into_iter()
            .fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(*g, want);
    }
}

/// Y[n][o][oh][ow] = b[o] + Σ_c Σ_i Σ_j X[n][g·cg + c][oh·s + i·dil − p][ow·s + j·dil − p] ·
/// W[o][c][i][j], where group g = o / (O / groups) and cg input channels a group.
#[allow(clippy::too_many_arguments)]
fn reference_conv(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    [n, c, h, wd, o, kh, kw]: [usize; 7],
    [ho, wo]: [usize; 2],
    stride: usize,
    pad: usize,
    dilation: usize,
    groups: usize,
) -> Vec<f32> {
    let (cg, og) = (c / groups, o / groups);
    let mut y = vec![0f32; n * o * ho * wo];
    for b in 0..n {
        for oc in 0..o {
            let g = oc / og;
            for oh in 0..ho {
                for ow in 0..wo {
                    let mut sum = bias[oc];
                    for ic in 0..cg {
                        for i in 0..kh {
                            for j in 0..kw {
                                let yy = (oh * stride + i * dilation) as isize - pad as isize;
                                let xx = (ow * stride + j * dilation) as isize - pad as isize;
                                if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < wd {
                                    let xi = ((b * c + g * cg + ic) * h + yy as usize) * wd
                                        + xx as usize;
                                    sum += x[xi] * w[((oc * cg + ic) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                    y[((b * o + oc) * ho + oh) * wo + ow] = sum;
                }
            }
        }
    }
    y
}

/// The im2col + GEMM forward convolution (change 8: channel-major tiles from NCHW): strides,
/// padding wider than the kernel's reach, dilation, groups, non-square kernels and inputs,
/// and outputs of more than one 512-position tile, so that tiles end inside an output row.
#[test]
fn forward_convolution_matches_the_definition() {
    let d = Default::default();
    // (batch, channels in, h, w, channels out, kernel h, kernel w, stride, pad, dilation, groups)
    let cases = [
        (2, 6, 9, 7, 8, 3, 3, 1, 1, 1, 1),
        (2, 6, 9, 7, 8, 3, 3, 2, 1, 1, 1),
        (1, 5, 8, 11, 4, 3, 2, 1, 0, 1, 1),
        (2, 8, 10, 9, 6, 3, 3, 1, 2, 2, 2),
        (1, 6, 12, 13, 4, 5, 5, 2, 3, 1, 1),
        (2, 5, 30, 27, 7, 3, 3, 1, 1, 1, 1),
        (1, 8, 41, 23, 16, 3, 3, 1, 0, 1, 2),
    ];
    for (n, c, h, w, o, kh, kw, stride, pad, dilation, groups) in cases {
        let x = Tensor::<B, 4>::random([n, c, h, w], Distribution::Default, &d);
        let weight = Tensor::<B, 4>::random([o, c / groups, kh, kw], Distribution::Default, &d);
        let bias = Tensor::<B, 1>::random([o], Distribution::Default, &d);
        let options = ConvOptions::new([stride, stride], [pad, pad], [dilation, dilation], groups);
        let y = conv2d(x.clone(), weight.clone(), Some(bias.clone()), options);
        let [_, _, ho, wo] = y.dims();
        let want = reference_conv(
            &values(x),
            &values(weight),
            &values(bias),
            [n, c, h, w, o, kh, kw],
            [ho, wo],
            stride,
            pad,
            dilation,
            groups,
        );
        let got = values(y);
        assert_eq!(got.len(), want.len());
        for (i, (g, r)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - r).abs() < 1e-4 * (1.0 + r.abs()),
                "case {:?} element {i}: {g} vs {r}",
                (n, c, h, w, o, kh, kw, stride, pad, dilation, groups)
            );
        }
    }
}
