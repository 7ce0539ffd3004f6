//! Training-time augmentation on prepared `u8` images: a random affine warp (rotation, scale,
//! shear, translation) about the image centre, with bilinear sampling. Seeded per sample by
//! the caller, so an epoch's augmentations are reproducible.

use image::{GrayImage, Luma};
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Maximum rotation, degrees (uniform in ±).
    pub rotate_deg: f32,
    /// Maximum relative scale change (uniform in 1 ± this).
    pub scale: f32,
    /// Maximum shear factor (uniform in ±).
    pub shear: f32,
    /// Maximum translation, pixels (uniform in ±, per axis).
    pub translate_px: f32,
}

impl Augment {
    /// Mild distortions that keep a digit a digit.
    pub fn digits() -> Self {
        Augment {
            rotate_deg: 10.0,
            scale: 0.1,
            shear: 0.15,
            translate_px: 2.0,
        }
    }

    /// A randomly warped copy of `image`.
    pub fn apply(&self, image: &GrayImage, rng: &mut impl Rng) -> GrayImage {
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
        // Forward map: p' = S·R·H·(p − c) + c + t. Sample the source at the inverse.
        let (sin, cos) = angle.sin_cos();
        let a = [
            scale * cos,
            scale * (cos * shear - sin),
            scale * sin,
            scale * (sin * shear + cos),
        ];
        let det = a[0] * a[3] - a[1] * a[2];
        let inv = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det];
        let (w, h) = image.dimensions();
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        GrayImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 + 0.5 - cx - tx, y as f32 + 0.5 - cy - ty);
            let sx = inv[0] * dx + inv[1] * dy + cx - 0.5;
            let sy = inv[2] * dx + inv[3] * dy + cy - 0.5;
            Luma([bilinear(image, sx, sy)])
        })
    }
}

fn bilinear(img: &GrayImage, x: f32, y: f32) -> u8 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: i64, yy: i64| {
        if xx < 0 || yy < 0 || xx >= w || yy >= h {
            0.0
        } else {
            img.get_pixel(xx as u32, yy as u32).0[0] as f32
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn square() -> GrayImage {
        GrayImage::from_fn(28, 28, |x, y| {
            Luma([if (10..18).contains(&x) && (10..18).contains(&y) {
                255
            } else {
                0
            }])
        })
    }

    #[test]
    fn no_distortion_is_the_identity() {
        let none = Augment {
            rotate_deg: 0.0,
            scale: 0.0,
            shear: 0.0,
            translate_px: 0.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(none.apply(&square(), &mut rng), square());
    }

    #[test]
    fn same_seed_same_warp_and_ink_is_kept() {
        let aug = Augment::digits();
        let a = aug.apply(&square(), &mut rand::rngs::StdRng::seed_from_u64(5));
        let b = aug.apply(&square(), &mut rand::rngs::StdRng::seed_from_u64(5));
        let c = aug.apply(&square(), &mut rand::rngs::StdRng::seed_from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let ink = |i: &GrayImage| i.as_raw().iter().map(|&v| v as f64).sum::<f64>();
        let ratio = ink(&a) / ink(&square());
        assert!((0.75..1.3).contains(&ratio), "ink mass changed by {ratio}");
    }
}
