//! The geometric part of augmentation in one resampling pass: each output pixel samples the
//! source, bilinearly, at the inverse affine map of its position plus an elastic displacement.
//! One pass instead of warp-then-distort keeps the image sharp and costs one interpolation.

use super::splitmix::SplitMix64;
use image::GrayImage;
use rand::RngCore;

/// The inverse of `p' = A·(p − c) + c + t` about the image centre `c`: the source of output
/// pixel `p'` is `inv·(p' − c − t) + c`.
pub(super) struct InverseAffine {
    pub inv: [f32; 4],
    pub shift: [f32; 2],
}

/// A smooth random displacement field (Simard et al. 2003): uniform noise, Gaussian-blurred,
/// scaled. It lives on a coarse grid of nodes every `step` ≤ sigma pixels and is interpolated
/// bilinearly per pixel, which costs a few hundred random numbers instead of two blurred
/// full-resolution planes, and loses nothing visible because the blurred field has almost no
/// detail finer than sigma.
pub(super) struct ElasticField {
    step: f32,
    nx: usize,
    /// Node displacements, `ny × nx` row-major, per axis.
    dx: Vec<f32>,
    dy: Vec<f32>,
}

impl ElasticField {
    /// A field for a `w × h` image whose components have standard deviation `alpha / 2` and
    /// never exceed `alpha` pixels, correlated over about `sigma` pixels.
    pub fn random(w: u32, h: u32, alpha: f32, sigma: f32, rng: &mut impl RngCore) -> Self {
        // A field smoother than the image is a plain translation: cap sigma there, which
        // also bounds the work for absurd values.
        let sigma = if sigma.is_finite() {
            sigma.clamp(0.0, w.max(h) as f32)
        } else {
            0.0
        };
        let step = sigma.clamp(1.0, 4.0);
        let kernel = gaussian_kernel(sigma / step);
        let nodes = |side: u32| (side.saturating_sub(1) as f32 / step) as usize + 2;
        let (nx, ny) = (nodes(w), nodes(h));
        // Uniform ±1 noise (std 1/√3) through a unit-sum separable kernel k has std Σk²/√3.
        let norm: f32 = kernel.iter().map(|k| k * k).sum();
        let gain = alpha / 2.0 * 3f32.sqrt() / norm;
        let mut noise = SplitMix64::from_rng(rng);
        let dx = blurred_noise(nx, ny, &kernel, gain, alpha, &mut noise);
        let dy = blurred_noise(nx, ny, &kernel, gain, alpha, &mut noise);
        ElasticField { step, nx, dx, dy }
    }

    /// For each pixel column: the node to its left and the weight of the node to its right.
    fn columns(&self, w: u32) -> Vec<(usize, f32)> {
        (0..w).map(|x| self.node(x)).collect()
    }

    fn node(&self, pixel: u32) -> (usize, f32) {
        let g = pixel as f32 / self.step;
        let k = g as usize;
        (k, g - k as f32)
    }

    /// The displacement of every pixel of row `y` (`nodes` is scratch space, `2·nx` long).
    fn row(&self, y: u32, columns: &[(usize, f32)], nodes: &mut [f32], e: [&mut [f32]; 2]) {
        let (j, fy) = self.node(y);
        let (rx, ry) = nodes.split_at_mut(self.nx);
        for (plane, r) in [(&self.dx, rx), (&self.dy, ry)] {
            let a = &plane[j * self.nx..][..self.nx];
            let b = &plane[(j + 1) * self.nx..][..self.nx];
            for ((r, a), b) in r.iter_mut().zip(a).zip(b) {
                *r = a + (b - a) * fy;
            }
        }
        let (rx, ry) = nodes.split_at(self.nx);
        let [ex, ey] = e;
        for ((&(k, fx), ex), ey) in columns.iter().zip(ex).zip(ey) {
            *ex = rx[k] + (rx[k + 1] - rx[k]) * fx;
            *ey = ry[k] + (ry[k + 1] - ry[k]) * fx;
        }
    }
}

