//! Smooth geometric changes of a whole character: an affine map, then an elastic field.
//! Coordinates are in the unit box (the character's 1024 units scaled to 1, y down).

use super::style::{Span, SynthStyle};
use rand::Rng;
use std::f32::consts::TAU;

/// Uniform in `[span[0], span[1]]`; never panics, even on a reversed or empty span.
pub fn uniform(rng: &mut impl Rng, span: Span) -> f32 {
    span[0] + (span[1] - span[0]) * rng.random::<f32>()
}

/// Uniform in `[-max, max]`.
pub fn symmetric(rng: &mut impl Rng, max: f32) -> f32 {
    uniform(rng, [-max, max])
}

/// `p ↦ (m0·x + m1·y + m2, m3·x + m4·y + m5)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine([f32; 6]);

impl Affine {
    pub const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    /// The linear map `[a, b; c, d]` applied about `center`.
    pub fn about(center: [f32; 2], [a, b, c, d]: [f32; 4]) -> Affine {
        let [cx, cy] = center;
        Affine([a, b, cx - a * cx - b * cy, c, d, cy - c * cx - d * cy])
    }

    /// Rotation by `angle`, scaling by `scale` and shift by `shift`, about `center`.
    pub fn similarity(center: [f32; 2], angle: f32, scale: f32, shift: [f32; 2]) -> Affine {
        let (s, c) = angle.sin_cos();
        let mut m = Affine::about(center, [scale * c, -scale * s, scale * s, scale * c]);
        m.0[2] += shift[0];
        m.0[5] += shift[1];
        m
    }

    /// The style's character-wide map: shear, then anisotropic scale, then rotation, about
    /// the box's middle.
    pub fn sample(rng: &mut impl Rng, style: &SynthStyle) -> Affine {
        let (sx, sy) = (uniform(rng, style.scale_x), uniform(rng, style.scale_y));
        let shear = uniform(rng, style.slant) + symmetric(rng, style.shear);
        let (s, c) = symmetric(rng, style.rotation).sin_cos();
        // R · S · H with H = [1 shear; 0 1].
        let (a, b) = (c * sx, -s * sy);
        let (cc, d) = (s * sx, c * sy);
        Affine::about([0.5, 0.5], [a, a * shear + b, cc, cc * shear + d])
    }

    pub fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        let m = &self.0;
        [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]
    }

    /// The inverse map; `None` when it squashes the plane to a line.
    pub fn invert(&self) -> Option<Affine> {
        let [a, b, e, c, d, f] = self.0;
        let det = a * d - b * c;
        if det.abs() < 1e-9 || !det.is_finite() {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([
            ia,
            ib,
            -(ia * e + ib * f),
            ic,
            id,
            -(ic * e + id * f),
        ]))
    }
}

/// A few plane waves per axis: a smooth, random displacement of every point.
#[derive(Clone, Debug, PartialEq)]
pub struct Elastic {
    /// Per wave: direction·2π/wavelength (kx, ky), phase, amplitude; for x then for y.
    waves: [[[f32; 4]; WAVES]; 2],
}

const WAVES: usize = 3;

impl Elastic {
    pub fn none() -> Elastic {
        Elastic {
            waves: [[[0.0; 4]; WAVES]; 2],
        }
    }

    pub fn sample(rng: &mut impl Rng, style: &SynthStyle) -> Elastic {
        let amplitude = uniform(rng, style.elastic);
        let mut waves = [[[0.0; 4]; WAVES]; 2];
        for wave in waves.iter_mut().flatten() {
            let k = TAU / uniform(rng, style.elastic_wavelength).max(1e-3);
            let (s, c) = uniform(rng, [0.0, TAU]).sin_cos();
            let share = uniform(rng, [0.4, 1.0]) / (WAVES as f32).sqrt();
            *wave = [k * c, k * s, uniform(rng, [0.0, TAU]), amplitude * share];
        }
        Elastic { waves }
    }

    pub fn displacement(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        self.waves.map(|axis| {
            axis.iter()
                .map(|[kx, ky, phase, a]| a * (kx * x + ky * y + phase).sin())
                .sum()
        })
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let d = self.displacement(p);
        [p[0] + d[0], p[1] + d[1]]
    }

    /// The point that [`Elastic::apply`] takes to `q`, by fixed-point iteration: the field is
    /// gentle (its slope well under 1), so a few steps converge.
    pub fn invert(&self, q: [f32; 2]) -> [f32; 2] {
        let mut p = q;
        for _ in 0..4 {
            let d = self.displacement(p);
            p = [q[0] - d[0], q[1] - d[1]];
        }
        p
    }
}

/// The whole-character distortion: affine, then elastic.
#[derive(Clone, Debug)]
pub struct Warp {
    pub affine: Affine,
    pub elastic: Elastic,
}

impl Warp {
    pub fn sample(rng: &mut impl Rng, style: &SynthStyle) -> Warp {
        let affine = Affine::sample(rng, style);
        let elastic = Elastic::sample(rng, style);
        Warp { affine, elastic }
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        self.elastic.apply(self.affine.apply(p))
    }

    /// The inverse; `None` when the affine part is singular.
    pub fn inverse(&self) -> Option<impl Fn([f32; 2]) -> [f32; 2] + '_> {
        let affine = self.affine.invert()?;
        Some(move |q| affine.apply(self.elastic.invert(q)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn close(a: [f32; 2], b: [f32; 2], tol: f32) -> bool {
        (a[0] - b[0]).abs() < tol && (a[1] - b[1]).abs() < tol
    }

    #[test]
    fn sampled_warps_invert_and_stay_gentle() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let warp = Warp::sample(&mut rng, &SynthStyle::default());
            let inverse = warp.inverse().unwrap();
            for p in [[0.1, 0.2], [0.5, 0.5], [0.9, 0.7]] {
                let q = warp.apply(p);
                assert!(
                    close(inverse(q), p, 5e-3),
                    "{p:?} → {q:?} → {:?}",
                    inverse(q)
                );
                // Nothing moves by more than a third of the box.
                assert!(close(q, p, 0.34), "{p:?} → {q:?}");
            }
        }
    }

    #[test]
    fn the_identity_style_changes_nothing() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let warp = Warp::sample(&mut rng, &SynthStyle::none());
        assert!(close(warp.apply([0.3, 0.8]), [0.3, 0.8], 1e-6));
        let turn = Affine::similarity([0.5, 0.5], std::f32::consts::FRAC_PI_2, 1.0, [0.0; 2]);
        assert!(close(turn.apply([1.0, 0.5]), [0.5, 1.0], 1e-6));
    }
}
