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
