//! Phone photos of handwriting, made from a dataset's clean samples: the writing is put on
//! paper (white, gray or yellowish; plain, lined or squared), in ink (black, blue, red, faint
//! pencil), small in a big frame, with some clutter in the margin, then lit unevenly (a
//! gradient across the page, a shadow's edge) and taken by a camera (blur, noise, JPEG).
//! It measures what real photos cost a model, on samples whose labels are known; seeded, so
//! the same seed gives the same photos.

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, Rgb, RgbImage};
use rand::Rng;

mod captions;
pub use captions::{read_captions, ConditionTally, CAPTIONS_FILE};

/// What one photo was made under, for the caption of its file and for tests.
#[derive(Clone, Debug, PartialEq)]
pub struct Conditions {
    pub paper: [f32; 3],
    pub ink: [f32; 3],
    /// Ink strength, 1 = full (pencil is fainter).
    pub ink_strength: f32,
    pub ruling: Ruling,
    /// Photo side over the writing's side (small writing in a big photo: large).
    pub frame: f32,
    /// Darkest light level of the gradient, 1 = even light.
    pub gradient: f32,
    /// Light level in the shadow, 1 = no shadow.
    pub shadow: f32,
    pub clutter: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ruling {
    Plain,
    Lined,
    Squared,
}

/// The papers photos are taken of: white, gray (a shade in this range) and yellowish.
const WHITE_PAPER: [f32; 3] = [245.0, 245.0, 240.0];
const GRAY_PAPER: std::ops::Range<f32> = 165.0..215.0;
const YELLOWISH_PAPER: [f32; 3] = [240.0, 225.0, 175.0];

/// The inks photos are written in: a name, the colour, and the strength range (pencil is
/// fainter).
const INKS: [(&str, [f32; 3], std::ops::Range<f32>); 4] = [
    ("black", [25.0, 25.0, 30.0], 0.85..1.0),
    ("blue", [30.0, 50.0, 160.0], 0.8..1.0),
    ("red", [180.0, 30.0, 35.0], 0.8..1.0),
    ("pencil", [90.0, 90.0, 95.0], 0.45..0.7),
];

impl Conditions {
    /// A random draw of every condition, each in a range people meet.
    pub fn sample(rng: &mut impl Rng) -> Self {
        let paper = match rng.random_range(0..3) {
            0 => WHITE_PAPER,
            1 => {
                let g = rng.random_range(GRAY_PAPER);
                [g, g, g]
            }
            _ => YELLOWISH_PAPER,
        };
        // Drawn as an i32, as ever: the same seed keeps giving the same photos.
        let (_, ink, strength) = &INKS[rng.random_range(0..INKS.len() as i32) as usize];
        let ink_strength = rng.random_range(strength.clone());
        let ruling = match rng.random_range(0..3) {
            0 => Ruling::Plain,
            1 => Ruling::Lined,
            _ => Ruling::Squared,
        };
        Conditions {
            paper,
            ink: *ink,
            ink_strength,
            ruling,
            frame: rng.random_range(1.6..5.0),
            gradient: rng.random_range(0.45..1.0),
            shadow: if rng.random_bool(0.4) {
                rng.random_range(0.5..0.8)
            } else {
                1.0
            },
            clutter: rng.random_bool(0.3),
        }
    }
}

/// One photo as a phone takes it: what it was made under, and its JPEG file.
pub struct Shot {
    pub conditions: Conditions,
    pub jpeg: Vec<u8>,
}

impl Shot {
    /// Takes a photo of `sample` under conditions drawn from `rng`: the writing 36–99 pixels
    /// tall, saved at JPEG quality 70–92 (`data photos` writes these files; a synthetic source
    /// with a `photo_fraction` reads them back as its samples).
    pub fn take(sample: &GrayImage, rng: &mut impl Rng) -> Self {
        let conditions = Conditions::sample(rng);
        let glyph_px = rng.random_range(36..100);
        let photo = photograph(sample, &conditions, glyph_px, rng);
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, rng.random_range(70..93))
            .encode_image(&photo)
            .expect("JPEG encoding into memory of an RGB image cannot fail");
        Shot { conditions, jpeg }
    }

    /// The photo as `predict` reads its file: decoded, in gray.
    pub fn gray(&self) -> GrayImage {
        crate::image_file::decode_gray(&self.jpeg)
            .expect("a JPEG this module encoded decodes within the limits")
    }
}

