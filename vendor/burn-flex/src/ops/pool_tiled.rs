//! inkstone patch: max pooling whose windows tile the plane (kernel = stride, no padding, no
//! dilation, one depth slice per window: every 2-D `MaxPool2d(k)` of the CNNs here) without
//! the general loop's per-element bounds checks and index arithmetic. The generic loop was
//! 14% of a LeNet-5 training step in `perf` (line-table debug info).

/// Output and argmax indices (into each `in_d·in_h·in_w` plane, as the general path gives
/// them) when the windows tile the plane, else `None`. Ties keep the first element in scan
/// order and a NaN never replaces a value, as in the general loop.
#[allow(clippy::too_many_arguments)]
pub(crate) fn max_pool_tiled<T>(
    x: &[T],
    planes: usize,
    [in_d, in_h, in_w]: [usize; 3],
    [out_d, out_h, out_w]: [usize; 3],
    kernel: [usize; 3],
    stride: [usize; 3],
    padding: [usize; 3],
    dilation: [usize; 3],
) -> Option<(Vec<T>, Vec<i64>)>
where
    T: Copy + PartialOrd + Send + Sync,
{
    let [_, kh, kw] = kernel;
    let tiles = kernel[0] == 1
        && stride == [1, kh, kw]
        && padding == [0, 0, 0]
        && dilation == [1, 1, 1]
        && out_d == in_d
        && out_h * kh <= in_h
        && out_w * kw <= in_w
        && out_d * out_h * out_w > 0;
    // An empty batch (no first element to fill with) is left to the general path.
    let (Some(&fill), true) = (x.first(), tiles) else {
        return None;
    };
    let plane_in = in_d * in_h * in_w;
    let plane_out = out_d * out_h * out_w;
    let mut output: Vec<T> = vec![fill; planes * plane_out];
    let mut indices = vec![0i64; planes * plane_out];
    let pool_plane = |(p, (out, idx)): (usize, (&mut [T], &mut [i64]))| {
        let plane = &x[p * plane_in..(p + 1) * plane_in];
        if [kh, kw] == [2, 2] {
            return pool_plane_2x2(plane, out, idx, [in_d, in_h, in_w], [out_h, out_w]);
        }
        for d in 0..out_d {
            for oh in 0..out_h {
                let row = (d * out_h + oh) * out_w;
                for ow in 0..out_w {
                    let first = d * in_h * in_w + oh * kh * in_w + ow * kw;
                    let (mut best, mut at) = (plane[first], first);
                    for i in 0..kh {
                        let line = first + i * in_w;
                        for (j, &v) in plane[line..line + kw].iter().enumerate() {
                            if v > best {
                                (best, at) = (v, line + j);
                            }
                        }
                    }
                    out[row + ow] = best;
                    idx[row + ow] = at as i64;
                }
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        output
            .par_chunks_mut(plane_out)
            .zip(indices.par_chunks_mut(plane_out))
            .enumerate()
            .for_each(pool_plane);
    }
    #[cfg(not(feature = "rayon"))]
    output
        .chunks_mut(plane_out)
        .zip(indices.chunks_mut(plane_out))
        .enumerate()
        .for_each(pool_plane);
    Some((output, indices))
}

/// The 2×2 windows of one plane (every `MaxPool2d(2)` here), without branches: which of the
/// four wins is a comparison on random data, and a mispredicted branch per element cost more
/// than the loads (the general tiled loop was 11% of a LeNet-5 training step in `perf`).
/// Same order and ties as [`max_pool_tiled`]'s loop: scan order, a later element replaces
/// only when strictly greater, so a NaN never does.
fn pool_plane_2x2<T: Copy + PartialOrd>(
    plane: &[T],
    out: &mut [T],
    idx: &mut [i64],
    [in_d, in_h, in_w]: [usize; 3],
    [out_h, out_w]: [usize; 2],
) {
    for d in 0..in_d {
        for oh in 0..out_h {
            let first = d * in_h * in_w + 2 * oh * in_w;
            let top = &plane[first..first + 2 * out_w];
            let bottom = &plane[first + in_w..first + in_w + 2 * out_w];
            let row = (d * out_h + oh) * out_w;
            let cells = out[row..row + out_w]
                .iter_mut()
                .zip(&mut idx[row..row + out_w])
                .zip(top.chunks_exact(2).zip(bottom.chunks_exact(2)));
            for (ow, ((o, i), (t, b))) in cells.enumerate() {
                let at = (first + 2 * ow) as i64;
                let (mut best, mut k) = (t[0], at);
                for (v, offset) in [
                    (t[1], at + 1),
                    (b[0], at + in_w as i64),
                    (b[1], at + in_w as i64 + 1),
                ] {
                    let take = v > best;
                    best = if take { v } else { best };
                    k = if take { offset } else { k };
                }
                *o = best;
                *i = k;
            }
        }
    }
}
