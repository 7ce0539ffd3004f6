//! Training-time augmentation on prepared `u8` images (bright ink on black), the same code for
//! digits and characters. In order: one resampling pass through a random affine warp
//! (rotation, scale, shear, translation about the centre) plus an elastic displacement field;
//! a random stroke-width change; fainter ink and additive noise. Seeded per sample by the
//! caller, so an epoch's augmentations are reproducible. Every parameter at 0 switches its
//! distortion off and draws nothing from the rng, so a config written before a distortion
//! existed still parses and augments exactly as it did.

mod morph;
mod noise;
mod splitmix;
mod warp;

use image::GrayImage;
use rand::Rng;
use serde::{Deserialize, Serialize};
use warp::{ElasticField, InverseAffine};

/// Random distortion ranges; `Augment::default()` distorts nothing.
///
/// ```
/// # use inkstone_data::augment::Augment;
/// # use rand::SeedableRng;
/// let image = image::GrayImage::new(64, 64);
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let warped = Augment::characters().apply(&image, &mut rng);
/// assert_eq!(warped.dimensions(), (64, 64));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Maximum rotation, degrees (uniform in ±).
    pub rotate_deg: f32,
    /// Maximum relative scale change (uniform in 1 ± this).
    pub scale: f32,
    /// Maximum shear factor (uniform in ±).
    pub shear: f32,
    /// Maximum translation, pixels (uniform in ±, per axis).
    pub translate_px: f32,
    /// Elastic distortion (Simard et al. 2003) strength, pixels: each displacement component
    /// has standard deviation `alpha / 2` and never exceeds `alpha`. 0 = off.
    #[serde(default)]
    pub elastic_alpha: f32,
    /// Smoothness of the elastic field: the Gaussian blur's standard deviation, pixels.
    #[serde(default)]
    pub elastic_sigma: f32,
    /// Probability of changing the stroke width of a sample. 0 = off.
    #[serde(default)]
    pub stroke_prob: f32,
    /// Maximum stroke-width change, pixels per side (uniform in ±: dilate or erode).
    #[serde(default)]
    pub stroke_px: f32,
    /// Maximum ink fading: pixels are multiplied by a factor uniform in `[1 − this, 1]`.
    /// 0 = off.
    #[serde(default)]
    pub ink_fade: f32,
    /// Maximum standard deviation of additive Gaussian noise, on the 0..255 scale; each sample
    /// draws its own in `[0, this]`. 0 = off.
    #[serde(default)]
    pub noise_sigma: f32,
    /// The image side the pixel lengths above are meant for; other sizes get them scaled in
    /// proportion (a 0.75 px erosion that thins a 64 px glyph would erase a 32 px one).
    /// 0 = lengths are absolute.
    #[serde(default)]
    pub reference_side: u32,
}

impl Augment {
    /// Mild distortions that keep a digit a digit (28×28 MNIST-style inputs).
    pub fn digits() -> Self {
        Augment {
            rotate_deg: 10.0,
            scale: 0.1,
            shear: 0.15,
            translate_px: 2.0,
            ..Augment::default()
        }
    }

    /// Distortions for Chinese characters at 64×64: gentler rotation and shear than digits
    /// (more strokes, more ways to become another character), elastic wobble of the strokes,
    /// pens of other widths, fainter ink and light noise. For another input size, use
    /// [`Augment::scaled_px`], e.g. `Augment::characters().scaled_px(112.0 / 64.0)`.
    pub fn characters() -> Self {
        Augment {
            rotate_deg: 5.0,
            scale: 0.08,
            shear: 0.1,
            translate_px: 2.0,
            elastic_alpha: 2.5,
            elastic_sigma: 6.0,
            stroke_prob: 0.5,
            stroke_px: 0.75,
            ink_fade: 0.3,
            noise_sigma: 8.0,
            reference_side: 64,
        }
    }

    /// The same distortions for images `factor` times the size: every length in pixels
    /// (translation, elastic alpha and sigma, stroke-width change) is multiplied by `factor`.
    pub fn scaled_px(self, factor: f32) -> Self {
        Augment {
            translate_px: self.translate_px * factor,
            elastic_alpha: self.elastic_alpha * factor,
            elastic_sigma: self.elastic_sigma * factor,
            stroke_px: self.stroke_px * factor,
            reference_side: (self.reference_side as f32 * factor).round() as u32,
            ..self
        }
    }

    /// A randomly distorted copy of `image`; the result depends only on `image`, `self` and
    /// the state of `rng`.
    pub fn apply(&self, image: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let side = image.width().max(image.height());
        if self.reference_side > 0 && self.reference_side != side {
            let factor = side as f32 / self.reference_side as f32;
            return self.clone().scaled_px(factor).apply(image, rng);
        }
        let map = self.random_affine(rng);
        let field = (self.elastic_alpha > 0.0).then(|| {
            let (w, h) = image.dimensions();
            ElasticField::random(w, h, self.elastic_alpha, self.elastic_sigma, rng)
        });
        let mut out = match (&map, &field) {
            (None, None) => image.clone(),
            (map, field) => warp::warp(image, map.as_ref().unwrap_or(&IDENTITY), field.as_ref()),
        };
        if self.stroke_prob > 0.0 && self.stroke_px > 0.0 {
            let hit = rng.random::<f32>() < self.stroke_prob;
            let amount = (rng.random::<f32>() * 2.0 - 1.0) * self.stroke_px;
            if hit {
                morph::change_stroke_width(&mut out, amount);
            }
        }
        let gain = if self.ink_fade > 0.0 {
            1.0 - rng.random::<f32>() * self.ink_fade.min(1.0)
        } else {
            1.0
        };
        let sigma = if self.noise_sigma > 0.0 {
            rng.random::<f32>() * self.noise_sigma
        } else {
            0.0
        };
        noise::fade_and_noise(&mut out, gain, sigma, rng);
        out
    }

    /// The inverse of a random `p' = S·R·H·(p − c) + c + t`, or `None` when it drew the
    /// identity (every range 0), so the caller can skip resampling.
    fn random_affine(&self, rng: &mut impl Rng) -> Option<InverseAffine> {
        let mut sym = |max: f32| {
            if max > 0.0 {
                rng.random_range(-max..=max)
            } else {
                0.0
            }
        };
        let angle = sym(self.rotate_deg).to_radians();
        let scale = 1.0 + sym(self.scale);
        let shear = sym(self.shear);
        let (tx, ty) = (sym(self.translate_px), sym(self.translate_px));
        if angle == 0.0 && scale == 1.0 && shear == 0.0 && tx == 0.0 && ty == 0.0 {
            return None;
        }
        let (sin, cos) = angle.sin_cos();
        let a = [
            scale * cos,
            scale * (cos * shear - sin),
            scale * sin,
            scale * (sin * shear + cos),
        ];
        let det = a[0] * a[3] - a[1] * a[2];
        Some(InverseAffine {
            inv: [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det],
            shift: [tx, ty],
        })
    }
}

const IDENTITY: InverseAffine = InverseAffine {
    inv: [1.0, 0.0, 0.0, 1.0],
    shift: [0.0, 0.0],
};

#[cfg(test)]
mod tests;