/// Photographs `sample` (any polarity: the ink is whichever side its border is not) under
/// `conditions`, with the writing `glyph_px` pixels tall.
pub fn photograph(
    sample: &GrayImage,
    conditions: &Conditions,
    glyph_px: u32,
    rng: &mut impl Rng,
) -> RgbImage {
    let ink = ink_coverage(sample, glyph_px);
    let side = ((glyph_px as f32 * conditions.frame) as u32).max(glyph_px + 4);
    let (gx, gy) = (
        rng.random_range(0..=side - ink.width()),
        rng.random_range(0..=side - ink.height()),
    );
    let line_gap = (glyph_px as f32 * rng.random_range(0.45..0.8)).max(6.0);
    let light = Light::sample(rng, conditions, side);
    let clutter = conditions
        .clutter
        .then(|| Clutter::sample(rng, side, [gx, gy], ink.width()));
    let mut photo = RgbImage::new(side, side);
    for (x, y, px) in photo.enumerate_pixels_mut() {
        let mut colour = conditions.paper;
        let rule = ruling(conditions.ruling, x, y, line_gap);
        mix(&mut colour, [150.0, 180.0, 215.0], rule * 0.6);
        if let Some(c) = &clutter {
            mix(&mut colour, [40.0, 40.0, 40.0], c.cover(x, y));
        }
        if x >= gx && y >= gy && x < gx + ink.width() && y < gy + ink.height() {
            let a = ink.get_pixel(x - gx, y - gy).0[0] as f32 / 255.0;
            mix(&mut colour, conditions.ink, a * conditions.ink_strength);
        }
        let level = light.at(x, y);
        *px = Rgb(colour.map(|c| (c * level).clamp(0.0, 255.0) as u8));
    }
    camera(photo, rng)
}

/// Pixels above this level (ink bright, 0..255) mark the writing's box; JPEG ringing is below.
const INK_LEVEL: u8 = 40;