/// A unit-sum Gaussian of standard deviation `sigma` (in nodes), radius 3·sigma.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil() as i32;
    if r <= 0 {
        return vec![1.0];
    }
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter().map(|v| v / sum).collect()
}

/// `ny × nx` values of uniform noise blurred by `kernel` in both directions (noise drawn on a
/// margin, so the edges are as random as the middle), times `gain`, clipped to ±`limit`.
fn blurred_noise(
    nx: usize,
    ny: usize,
    kernel: &[f32],
    gain: f32,
    limit: f32,
    rng: &mut SplitMix64,
) -> Vec<f32> {
    let taps = kernel.len();
    let (ex, ey) = (nx + taps - 1, ny + taps - 1);
    let noise: Vec<f32> = (0..ex * ey).map(|_| rng.symmetric()).collect();
    let mut rows = Vec::with_capacity(ey * nx);
    for line in noise.chunks_exact(ex) {
        rows.extend(line.windows(taps).map(|w| dot(w, kernel)));
    }
    let mut out = vec![0.0; ny * nx];
    for (y, out_row) in out.chunks_exact_mut(nx).enumerate() {
        for (i, k) in kernel.iter().enumerate() {
            let src = &rows[(y + i) * nx..][..nx];
            out_row.iter_mut().zip(src).for_each(|(o, s)| *o += k * s);
        }
        out_row
            .iter_mut()
            .for_each(|o| *o = (*o * gain).clamp(-limit, limit));
    }
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `image` resampled through `map` and then `field` (output pixel `p` reads the source at
/// `map(p) + field(p)`); outside the source is background 0.
pub(super) fn warp(
    image: &GrayImage,
    map: &InverseAffine,
    field: Option<&ElasticField>,
) -> GrayImage {
    let (w, h) = image.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let ([a, b, c, d], [tx, ty]) = (map.inv, map.shift);
    let src = image.as_raw();
    let ink = InkBounds::of(src, w as usize);
    let padded = Padded::new(src, w as usize, h as usize);
    let mut out = vec![0u8; src.len()];
    let (mut ex, mut ey) = (vec![0.0f32; w as usize], vec![0.0f32; w as usize]);
    let columns = field.map(|f| f.columns(w)).unwrap_or_default();
    let mut nodes = vec![0.0f32; field.map_or(0, |f| 2 * f.nx)];
    for (y, out_row) in (0..h).zip(out.chunks_exact_mut(w.max(1) as usize)) {
        if let Some(f) = field {
            f.row(y, &columns, &mut nodes, [&mut ex, &mut ey]);
        }
        let dy = y as f32 + 0.5 - cy - ty;
        for (x, o) in out_row.iter_mut().enumerate() {
            // The same arithmetic, in the same order, as the affine-only warp before elastic
            // existed, so old configs give bit-identical augmentations.
            let dx = x as f32 + 0.5 - cx - tx;
            let sx = a * dx + b * dy + cx - 0.5 + ex[x];
            let sy = c * dx + d * dy + cy - 0.5 + ey[x];
            // Most of a glyph image is background: skip sampling where all four taps are.
            if sx < ink.x.0 || sx >= ink.x.1 || sy < ink.y.0 || sy >= ink.y.1 {
                continue;
            }
            *o = padded.bilinear(sx, sy);
        }
    }
    GrayImage::from_raw(w, h, out).expect("buffer has w·h pixels")
}

/// Sample positions whose bilinear taps can touch a nonzero pixel: `x.0 ≤ x < x.1`, same for
/// y (a tap at `floor(x) + 1 < first ink column` or `floor(x) > last ink column` reads 0).
struct InkBounds {
    x: (f32, f32),
    y: (f32, f32),
}

impl InkBounds {
    fn of(src: &[u8], w: usize) -> Self {
        let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
        for (y, row) in src.chunks_exact(w.max(1)).enumerate() {
            if let Some(first) = row.iter().position(|&v| v != 0) {
                let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
                (x0, x1) = (x0.min(first), x1.max(last));
                (y0, y1) = (y0.min(y), y);
            }
        }
        if x0 == usize::MAX {
            return InkBounds {
                x: (f32::INFINITY, f32::NEG_INFINITY),
                y: (f32::INFINITY, f32::NEG_INFINITY),
            };
        }
        let span = |lo: usize, hi: usize| (lo as f32 - 1.0, hi as f32 + 1.0);
        InkBounds {
            x: span(x0, x1),
            y: span(y0, y1),
        }
    }
}

/// The source with a one-pixel border of background, so that every sample that passed the
/// [`InkBounds`] test reads its four taps without bounds tests or branches.
struct Padded {
    pixels: Vec<u8>,
    stride: usize,
    w: i32,
    h: i32,
}

impl Padded {
    fn new(src: &[u8], w: usize, h: usize) -> Self {
        let stride = w + 2;
        let mut pixels = vec![0u8; stride * (h + 2)];
        for (dst, row) in pixels[stride..]
            .chunks_exact_mut(stride)
            .zip(src.chunks_exact(w.max(1)))
        {
            dst[1..=w].copy_from_slice(row);
        }
        Padded {
            pixels,
            stride,
            w: w as i32,
            h: h as i32,
        }
    }

    /// Bilinear sample at `(x, y)` within `[-1, w) × [-1, h)`; outside the image reads 0.
    #[inline]
    fn bilinear(&self, x: f32, y: f32) -> u8 {
        let (x0, y0) = (floor(x), floor(y));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        // A no-op for such coordinates; it keeps a NaN from indexing out of range.
        let (col, row) = (
            (x0.clamp(-1, self.w - 1) + 1) as usize,
            (y0.clamp(-1, self.h - 1) + 1) as usize,
        );
        let i = row * self.stride + col;
        let top = &self.pixels[i..i + 2];
        let bottom = &self.pixels[i + self.stride..i + self.stride + 2];
        let [p00, p10, p01, p11] = [top[0], top[1], bottom[0], bottom[1]].map(f32::from);
        // The arithmetic of the original warp, so old configs give identical pixels.
        let top = p00 * (1.0 - fx) + p10 * fx;
        let bottom = p01 * (1.0 - fx) + p11 * fx;
        round_non_negative(top * (1.0 - fy) + bottom * fy)
    }
}

/// `x.floor() as i32` for |x| < 2³¹, without the `floorf` call that `f32::floor` becomes on
/// x86-64 without SSE4.1.
#[inline]
fn floor(x: f32) -> i32 {
    let t = x as i32;
    t - (x < t as f32) as i32
}

/// `v.round().clamp(0.0, 255.0) as u8` for `v` ≥ 0 (a bilinear mix of `u8`s), bit for bit, without
/// the `roundf` call: `v − trunc(v)` is exact, so halves round up as `round` does.
#[inline]
fn round_non_negative(v: f32) -> u8 {
    let t = v as u32;
    (t + (v - t as f32 >= 0.5) as u32).min(255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;
    use rand::SeedableRng;

    const IDENTITY: InverseAffine = InverseAffine {
        inv: [1.0, 0.0, 0.0, 1.0],
        shift: [0.0, 0.0],
    };

    /// Ink-weighted centre of the pixels within `r` of `(x, y)`.
    fn centroid_near(img: &GrayImage, x: f32, y: f32, r: f32) -> (f32, f32, f32) {
        let (mut m, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for (px, py, p) in img.enumerate_pixels() {
            let (fx, fy) = (px as f32, py as f32);
            if (fx - x).abs() <= r && (fy - y).abs() <= r {
                let v = p.0[0] as f32;
                m += v;
                sx += v * fx;
                sy += v * fy;
            }
        }
        (m, sx / m, sy / m)
    }

    #[test]
    fn elastic_moves_dots_by_at_most_alpha_and_keeps_their_ink() {
        let (side, alpha) = (64u32, 3.0f32);
        let dots = [(16u32, 16u32), (47, 16), (16, 47), (47, 47), (32, 32)];
        let image = GrayImage::from_fn(side, side, |x, y| {
            let hit = dots
                .iter()
                .any(|&(dx, dy)| (x == dx || x == dx + 1) && (y == dy || y == dy + 1));
            Luma([if hit { 255 } else { 0 }])
        });
        let (mut moved, mut largest) = (0.0f32, 0.0f32);
        for seed in 0..40 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let field = ElasticField::random(side, side, alpha, 6.0, &mut rng);
            let out = warp(&image, &IDENTITY, Some(&field));
            for &(dx, dy) in &dots {
                let (x, y) = (dx as f32 + 0.5, dy as f32 + 0.5);
                let (m, cx, cy) = centroid_near(&out, x, y, alpha + 3.0);
                // A dot's ink scales with the local area change, which elastic fields do vary.
                let ratio = m / (4.0 * 255.0);
                assert!((0.4..2.5).contains(&ratio), "dot ink changed by {ratio}");
                let shift = (cx - x).abs().max((cy - y).abs());
                largest = largest.max(shift);
                moved += shift;
            }
        }
        let mean = moved / (40.0 * dots.len() as f32);
        assert!(
            largest <= alpha + 0.75,
            "a dot moved {largest} px, alpha {alpha}"
        );
        assert!(mean > 0.25 * alpha, "dots hardly moved: mean {mean} px");
    }

    #[test]
    fn field_is_bounded_smooth_and_seeded() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let f = ElasticField::random(112, 112, 4.0, 8.0, &mut rng);
        assert!(f.dx.iter().chain(&f.dy).all(|v| v.abs() <= 4.0));
        let std = (f.dx.iter().map(|v| v * v).sum::<f32>() / f.dx.len() as f32).sqrt();
        assert!(
            (1.0..3.0).contains(&std),
            "std {std}, expected about alpha/2 = 2"
        );
        // Neighbouring nodes are `step` = 4 px apart, half a sigma: strongly correlated.
        let jumps: Vec<f32> = (f.dx.chunks_exact(f.nx))
            .flat_map(|row| row.windows(2).map(|w| (w[1] - w[0]).abs()))
            .collect();
        let jumps = jumps.iter().sum::<f32>() / jumps.len() as f32;
        assert!(
            jumps < 0.5 * std,
            "mean jump {jumps} vs std {std}: not smooth"
        );
        let again = ElasticField::random(
            112,
            112,
            4.0,
            8.0,
            &mut rand::rngs::StdRng::seed_from_u64(9),
        );
        assert_eq!(f.dx, again.dx);
    }

    #[test]
    fn fast_floor_and_round_agree_with_std() {
        let mut g = SplitMix64(5);
        let special = [
            0.0f32, 0.5, 1.5, 2.5, 0.49999997, -0.5, -1.0, -1.5, 254.5, 255.0, 1e9,
        ];
        let random = (0..100_000).map(|_| g.symmetric() * 300.0);
        for v in special.into_iter().chain(random) {
            assert_eq!(floor(v), v.floor() as i32, "floor {v}");
            if (0.0..=255.0).contains(&v) {
                assert_eq!(round_non_negative(v), v.round() as u8, "round {v}");
            }
        }
    }

    #[test]
    fn absurd_parameters_stay_cheap_and_bounded() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let f = ElasticField::random(28, 28, 2.0, 1e9, &mut rng);
        assert!(f.dx.iter().all(|v| v.abs() <= 2.0));
        let f = ElasticField::random(28, 28, 2.0, f32::NAN, &mut rng);
        assert!(f.dx.iter().all(|v| v.abs() <= 2.0));
    }

    #[test]
    fn kernel_sums_to_one_and_degenerates_to_a_single_tap() {
        assert_eq!(gaussian_kernel(0.0), vec![1.0]);
        let k = gaussian_kernel(1.5);
        assert_eq!(k.len(), 11);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