/// The sample's ink as coverage (0 paper .. 255 ink), cropped to the writing (with a
/// one-pixel margin) and scaled so the writing's taller side is `px`: a dataset's frame
/// around it (Chinese MNIST's characters fill a third of their 64² images) is not what a
/// photo of the page is scaled by.
fn ink_coverage(sample: &GrayImage, px: u32) -> GrayImage {
    let mut ink = sample.clone();
    let (w, h) = ink.dimensions();
    // The recipe's own polarity rule: a light border means dark ink on paper.
    if crate::recipe::border_is_paper(&ink) {
        image::imageops::invert(&mut ink);
    }
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in ink.enumerate_pixels() {
        if p.0[0] > INK_LEVEL {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    let ink = if x0 <= x1 {
        let (x0, y0) = (x0.saturating_sub(1), y0.saturating_sub(1));
        let (x1, y1) = ((x1 + 1).min(w - 1), (y1 + 1).min(h - 1));
        image::imageops::crop_imm(&ink, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image()
    } else {
        ink
    };
    let (w, h) = ink.dimensions();
    let scale = px as f32 / h.max(w) as f32;
    let (nw, nh) = (
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    image::imageops::resize(&ink, nw, nh, image::imageops::FilterType::Triangle)
}

fn mix(colour: &mut [f32; 3], other: [f32; 3], amount: f32) {
    let a = amount.clamp(0.0, 1.0);
    for (c, o) in colour.iter_mut().zip(other) {
        *c = *c * (1.0 - a) + o * a;
    }
}

/// Coverage of faint printed rules at pixel (x, y).
fn ruling(ruling: Ruling, x: u32, y: u32, gap: f32) -> f32 {
    let on = |v: u32| {
        let d = (v as f32 % gap).min(gap - v as f32 % gap);
        (1.0 - d).clamp(0.0, 1.0)
    };
    match ruling {
        Ruling::Plain => 0.0,
        Ruling::Lined => on(y),
        Ruling::Squared => on(x).max(on(y)),
    }
}

/// Uneven light: a linear fall-off across the page in a random direction, times a shadow
/// with a soft edge.
struct Light {
    centre: f32,
    direction: [f32; 2],
    span: f32,
    darkest: f32,
    shadow: f32,
    shadow_normal: [f32; 2],
    shadow_offset: f32,
    softness: f32,
}

impl Light {
    fn sample(rng: &mut impl Rng, c: &Conditions, side: u32) -> Self {
        let angle = |rng: &mut dyn rand::RngCore| {
            let a: f32 = rand::Rng::random_range(rng, 0.0..std::f32::consts::TAU);
            [a.cos(), a.sin()]
        };
        Light {
            centre: side as f32 / 2.0,
            direction: angle(rng),
            span: side as f32 * std::f32::consts::SQRT_2,
            darkest: c.gradient,
            shadow: c.shadow,
            shadow_normal: angle(rng),
            shadow_offset: rng.random_range(-0.3..0.3) * side as f32,
            softness: side as f32 * rng.random_range(0.02..0.1),
        }
    }

    fn at(&self, x: u32, y: u32) -> f32 {
        let (px, py) = (x as f32 - self.centre, y as f32 - self.centre);
        let t =
            ((px * self.direction[0] + py * self.direction[1]) / self.span + 0.5).clamp(0.0, 1.0);
        let gradient = self.darkest + (1.0 - self.darkest) * t;
        let s = px * self.shadow_normal[0] + py * self.shadow_normal[1] - self.shadow_offset;
        let inside = (0.5 - s / self.softness.max(1.0)).clamp(0.0, 1.0);
        gradient * (1.0 - inside * (1.0 - self.shadow))
    }
}

/// A few dark marks in a corner of the page, away from the writing (a margin note's end, a
/// speck, the edge of something on the desk).
struct Clutter {
    marks: Vec<([f32; 2], [f32; 2], f32)>,
}

impl Clutter {
    fn sample(rng: &mut impl Rng, side: u32, glyph: [u32; 2], glyph_side: u32) -> Self {
        let s = side as f32;
        let centre = [
            glyph[0] as f32 + glyph_side as f32 / 2.0,
            glyph[1] as f32 + glyph_side as f32 / 2.0,
        ];
        // The corner furthest from the writing.
        let corner = [
            if centre[0] < s / 2.0 {
                s * 0.92
            } else {
                s * 0.08
            },
            if centre[1] < s / 2.0 {
                s * 0.92
            } else {
                s * 0.08
            },
        ];
        let reach = s * 0.06;
        let marks = (0..rng.random_range(1..4))
            .map(|_| {
                let a = [
                    corner[0] + rng.random_range(-reach..reach),
                    corner[1] + rng.random_range(-reach..reach),
                ];
                let b = [
                    a[0] + rng.random_range(-reach..reach),
                    a[1] + rng.random_range(-reach..reach),
                ];
                (a, b, rng.random_range(0.6..1.6))
            })
            .collect();
        Clutter { marks }
    }

    fn cover(&self, x: u32, y: u32) -> f32 {
        let p = [x as f32 + 0.5, y as f32 + 0.5];
        self.marks
            .iter()
            .map(|&(a, b, r)| {
                let d = [b[0] - a[0], b[1] - a[1]];
                let len2 = (d[0] * d[0] + d[1] * d[1]).max(1e-6);
                let t = (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0);
                let dist = (p[0] - a[0] - t * d[0]).hypot(p[1] - a[1] - t * d[1]);
                (r + 0.5 - dist).clamp(0.0, 1.0)
            })
            .fold(0.0, f32::max)
    }
}

/// A phone camera: a slight blur and sensor noise (the JPEG step is the writer's).
fn camera(photo: RgbImage, rng: &mut impl Rng) -> RgbImage {
    let sigma = rng.random_range(0.4..1.1);
    let mut photo = image::imageops::blur(&photo, sigma);
    let noise = rng.random_range(2.0..7.0);
    for v in photo.iter_mut() {
        let n =
            (rng.random::<f32>() + rng.random::<f32>() + rng.random::<f32>() - 1.5) * 2.0 * noise;
        *v = (*v as f32 + n).clamp(0.0, 255.0) as u8;
    }
    photo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recipe;
    use image::Luma;
    use rand::SeedableRng;

    fn an_l() -> GrayImage {
        let mut img = GrayImage::new(28, 28);
        for y in 4..24 {
            for x in 8..11 {
                img.put_pixel(x, y, Luma([255]));
            }
        }
        for y in 21..24 {
            for x in 8..20 {
                img.put_pixel(x, y, Luma([255]));
            }
        }
        img
    }

    #[test]
    fn the_same_seed_gives_the_same_photo() {
        let shoot = |seed| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let c = Conditions::sample(&mut rng);
            photograph(&an_l(), &c, 40, &mut rng)
        };
        assert_eq!(shoot(3), shoot(3));
        assert_ne!(shoot(3), shoot(4));
    }

    #[test]
    fn a_hard_photo_still_prepares_to_the_clean_glyph() {
        // Blue ink on yellowish squared paper, in a strong gradient with a shadow: the recipe's
        // paper model has to find the L again.
        let c = Conditions {
            paper: [240.0, 225.0, 175.0],
            ink: [30.0, 50.0, 160.0],
            ink_strength: 0.9,
            ruling: Ruling::Squared,
            frame: 3.0,
            gradient: 0.5,
            shadow: 0.7,
            clutter: false,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let photo = photograph(&an_l(), &c, 60, &mut rng);
        assert_eq!(photo.dimensions(), (180, 180));
        let gray = image::DynamicImage::ImageRgb8(photo).to_luma8();
        let recipe = Recipe::mnist();
        let (clean, shot) = (recipe.prepare(&an_l()), recipe.prepare(&gray));
        let differing = clean
            .as_raw()
            .iter()
            .zip(shot.as_raw())
            .filter(|(a, b)| a.abs_diff(**b) > 128)
            .count();
        assert!(differing < 80, "{differing} of 784 pixels differ");
    }
}
