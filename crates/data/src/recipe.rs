//! The recipe: how raw ink becomes a model input. The same `Recipe` value is stored in every
//! bundle and runs in training, eval, predict and serve, so a photo of a digit on paper goes
//! through exactly the steps the training digits went through.
//!
//! Steps of [`Recipe::prepare`], in order: decide polarity (make ink bright on black), remove
//! the background (Otsu split, then a contrast stretch above the paper's noise), crop to the
//! ink, resize keeping the aspect ratio so the longer side is `fit` pixels, and paste into an
//! `input_size` square with the ink's centre of mass (or box centre) in the middle.

mod main_ink;
mod one_pen;
mod paper;

use crate::strokes::DEFAULT_PEN;
use crate::synth::style::CHARACTER_PEN;
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use serde::{Deserialize, Serialize};

/// Gaussian blur (pixels) of a photo's ink after the paper is taken off and before the ink is
/// split from it: a camera's noise raises the split (3 σ above the paper), and a faint or
/// blurred stroke then breaks into dashes. Clean data (no paper) is not blurred. Measured
/// (`data photos … --seed 1`; LeNet-5 on MNIST test photos / the earlier 3 755-class model
/// on 3 000 Chinese MNIST `:train` photos): none 90.03% / 27.63%, 0.7 90.67 / 31.87,
/// **1.2 90.64 / 32.83**, 1.8 90.26 / 29.50, 2.5 89.80 / 25.00.
const PHOTO_DENOISE_SIGMA: f32 = 1.2;
/// The blur of a photo whose ink stands clear of the paper's grain (see [`CLEAR_INK`]): less
/// blur keeps close strokes apart (零's dots, 百's inner bar). Measured with the released
/// 3 755-class model on the 1 197 inked, plain, unshadowed, uncluttered photos among 12 000
/// of Chinese MNIST `:train` (`data photos … --seed 1`; 82.62% of their clean originals):
/// none 76.86%, 0.3 76.86, 0.6 79.11, **0.8 79.45**, 1.0 78.86, 1.2 77.44, 2.0 70.26; on
/// every photo 0.8 lost faint pencil (55.60% -> 52.03%) and squared paper, hence the rule.
/// Scaling the blur with the writing's size instead (0.015–0.03 of its box) did worse. Only
/// for recipes that redraw the skeleton: LeNet-5 (10 epochs, seed 1, 99.23% clean) on MNIST
/// test photos read 97.68% with one blur, 97.58% with the rule.
const PHOTO_CLEAR_SIGMA: f32 = 0.8;
/// Ink that reaches this many robust deviations of the paper's grain above the paper (its
/// brightest 0.5% against the median) gets [`PHOTO_CLEAR_SIGMA`]. Chinese MNIST `:train`
/// photos (same measure): the clear photos' median is 13, faint pencil's 6; all 12 000
/// photos 70.05% with one blur, 9: **70.73%** (pencil 55.60 -> 55.86%, black ink 76.16 ->
/// 77.31%); the pencil and clear subsets at 6: 61.49 / 79.78%, at 9: 61.89 / 79.53%.
const CLEAR_INK: f32 = 9.0;

/// The share of a clean image's ink pixels below the level stretched to full white: nearly
/// all, so a dataset's own gray levels stay as they are.
const CLEAN_INK_TOP: f64 = 0.995;
/// The same for a photo, whose camera blurs thin strokes to a lighter gray than thick ones:
/// half its ink reaches full white, as a pen stroke's core does in the training digits.
/// Measured (LeNet-5, 10 epochs, seed 1, 99.13% on clean MNIST test; `data photos
/// ../shared/data/mnist:test --seed 1`): 0.995 96.59%, 0.7 97.23%, **0.5 97.35%**, 0.3
/// 97.17%, 0.15 96.74%.
const PHOTO_INK_TOP: f64 = 0.5;
/// Robust deviations of the paper's grain above its median that are still paper (see
/// `paper_noise_floor`). Measured with the shipped 3 755-class model on 12 000 photos of
/// Chinese MNIST `:train` (`data photos … --seed 1`): no floor 52.87%, 4: 54.89%, 6: 54.87%,
/// 9: 50.04%.
const PAPER_NOISE_DEVIATIONS: f32 = 4.0;

/// A border lighter than this is paper: the ink is dark. Paper in a photo is often far from
/// white (a gray page, a shadow across the border, a dim corner: 64..127 is common), while
/// a dark background is darker still (MNIST's is 0). Measured
/// (LeNet-5 on `data photos ../shared/data/mnist:test --seed 1`): 127 gave 90.31%, 64 gives
/// 94.96% (shadows under 0.65 of the light: 71.6% -> 86.1%); MNIST test unchanged. The
/// strokes' own contrast (dark top-hat against bright, over a window wider than a stroke)
/// deciding between 64 and 192 did worse, 90.59%: a squared page's cells are bright
/// structures as narrow as the window.
const BORDER_OF_PAPER: f32 = 64.0;

/// Which way round the source's ink is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Polarity {
    /// Decide per image from its border: a light border means dark ink on paper.
    Auto,
    /// Bright ink on a dark background (MNIST).
    InkBright,
    /// Dark ink on a light background (scans, photos, CASIA).
    InkDark,
}

/// Where the glyph's centre goes in the output square.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Centering {
    /// The ink's centre of mass at the centre (how MNIST itself was made).
    CenterOfMass,
    /// The bounding box's centre at the centre.
    BoundingBox,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Side of the square model input, in pixels.
    pub input_size: u32,
    /// Longer side of the ink after resizing (MNIST: 20 inside 28).
    pub fit: u32,
    pub polarity: Polarity,
    pub centering: Centering,
    /// Input normalisation after scaling pixels to 0..1: `(x - mean) / std`.
    pub mean: f32,
    pub std: f32,
    /// The HCCR seed's `gnt2gnt` gray-level normalisation, after resizing (none when absent).
    #[serde(default)]
    pub gray: Option<GrayNorm>,
    /// Pen radius, as a fraction of the drawing's larger side, for pen strokes (the draw page,
    /// JSON strokes) drawn into an image for this recipe: the width its training data was
    /// written with. Bundles from before this field get MNIST's [`DEFAULT_PEN`].
    #[serde(default = "mnist_pen")]
    pub stroke_pen: f32,
    /// Stroke-width normalisation: redraw the ink's skeleton with a pen of `stroke_pen`, so a
    /// fat marker, a fine pen and a small character scaled up all give the model strokes of
    /// its training width. Bundles from before this field have it off.
    #[serde(default)]
    pub one_pen: bool,
    /// Test-time views: other renderings of the same ink (the glyph fitted to another size,
    /// drawn with another pen) whose predictions are averaged with the recipe's own in
    /// `predict`, `eval` and the service; training uses the recipe's own view only. None by
    /// default (`inkstone model views` sets them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Test-time readings of a photo: other ways to tell its ink from the paper, each
    /// prepared in every view, the network's probabilities averaged over all of them as over
    /// the views. Clean images (no paper) read the same every way, and the network runs once
    /// a view for them. None by default (`inkstone model readings` sets them).
    ///
    /// Averaging was measured against answering with the reading most sure of its best class
    /// (the released 3 755-class model, the three readings, `predict --json` over the 12 000
    /// Chinese MNIST `:train` photos of `data photos … --seed 1`): 75.17% against 74.95%
    /// (the reading with the widest lead of its best class over the next: 74.36%); test photos
    /// 73.63% against 73.40%; on 4 000 of them (75.35% averaged) the geometric mean 70.30%
    /// (one reading sure the right class is impossible outvotes the rest), each class's
    /// largest probability 73.53%, the own reading counted twice 74.88%. On those photos
    /// (75.35% with the three), without `faint` 74.30%; a fourth reading: even-light and
    /// local-grain together 75.12%, a blur 1.6 px wide instead of 1.2 74.90%, local grain then
    /// the faint split 75.35% (level, for four more runs a photo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
}

/// Another reading of a photo besides the recipe's own (see [`Recipe::readings`]). Each
/// alone read fewer photos right than the recipe's own, but failed on other photos (stop 34,
/// the released 3 755-class model; README, results table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reading {
    /// The flattened ink divided by the light it lies in: ink in a shadow keeps its contrast.
    EvenLight,
    /// The paper's grain taken off block by block instead of once for the page: faint ink
    /// where the page is fine-grained is kept.
    LocalGrain,
    /// A hysteresis split: ink down to [`FAINT_SHARE`] of the split is kept where it joins
    /// ink above the split, so a faint stroke is not cut into dots.
    Faint,
}

impl Reading {
    /// Every reading, in the order `inkstone model readings` lists them.
    pub const ALL: [Reading; 3] = [Reading::EvenLight, Reading::LocalGrain, Reading::Faint];

    /// The reading's name on the command line and in a bundle's recipe.
    pub fn name(self) -> &'static str {
        match self {
            Reading::EvenLight => "even-light",
            Reading::LocalGrain => "local-grain",
            Reading::Faint => "faint",
        }
    }
}

/// One test-time view (see [`Recipe::views`]): the ink stretched `aspect` times wider (under
/// 1: taller), slanted by `slant` (each row moved right by `slant` × its height above the
/// bottom row: 0.15 leans a vertical stroke about 8.5° to the right, under 0 to the left),
/// its larger side fitted to `fit` pixels and, with stroke-width normalisation, redrawn with
/// a pen `pen_scale` times the recipe's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub fit: u32,
    pub pen_scale: f32,
    #[serde(default = "unstretched")]
    pub aspect: f32,
    #[serde(default, skip_serializing_if = "is_upright")]
    pub slant: f32,
}

fn is_upright(slant: &f32) -> bool {
    *slant == 0.0
}

fn unstretched() -> f32 {
    1.0
}

fn mnist_pen() -> f32 {
    DEFAULT_PEN
}

/// Gray-level normalisation of the ink, as the HCCR seed's `gnt2gnt` step: writers press
/// differently and scanners differ, so the ink's gray levels are mapped by a power curve that
/// sends their mean to a fixed gray (its spread follows, since the curve is monotone), then
/// softened by a Gaussian blur so that resized strokes have no hard staircase edges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrayNorm {
    /// Gray level (ink bright, 0..255) the ink's mean is mapped to.
    pub ink_mean: u8,
    /// Gaussian blur sigma in pixels after the curve (0 = none).
    pub blur_sigma: f32,
}

impl Default for GrayNorm {
    fn default() -> Self {
        GrayNorm {
            ink_mean: 200,
            blur_sigma: 0.5,
        }
    }
}

impl Recipe {
    /// MNIST's own construction: 20×20 box, centre of mass in a 28×28 square, and MNIST's
    /// pixel mean/std.
    pub fn mnist() -> Self {
        Recipe {
            input_size: 28,
            fit: 20,
            polarity: Polarity::Auto,
            centering: Centering::CenterOfMass,
            mean: 0.1307,
            std: 0.3081,
            gray: None,
            stroke_pen: DEFAULT_PEN,
            one_pen: false,
            views: Vec::new(),
            readings: Vec::new(),
        }
    }

    /// For characters (CASIA, Chinese MNIST, synthetic): the glyph's box fills 7/8 of a
    /// `side`² square, centred by its bounding box (a character's centre of mass moves with
    /// its radicals), with the seed's gray-level normalisation. 64 is the reference benchmark's
    /// input, 112 the HCCR seed's.
    pub fn characters(side: u32) -> Self {
        Recipe {
            input_size: side,
            fit: (side - side / 8).max(1),
            polarity: Polarity::Auto,
            centering: Centering::BoundingBox,
            // Measured over synthetic gb2312-1 characters prepared by this recipe.
            mean: 0.17,
            std: 0.33,
            gray: Some(GrayNorm::default()),
            stroke_pen: CHARACTER_PEN,
            one_pen: true,
            views: Vec::new(),
            readings: Vec::new(),
        }
    }

    /// Names [`Recipe::preset`] accepts.
    pub const PRESETS: &'static [&'static str] = &["mnist", "characters", "characters-raw"];

    /// A named preset: `mnist` (28²), `characters` at `side` (default 64), or
    /// `characters-raw`: the same without stroke-width normalisation (strokes as written).
    pub fn preset(name: &str, side: Option<u32>) -> Option<Self> {
        match name {
            "mnist" => Some(Recipe {
                input_size: side.unwrap_or(28),
                fit: side.map_or(20, |s| (s * 20 / 28).max(1)),
                ..Recipe::mnist()
            }),
            "characters" => Some(Recipe::characters(side.unwrap_or(64))),
            "characters-raw" => Some(Recipe {
                one_pen: false,
                ..Recipe::characters(side.unwrap_or(64))
            }),
            _ => None,
        }
    }

    /// Turns any gray image into the model's input image: bright ink on black, `input_size`².
    /// An image with no ink at all comes out black.
    pub fn prepare(&self, source: &GrayImage) -> GrayImage {
        let mut flat = self.bright_ink(source);
        let photo = paper::flatten_background(&mut flat, false);
        self.placed(&self.split_ink(flat, photo, None), self.own_view())
    }

    /// Model inputs of one image: how many [`Recipe::prepare_views`] makes.
    pub fn inputs_per_image(&self) -> usize {
        (1 + self.views.len()) * (1 + self.readings.len())
    }

    /// The recipe's own view followed by its test-time [`Recipe::views`], each prepared in the
    /// recipe's own reading followed by its [`Recipe::readings`]: input `v · R + r` is view
    /// `v` of reading `r` (`R` readings in all, the own one counted), so a clean image's
    /// readings, all alike, come one after the other. Each view is prepared as
    /// [`Recipe::prepare`] would with that fit and pen; the photo steps run once a reading.
    pub fn prepare_views(&self, source: &GrayImage) -> Vec<GrayImage> {
        let inks = self.inks(source);
        let mut out = Vec::with_capacity(self.inputs_per_image());
        for view in std::iter::once(self.own_view()).chain(self.views.iter().copied()) {
            for (r, ink) in inks.iter().enumerate() {
                // Alike readings (every reading of a clean image) are placed once.
                let placed = match r > 0 && *ink == inks[r - 1] {
                    true => out.last().cloned().expect("the reading before was placed"),
                    false => self.placed(ink, view),
                };
                out.push(placed);
            }
        }
        out
    }

    /// The ink of `source` in the recipe's own reading and then each of its
    /// [`Recipe::readings`] (all the same for a clean image).
    ///
    /// Every reading is kept, however much larger its ink's box than the own reading's (a
    /// shadow's edge taken for ink): replacing a reading whose box is over 3 (1.8) times the
    /// own one's area by the own reading read 75.03% (74.92%) of 4 000 Chinese MNIST `:train`
    /// photos against 75.35% (stop 37): the own reading is as often the broken one.
    ///
    /// Stop 39, on 4 000 `:train` photos (every third in file-name order; each reading's
    /// top-20 from `predict --json`, combined offline): the own reading alone 72.90%,
    /// even-light 70.95%, local-grain 69.85%, faint 63.52%, their average 75.83%, and 80.93%
    /// of the photos read right by at least one of them. Weighting each reading by its best
    /// class's probability read 76.03%, by its square root 76.08%, the faint reading at half
    /// weight 75.40%. A fifth reading, the flattened ink averaged along a line 7 px long in
    /// the best of 8 directions (faint strokes on grainy paper stay whole): alone 68.58%
    /// (零 17%: its close strokes merge), instead of `faint` 74.88%, beside it 76.10% for a
    /// quarter more network runs a photo. Not kept.
    fn inks(&self, source: &GrayImage) -> Vec<Option<GrayImage>> {
        let page = self.bright_ink(source);
        let mut flat = page.clone();
        let photo = paper::flatten_background(&mut flat, false);
        let own = self.split_ink(flat.clone(), photo, None);
        let mut inks = Vec::with_capacity(1 + self.readings.len());
        for &reading in &self.readings {
            inks.push(match (photo, reading) {
                (false, _) => own.clone(),
                (true, Reading::EvenLight) => {
                    let mut lit = page.clone();
                    paper::flatten_background(&mut lit, true);
                    self.split_ink(lit, true, Some(reading))
                }
                (true, _) => self.split_ink(flat.clone(), true, Some(reading)),
            });
        }
        inks.insert(0, own);
        inks
    }

    /// `source` with its ink bright on black.
    fn bright_ink(&self, source: &GrayImage) -> GrayImage {
        let mut ink = source.clone();
        if self.ink_is_dark(source) {
            imageops::invert(&mut ink);
        }
        ink
    }

    fn own_view(&self) -> View {
        View {
            fit: self.fit,
            pen_scale: 1.0,
            aspect: 1.0,
            slant: 0.0,
        }
    }

    /// The ink of a page whose paper is taken off (`flat`; a `photo` when there was paper),
    /// split from what is left of the paper as `reading` says (the recipe's own when `None`),
    /// with rules and stray marks gone, cropped to its box; `None` when there is no ink.
    ///
    /// One split for the whole photo: splitting a second time inside the first crop's box
    /// widened by half its side each way (so a bright blot elsewhere no longer sets the
    /// stretch) read 76.75% of 4 000 Chinese MNIST `:train` photos against 76.65%, shadows
    /// worse and plain light better (stop 38): not kept.
    fn split_ink(
        &self,
        mut ink: GrayImage,
        photo: bool,
        reading: Option<Reading>,
    ) -> Option<GrayImage> {
        if photo {
            // Strokes that stay as they are (no pen skeleton: digits) keep one blur.
            let sigma = match self.one_pen {
                true => denoise_sigma(&ink),
                false => PHOTO_DENOISE_SIGMA,
            };
            ink = imageops::blur(&ink, sigma);
            if reading == Some(Reading::LocalGrain) {
                paper::subtract_local_grain(&mut ink);
            }
        }
        let (ink_top, floor) = match photo {
            true => (PHOTO_INK_TOP, paper_noise_floor(&ink)),
            false => (CLEAN_INK_TOP, 0.0),
        };
        let faint = reading == Some(Reading::Faint);
        remove_background(&mut ink, ink_top, floor, faint);
        main_ink::keep_main_ink(&mut ink, photo);
        let (x, y, w, h) = ink_box(&ink)?;
        Some(imageops::crop_imm(&ink, x, y, w, h).to_image())
    }

    /// [`Recipe::place`] of the cropped ink, or the blank input where there is none.
    fn placed(&self, ink: &Option<GrayImage>, view: View) -> GrayImage {
        match ink {
            Some(glyph) => self.place(glyph.clone(), view),
            None => GrayImage::new(self.input_size, self.input_size),
        }
    }

    /// The cropped ink `glyph` fitted (and redrawn) as `view` says, centred in the input
    /// square, gray-normalised.
    fn place(&self, glyph: GrayImage, view: View) -> GrayImage {
        let glyph = slant(stretch(glyph, view.aspect), view.slant);
        let side = self.input_size;
        let fit = view.fit.clamp(1, side);
        let pen = self.stroke_pen * view.pen_scale * fit as f32;
        let redrawn = self
            .one_pen
            .then(|| one_pen::redraw(&glyph, fit, pen))
            .flatten();
        let glyph = match redrawn {
            Some(glyph) => glyph,
            None => self.fit_glyph(glyph, fit),
        };
        let (nw, nh) = glyph.dimensions();
        let (cx, cy) = match self.centering {
            Centering::CenterOfMass => center_of_mass(&glyph),
            Centering::BoundingBox => (nw as f32 / 2.0, nh as f32 / 2.0),
        };
        let half = side as f32 / 2.0;
        let left = ((half - cx).round() as i64).clamp(0, (side - nw) as i64);
        let top = ((half - cy).round() as i64).clamp(0, (side - nh) as i64);
        let mut canvas = GrayImage::new(side, side);
        imageops::replace(&mut canvas, &glyph, left, top);
        match &self.gray {
            Some(norm) => norm.apply(canvas),
            None => canvas,
        }
    }

    /// Resizes a cropped glyph, keeping its aspect, so that its longer side is `fit`.
    fn fit_glyph(&self, glyph: GrayImage, fit: u32) -> GrayImage {
        let (w, h) = glyph.dimensions();
        let side = self.input_size;
        let scale = fit as f32 / w.max(h) as f32;
        let (nw, nh) = (
            ((w as f32 * scale).round() as u32).clamp(1, side),
            ((h as f32 * scale).round() as u32).clamp(1, side),
        );
        if (nw, nh) == (w, h) {
            glyph
        } else {
            imageops::resize(&glyph, nw, nh, FilterType::Triangle)
        }
    }

    /// Scales a prepared image to normalised floats, row-major, appending to `out`.
    pub fn append_input(&self, prepared: &GrayImage, out: &mut Vec<f32>) {
        let (mean, inv_std) = (self.mean, 1.0 / self.std);
        out.extend(
            prepared
                .as_raw()
                .iter()
                .map(|&v| (v as f32 / 255.0 - mean) * inv_std),
        );
    }

    fn ink_is_dark(&self, source: &GrayImage) -> bool {
        match self.polarity {
            Polarity::InkBright => false,
            Polarity::InkDark => true,
            Polarity::Auto => border_is_paper(source),
        }
    }
}

impl GrayNorm {
    /// Maps the ink (pixels above the faintest tenth of the range) by `v^γ`, with γ chosen
    /// by bisection on the ink's histogram so that the mapped mean is `ink_mean`; then blurs.
    pub fn apply(&self, mut img: GrayImage) -> GrayImage {
        let hist = histogram(&img);
        let ink: Vec<(f64, f64)> = (26..256)
            .filter(|&v| hist[v] > 0)
            .map(|v| (v as f64 / 255.0, hist[v] as f64))
            .collect();
        let total: f64 = ink.iter().map(|(_, n)| n).sum();
        if total > 0.0 {
            let target = (self.ink_mean.max(1) as f64 / 255.0).min(0.99);
            let mapped_mean =
                |gamma: f64| ink.iter().map(|(v, n)| v.powf(gamma) * n).sum::<f64>() / total;
            // The mapped mean falls as γ grows; bounded so one odd image cannot blow it up.
            let (mut lo, mut hi) = (0.1f64, 10.0f64);
            for _ in 0..30 {
                let mid = (lo * hi).sqrt();
                if mapped_mean(mid) > target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let gamma = (lo * hi).sqrt() as f32;
            let table: [u8; 256] = std::array::from_fn(|v| {
                (255.0 * (v as f32 / 255.0).powf(gamma))
                    .round()
                    .clamp(0.0, 255.0) as u8
            });
            for v in img.iter_mut() {
                *v = table[*v as usize];
            }
        }
        if self.blur_sigma > 0.0 {
            img = imageops::blur(&img, self.blur_sigma);
        }
        img
    }
}

/// `glyph` made `aspect` times wider (under 1: `1 / aspect` times taller); as it is at 1.
fn stretch(glyph: GrayImage, aspect: f32) -> GrayImage {
    if aspect == 1.0 {
        return glyph;
    }
    let (w, h) = glyph.dimensions();
    let (nw, nh) = if aspect > 1.0 {
        ((w as f32 * aspect).round() as u32, h)
    } else {
        (w, (h as f32 / aspect).round() as u32)
    };
    imageops::resize(&glyph, nw.max(1), nh.max(1), FilterType::Triangle)
}

/// `glyph` slanted: each row moved right by `slant` × its height above the bottom row,
/// linearly interpolated; the image widens by what the top row moved. As it is at 0.
fn slant(glyph: GrayImage, slant: f32) -> GrayImage {
    if slant == 0.0 {
        return glyph;
    }
    let (w, h) = glyph.dimensions();
    let widening = (slant.abs() * h.saturating_sub(1) as f32).ceil() as u32;
    let source = |x: i64, y: u32| match x >= 0 && x < w as i64 {
        true => glyph.get_pixel(x as u32, y).0[0] as f32,
        false => 0.0,
    };
    GrayImage::from_fn(w + widening, h, |x, y| {
        let rise = (h - 1 - y) as f32;
        // A left slant moves the bottom row right instead, so no row leaves the image.
        let shift = slant * rise + if slant < 0.0 { widening as f32 } else { 0.0 };
        let from = x as f32 - shift;
        let left = from.floor();
        let share = from - left;
        let v = source(left as i64, y) * (1.0 - share) + source(left as i64 + 1, y) * share;
        Luma([v.round() as u8])
    })
}

/// Whether `img`'s border is paper, so its ink is dark (see [`BORDER_OF_PAPER`]).
pub(crate) fn border_is_paper(img: &GrayImage) -> bool {
    border_mean(img) > BORDER_OF_PAPER
}

/// Mean of the outermost ring of pixels: the background, for any sensibly framed glyph.
fn border_mean(img: &GrayImage) -> f32 {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return 0.0;
    }
    let raw = img.as_raw();
    let row = |y: u32| &raw[(y * w) as usize..((y + 1) * w) as usize];
    let mut sum: u64 = row(0).iter().map(|&v| v as u64).sum();
    let mut n = w as u64;
    if h > 1 {
        sum += row(h - 1).iter().map(|&v| v as u64).sum::<u64>();
        n += w as u64;
    }
    // Left and right columns, without the corners already counted.
    for y in 1..h.saturating_sub(1) {
        let line = row(y);
        sum += line[0] as u64;
        n += 1;
        if w > 1 {
            sum += line[w as usize - 1] as u64;
            n += 1;
        }
    }
    sum as f32 / n as f32
}

/// Zeroes the background and stretches the ink to full range. The background class of an Otsu
/// split gives the paper's level and noise; everything up to 3 σ above it becomes 0, so paper
/// texture and shadows do not count as ink. On clean data (MNIST) this is the identity. With
/// `faint` (`Reading::Faint`) the split goes down to [`FAINT_SHARE`] of itself for pixels
/// joined to ink above it.
///
/// Measured and not kept (stop 34, with an earlier implementation of the same steps; the
/// released 3 755-class model, 12 000 Chinese MNIST `:train` photos of `data photos …
/// --seed 1`, 71.03% as it is): the `faint` split as the recipe's own reading 54.62%: the
/// grain and the rules join the writing; a split raised so that at most 8% of the photo is
/// ink (a page taken whole for ink) changed nothing on 4 000 of them (70.33%), at most 5%
/// lost (70.03%); the paper's grain taken off block by block (`Reading::LocalGrain`) as the
/// own reading 67.73%.
fn remove_background(img: &mut GrayImage, ink_top: f64, floor: f32, faint: bool) {
    let hist = histogram(img);
    let t = otsu_threshold(&hist);
    let (bg_mean, bg_std) = class_stats(&hist[..=t]);
    let mut lo = (bg_mean + 3.0 * bg_std).min(t as f32).max(floor);
    // The top of the stretch is taken among the ink alone: a small digit in a big photo is
    // under 0.5% of the pixels, so a percentile of the whole image would land on the paper.
    let mut ink = hist;
    ink[..=t].fill(0);
    let top = if ink.iter().any(|&n| n > 0) {
        percentile(&ink, ink_top)
    } else {
        255
    };
    let hi = top.max(lo as usize + 1) as f32;
    if faint {
        let split = lo;
        lo *= FAINT_SHARE;
        keep_joined(img, split, lo);
    }
    let scale = 255.0 / (hi - lo);
    // One table lookup per pixel: the mapping depends only on the value (and `round` is a
    // library call, measured at a fifth of the whole recipe when done per pixel).
    let table: [u8; 256] =
        std::array::from_fn(|v| ((v as f32 - lo) * scale).clamp(0.0, 255.0).round() as u8);
    for v in img.iter_mut() {
        *v = table[*v as usize];
    }
}

/// How far down [`Reading::Faint`] keeps ink joined to ink above the split: this share of it.
const FAINT_SHARE: f32 = 0.6;

/// Zeroes the pixels of `img` between `low` and `split` that are not joined (8-connected,
/// through pixels above `low`) to a pixel above `split`.
fn keep_joined(img: &mut GrayImage, split: f32, low: f32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    // For whole levels, `v > x` is `v > floor(x)`.
    let joined = one_pen::hysteresis(img.as_raw(), w, h, split as u8, low as u8);
    for (v, joined) in img.iter_mut().zip(joined) {
        if !joined && *v as f32 <= split {
            *v = 0;
        }
    }
}

/// The level below which a photo's flattened page is paper, whatever Otsu splits: the median
/// pixel plus `k` robust deviations. Writing is a small share of a photo, so the median and
/// its deviation are the paper's grain; where the ink is as faint as that grain, Otsu splits
/// the grain itself and the page becomes ink.
fn paper_noise_floor(img: &GrayImage) -> f32 {
    let (paper, grain) = paper_and_grain(&histogram(img));
    paper + PAPER_NOISE_DEVIATIONS * grain
}

/// How much a flattened photo is blurred before its ink is split from the paper: less where
/// the ink stands clear of the paper's grain (see [`CLEAR_INK`]).
fn denoise_sigma(flat: &GrayImage) -> f32 {
    let hist = histogram(flat);
    let (paper, grain) = paper_and_grain(&hist);
    // A page without grain (deviation 0, a drawn test image) is measured against half a
    // level, the finest step a byte image resolves.
    let contrast = (percentile(&hist, 0.995) as f32 - paper) / grain.max(0.5);
    match contrast > CLEAR_INK {
        true => PHOTO_CLEAR_SIGMA,
        false => PHOTO_DENOISE_SIGMA,
    }
}

/// The paper's level (the median pixel) and grain (1.4826 × the median absolute deviation,
/// the standard deviation of normal noise) of a page whose writing is a small share of it.
fn paper_and_grain(hist: &[u64; 256]) -> (f32, f32) {
    let median = percentile(hist, 0.5);
    let mut deviations = [0u64; 256];
    for (v, &n) in hist.iter().enumerate() {
        deviations[v.abs_diff(median)] += n;
    }
    let mad = percentile(&deviations, 0.5) as f32;
    (median as f32, 1.4826 * mad)
}

/// Counts of each pixel value. Four tables, one per lane, so that runs of equal pixels (a
/// photo's paper) do not wait on the increment before: measured at under a third of the time
/// of one table (`bench predict` on a 200² photo).
fn histogram(img: &GrayImage) -> [u64; 256] {
    // u32 counts: a lane overflows only past 16 G pixels, far beyond any decodable image.
    let mut lanes = [[0u32; 256]; 4];
    let mut quads = img.as_raw().chunks_exact(4);
    for q in &mut quads {
        lanes[0][q[0] as usize] += 1;
        lanes[1][q[1] as usize] += 1;
        lanes[2][q[2] as usize] += 1;
        lanes[3][q[3] as usize] += 1;
    }
    for &v in quads.remainder() {
        lanes[0][v as usize] += 1;
    }
    std::array::from_fn(|v| lanes.iter().map(|lane| lane[v] as u64).sum())
}

/// The threshold that maximises between-class variance; pixels `<= t` are background.
pub fn otsu_threshold(hist: &[u64; 256]) -> usize {
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0, mut best, mut best_t) = (0u64, 0f64, -1f64, 0usize);
    for (t, &c) in hist.iter().enumerate() {
        w0 += c;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0 || w1 == 0 {
            continue;
        }
        let m0 = sum0 / w0 as f64;
        let m1 = (sum_all - sum0) / w1 as f64;
        let between = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t;
        }
    }
    best_t
}

fn class_stats(hist: &[u64]) -> (f32, f32) {
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum::<f64>()
        / n as f64;
    let var = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| (i as f64 - mean).powi(2) * c as f64)
        .sum::<f64>()
        / n as f64;
    (mean as f32, var.sqrt() as f32)
}

fn percentile(hist: &[u64; 256], q: f64) -> usize {
    let total: u64 = hist.iter().sum();
    let target = (total as f64 * q).ceil() as u64;
    let mut seen = 0;
    for (v, &c) in hist.iter().enumerate() {
        seen += c;
        if seen >= target {
            return v;
        }
    }
    255
}

/// Bounding box `(x, y, w, h)` of the ink, ignoring faint outliers: rows and columns at the
/// edges holding the last 0.1% of the ink mass at either end are trimmed, so one speck of dust in a photo's
/// corner does not shrink the glyph to a dot.
fn ink_box(img: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = img.dimensions();
    let mut rows = vec![0u64; h as usize];
    let mut cols = vec![0u64; w as usize];
    for (row, line) in rows.iter_mut().zip(img.as_raw().chunks_exact(w as usize)) {
        for (col, &v) in cols.iter_mut().zip(line) {
            *row += v as u64;
            *col += v as u64;
        }
    }
    let (y0, y1) = mass_span(&rows)?;
    let (x0, x1) = mass_span(&cols)?;
    Some((x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

fn mass_span(profile: &[u64]) -> Option<(u32, u32)> {
    let total: u64 = profile.iter().sum();
    if total == 0 {
        return None;
    }
    let cut = total / 1000;
    let first = trim_index(profile.iter(), cut);
    let last = profile.len() - 1 - trim_index(profile.iter().rev(), cut);
    Some((first as u32, last.max(first) as u32))
}

fn trim_index<'a>(values: impl Iterator<Item = &'a u64>, cut: u64) -> usize {
    let mut seen = 0;
    for (i, &v) in values.enumerate() {
        seen += v;
        if v > 0 && seen > cut {
            return i;
        }
    }
    0
}

fn center_of_mass(img: &GrayImage) -> (f32, f32) {
    let (mut sx, mut sy, mut m) = (0f64, 0f64, 0f64);
    for (x, y, Luma([v])) in img.enumerate_pixels() {
        let v = *v as f64;
        sx += (x as f64 + 0.5) * v;
        sy += (y as f64 + 0.5) * v;
        m += v;
    }
    if m == 0.0 {
        let (w, h) = img.dimensions();
        return (w as f32 / 2.0, h as f32 / 2.0);
    }
    ((sx / m) as f32, (sy / m) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark "L" stroke on light, slightly noisy paper, off-centre in a big photo.
    fn photo_of_an_l() -> GrayImage {
        GrayImage::from_fn(400, 300, |x, y| {
            let paper = 200 + ((x * 7 + y * 13) % 11) as u8;
            let stroke = (100..120).contains(&x) && (50..250).contains(&y)
                || (100..220).contains(&x) && (230..250).contains(&y);
            Luma([if stroke { 30 } else { paper }])
        })
    }

    /// The "L" small in a big photo under light that falls off across the page (paper from
    /// 235 at the left to 95 at the right, brighter than the ink everywhere but darker at
    /// the right than the ink-to-paper split of the left half), with noise.
    fn photo_of_an_l_in_uneven_light() -> GrayImage {
        GrayImage::from_fn(600, 400, |x, y| {
            let paper = 235.0 - 140.0 * x as f32 / 600.0 + ((x * 7 + y * 13) % 11) as f32;
            let stroke = (300..306).contains(&x) && (150..250).contains(&y)
                || (300..360).contains(&x) && (244..250).contains(&y);
            Luma([if stroke {
                (paper * 0.25) as u8
            } else {
                paper as u8
            }])
        })
    }

    #[test]
    fn test_time_views_fit_stretch_and_redraw_the_same_ink() {
        let own = Recipe::characters(32);
        let recipe = Recipe {
            views: vec![
                View {
                    fit: 20,
                    pen_scale: 1.0,
                    aspect: 1.0,
                    slant: 0.0,
                },
                View {
                    fit: own.fit,
                    pen_scale: 1.6,
                    aspect: 1.0,
                    slant: 0.0,
                },
                View {
                    fit: own.fit,
                    pen_scale: 1.0,
                    aspect: 2.0,
                    slant: 0.0,
                },
            ],
            ..own.clone()
        };
        let photo = photo_of_an_l();
        let views = recipe.prepare_views(&photo);
        assert_eq!(views.len(), 4);
        // The recipe's own view first, as training prepares it.
        assert_eq!(views[0], own.prepare(&photo));
        assert_eq!(recipe.prepare(&photo), views[0]);
        let ink = |img: &GrayImage| img.pixels().filter(|p| p.0[0] > 127).count();
        let (_, _, _, h_own) = ink_box(&views[0]).unwrap();
        let (_, _, _, h_small) = ink_box(&views[1]).unwrap();
        assert!(
            h_small + 5 < h_own,
            "fit 20 drew {h_small} px tall, fit 28 {h_own}"
        );
        assert!(
            ink(&views[2]) > ink(&views[0]),
            "the wider pen draws more ink"
        );
        // The L is taller than wide; stretched twice as wide it fills more of the width.
        let (_, _, w_own, _) = ink_box(&views[0]).unwrap();
        let (_, _, w_wide, h_wide) = ink_box(&views[3]).unwrap();
        assert!(w_wide > w_own + 4, "width {w_own} -> {w_wide}");
        assert!(h_wide <= h_own, "height {h_own} -> {h_wide}");
        // Without ink every view is blank.
        let blank = GrayImage::from_pixel(40, 40, Luma([255]));
        assert!(recipe
            .prepare_views(&blank)
            .iter()
            .all(|v| v.pixels().all(|p| p.0[0] == 0)));
    }

    #[test]
    fn photo_readings_come_inside_each_view_and_a_clean_image_reads_one_way() {
        let views = Recipe {
            views: vec![View {
                fit: 20,
                pen_scale: 1.0,
                aspect: 1.0,
                slant: 0.0,
            }],
            ..Recipe::characters(32)
        };
        let read = Recipe {
            readings: Reading::ALL.to_vec(),
            ..views.clone()
        };
        assert_eq!(read.inputs_per_image(), 2 * 4);
        let photo = photo_of_an_l_in_uneven_light();
        let inputs = read.prepare_views(&photo);
        assert_eq!(inputs.len(), 8);
        // Input v·4 + r: view v of reading r; reading 0 is the recipe's own.
        let own = views.prepare_views(&photo);
        assert_eq!((&inputs[0], &inputs[4]), (&own[0], &own[1]));
        assert_eq!(inputs[0], read.prepare(&photo));
        for (i, input) in inputs.iter().enumerate() {
            let (_, _, w, h) = ink_box(input).expect("every reading finds the L");
            assert!(h > w, "input {i}: the L is taller than wide ({w}×{h})");
        }
        // A clean image (black paper) has no light or grain to read another way.
        let clean = GrayImage::from_fn(28, 28, |x, y| {
            Luma([if (10..14).contains(&x) && (4..24).contains(&y) {
                255
            } else {
                0
            }])
        });
        let inputs = read.prepare_views(&clean);
        assert!(inputs[..4].iter().all(|i| *i == inputs[0]));
        assert!(inputs[4..].iter().all(|i| *i == inputs[4]));
        assert_ne!(inputs[0], inputs[4]);
    }

    #[test]
    fn the_even_light_reading_keeps_a_shadowed_strokes_contrast() {
        // A bar 200 px long across the page; the right half of the page in a shadow (a third
        // of the light), where the bar keeps a third of its contrast.
        let photo = GrayImage::from_fn(240, 160, |x, y| {
            let light = if x < 120 { 1.0 } else { 0.35 };
            let ink = (20..220).contains(&x) && (76..84).contains(&y);
            let reflected = if ink { 60.0 } else { 220.0 } + ((x * 7 + y * 13) % 5) as f32;
            Luma([(reflected * light) as u8])
        });
        let bar = |reading: Option<Reading>| {
            let recipe = Recipe::mnist();
            let mut ink = recipe.bright_ink(&photo);
            let even_light = reading == Some(Reading::EvenLight);
            assert!(paper::flatten_background(&mut ink, even_light));
            let glyph = recipe.split_ink(ink, true, reading).expect("the bar");
            let (w, h) = glyph.dimensions();
            let glyph = &glyph;
            let mean = |xs: std::ops::Range<u32>| {
                let n = xs.len() as f32 * h as f32;
                let sum: f32 = xs
                    .flat_map(|x| (0..h).map(move |y| glyph.get_pixel(x, y).0[0] as f32))
                    .sum();
                sum / n
            };
            (w, mean(w / 2 + 10..w - 5) / mean(5..w / 2 - 10))
        };
        let (own_length, _) = bar(None);
        assert!(
            own_length < 120,
            "as it is, the shadowed half is too faint to keep: {own_length} px"
        );
        let (even_length, balance) = bar(Some(Reading::EvenLight));
        assert!(even_length > 190, "divided by the light: {even_length} px");
        assert!(balance > 0.85, "both halves nearly as bright: {balance}");
    }

    #[test]
    fn the_faint_reading_keeps_more_of_a_stroke_near_the_split() {
        let photo = noisy_photo_of_a_faint_bar();
        let ink_pixels = |reading: Option<Reading>| {
            let recipe = Recipe::mnist();
            let mut ink = recipe.bright_ink(&photo);
            assert!(paper::flatten_background(&mut ink, false));
            let glyph = recipe.split_ink(ink, true, reading).expect("the bar");
            glyph.pixels().filter(|p| p.0[0] > 0).count()
        };
        let (own, faint) = (ink_pixels(None), ink_pixels(Some(Reading::Faint)));
        assert!(faint > own, "{faint} ink pixels faint against {own}");
    }

    #[test]
    fn a_slant_leans_a_vertical_bar_by_its_height() {
        // A bar 2 px wide and 21 px tall at x = 3..5.
        let bar = GrayImage::from_fn(8, 21, |x, _| {
            Luma([if (3..5).contains(&x) { 200 } else { 0 }])
        });
        let centre = |img: &GrayImage, y: u32| {
            let (mass, moment) = (0..img.width()).fold((0.0, 0.0), |(m, mx), x| {
                let v = img.get_pixel(x, y).0[0] as f32;
                (m + v, mx + v * x as f32)
            });
            moment / mass
        };
        assert_eq!(slant(bar.clone(), 0.0), bar);
        let right = slant(bar.clone(), 0.25);
        assert_eq!(
            right.dimensions(),
            (13, 21),
            "widened by what the top row moved"
        );
        assert!((centre(&right, 0) - centre(&right, 20) - 5.0).abs() < 0.01);
        assert!(
            (centre(&right, 20) - 3.5).abs() < 0.01,
            "the bottom row stays"
        );
        let left = slant(bar.clone(), -0.25);
        assert_eq!(left.dimensions(), (13, 21));
        assert!((centre(&left, 20) - centre(&left, 0) - 5.0).abs() < 0.01);
        assert!(
            (centre(&left, 0) - 3.5).abs() < 0.01,
            "the top row stays left"
        );
        // Ink is moved, not made or lost (within rounding).
        let total = |img: &GrayImage| img.pixels().map(|p| p.0[0] as u32).sum::<u32>();
        assert!(total(&right).abs_diff(total(&bar)) <= 21 * 2);
    }

    #[test]
    fn uneven_light_is_flattened_before_the_crop() {
        let r = Recipe::mnist();
        let clean = r.prepare(&photo_of_an_l());
        let out = r.prepare(&photo_of_an_l_in_uneven_light());
        let (_, _, w, h) = ink_box(&out).unwrap();
        assert_eq!(h, 20, "the L, not the dark side of the page, fills the box");
        assert!((5..=14).contains(&w), "width {w}");
        let differ = clean
            .pixels()
            .zip(out.pixels())
            .filter(|(a, b)| (a.0[0] > 127) != (b.0[0] > 127))
            .count();
        assert!(
            differ < 60,
            "{differ} of 784 pixels differ from the even-light photo"
        );
    }

    /// A fat-marker "L" photographed close up (strokes a sixth of the photo wide, wider than
    /// the paper model's window) in light falling off across the page, with a shadow over the
    /// top right corner.
    fn close_up_of_a_fat_l(shadow: bool) -> GrayImage {
        GrayImage::from_fn(240, 240, |x, y| {
            let mut paper = 225.0 - 60.0 * x as f32 / 240.0 + ((x * 7 + y * 13) % 9) as f32;
            if shadow && x as f32 > 120.0 + 0.8 * y as f32 {
                paper *= 0.6;
            }
            let stroke = (60..100).contains(&x) && (30..210).contains(&y)
                || (60..190).contains(&x) && (170..210).contains(&y);
            Luma([if stroke {
                (paper * 0.2) as u8
            } else {
                paper as u8
            }])
        })
    }

    #[test]
    fn a_fat_stroke_close_up_is_not_taken_for_paper_even_in_a_shadow() {
        let r = Recipe::mnist();
        for shadow in [false, true] {
            let out = r.prepare(&close_up_of_a_fat_l(shadow));
            let (_, _, w, h) = ink_box(&out).unwrap();
            // 130 × 180 with strokes 40 wide: 20 tall, 14 wide, about 130 pixels of ink. In
            // the shadow a speck left along the shadow's edge may join the writing and take
            // up to two pixels of the box.
            let (shortest, widest) = if shadow { (18, 18) } else { (20, 16) };
            assert!((shortest..=20).contains(&h), "shadow {shadow}: height {h}");
            assert!((13..=widest).contains(&w), "shadow {shadow}: width {w}");
            let ink = out.pixels().filter(|p| p.0[0] > 127).count();
            assert!(
                (100..=170).contains(&ink),
                "shadow {shadow}: {ink} ink pixels"
            );
        }
    }

    /// A faint thin bar (a pencil line, 40 levels over the paper) across a photo under a
    /// light gradient with strong sensor noise.
    fn noisy_photo_of_a_faint_bar() -> GrayImage {
        let mut state = 12345u32;
        GrayImage::from_fn(200, 200, |x, y| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = ((state >> 16) % 33) as f32 - 16.0;
            let paper = 210.0 - 50.0 * y as f32 / 200.0;
            let bar = (40..160).contains(&x) && (99..102).contains(&y);
            let level = if bar { paper - 40.0 } else { paper } + noise;
            Luma([level.clamp(0.0, 255.0) as u8])
        })
    }

    #[test]
    fn clear_ink_is_blurred_less_than_ink_as_faint_as_the_paper_s_grain() {
        let flattened = |photo: GrayImage| {
            let mut ink = photo;
            imageops::invert(&mut ink);
            assert!(paper::flatten_background(&mut ink, false), "a photo");
            ink
        };
        let clear = flattened(photo_of_an_l());
        let faint = flattened(noisy_photo_of_a_faint_bar());
        assert_eq!(denoise_sigma(&clear), PHOTO_CLEAR_SIGMA);
        assert_eq!(denoise_sigma(&faint), PHOTO_DENOISE_SIGMA);
    }

    #[test]
    fn a_faint_stroke_in_a_noisy_photo_stays_in_one_piece() {
        let out = Recipe::mnist().prepare(&noisy_photo_of_a_faint_bar());
        let (x, y, w, h) = ink_box(&out).unwrap();
        assert_eq!(w, 20, "the bar fills the box");
        assert!(h <= 4, "a bar, not noise: {w}×{h}");
        let row = (y..y + h)
            .max_by_key(|&r| {
                (x..x + w)
                    .filter(|&c| out.get_pixel(c, r).0[0] > 64)
                    .count()
            })
            .unwrap();
        let gaps = (x..x + w)
            .filter(|&c| out.get_pixel(c, row).0[0] <= 64)
            .count();
        assert_eq!(gaps, 0, "no breaks along the bar");
    }

    #[test]
    fn photo_becomes_bright_centred_glyph_of_fit_size() {
        let r = Recipe::mnist();
        let out = r.prepare(&photo_of_an_l());
        assert_eq!(out.dimensions(), (28, 28));
        let (x, y, w, h) = ink_box(&out).unwrap();
        assert_eq!(h, 20, "taller side fits 20 px");
        assert!((11..=13).contains(&w), "aspect 120:200 kept, got width {w}");
        assert!(x > 0 && y > 0 && x + w < 28 && y + h < 28);
        assert_eq!(out.get_pixel(0, 0).0[0], 0, "paper texture removed");
        assert!(
            out.pixels().map(|p| p.0[0]).max().unwrap() > 240,
            "ink stretched to full range"
        );
        let (cx, cy) = center_of_mass(&out);
        assert!(
            (cx - 14.0).abs() < 1.0 && (cy - 14.0).abs() < 1.0,
            "com at ({cx}, {cy})"
        );
    }

    #[test]
    fn a_dim_gray_page_is_still_paper_under_dark_ink() {
        // The photo of the L at under half the light: its border is far below mid-gray.
        let mut dim = photo_of_an_l();
        for v in dim.iter_mut() {
            *v = (*v as f32 * 0.45) as u8;
        }
        assert!(border_mean(&dim) < 127.0);
        let r = Recipe::mnist();
        let (_, _, w, h) = ink_box(&r.prepare(&dim)).unwrap();
        assert_eq!(h, 20, "the L fills the box");
        assert!((11..=13).contains(&w), "the L's aspect, got width {w}");
    }

    #[test]
    fn a_photo_s_fainter_strokes_still_reach_full_ink() {
        // An "E": a black spine and three arms the camera left a lighter gray, as it leaves a
        // thinner pen line. The arms must come out as bright as the spine, the way every
        // stroke of a training digit is.
        let photo = GrayImage::from_fn(200, 200, |x, y| {
            let spine = (60..68).contains(&x) && (40..160).contains(&y);
            let arm =
                (68..142).contains(&x) && [40, 96, 152].iter().any(|&a| (a..a + 8).contains(&y));
            Luma([if spine {
                20
            } else if arm {
                60
            } else {
                210
            }])
        });
        let prepared = Recipe::mnist().prepare(&photo);
        let (x, _, w, _) = ink_box(&prepared).unwrap();
        // Right of the spine (the box's left quarter): the arms.
        let arm_peak = prepared
            .enumerate_pixels()
            .filter(|(px, _, _)| *px > x + w / 4)
            .map(|(_, _, v)| v.0[0])
            .max()
            .unwrap();
        // Resizing to 28² averages each arm with the paper beside it, so not quite 255; the
        // whole-ink stretch of a clean image leaves them at 161.
        assert!(arm_peak >= 200, "the arms peak at {arm_peak}");
    }

    #[test]
    fn faint_pencil_on_grainy_paper_is_the_ink_not_the_grain() {
        // A thin plus in pencil darker than the page by less than the grain's spread, on gray paper
        // lit from one side: the page must not come out as ink.
        let mut state = 1u32;
        let mut grain = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as i32 % 17 - 8
        };
        let photo = GrayImage::from_fn(240, 240, |x, y| {
            let plus = ((90..150).contains(&x) && (119..122).contains(&y))
                || ((119..122).contains(&x) && (90..150).contains(&y));
            let paper = 150 + x as i32 / 4 + grain();
            Luma([(paper - if plus { 15 } else { 0 }).clamp(0, 255) as u8])
        });
        let prepared = Recipe::characters(32).prepare(&photo);
        let inked = prepared.pixels().filter(|p| p.0[0] > 127).count();
        // The plus redrawn with the training pen covers about a sixth of the input; the
        // grain taken for ink fills most of it.
        assert!((40..300).contains(&inked), "{inked} of 1 024 pixels inked");
    }

    #[test]
    fn polarity_does_not_change_the_result() {
        let dark_ink = photo_of_an_l();
        let mut bright_ink = dark_ink.clone();
        imageops::invert(&mut bright_ink);
        let r = Recipe::mnist();
        assert_eq!(r.prepare(&dark_ink), r.prepare(&bright_ink));
    }

    #[test]
    fn clean_mnist_digits_are_nearly_unchanged() {
        // MNIST was made by this very construction, so the recipe may only move a digit by
        // the rounding of its centre of mass (≤ 1 px) and slightly rescale its gray levels.
        let test = crate::embedded::load(crate::sample::Split::Test);
        for sample in test.samples.iter().take(50) {
            let digit = &sample.image;
            let out = Recipe::mnist().prepare(digit);
            let ink: i64 = digit.as_raw().iter().map(|&v| v as i64).sum();
            let best = (-1i64..=1)
                .flat_map(|dy| (-1i64..=1).map(move |dx| (dx, dy)))
                .map(|(dx, dy)| shifted_l1(digit, &out, dx, dy))
                .min()
                .unwrap();
            assert!(
                best * 5 < ink,
                "recipe moved {best} of {ink} ink on an MNIST digit"
            );
        }
    }

    fn shifted_l1(a: &GrayImage, b: &GrayImage, dx: i64, dy: i64) -> i64 {
        let at = |img: &GrayImage, x: i64, y: i64| {
            if (0..28).contains(&x) && (0..28).contains(&y) {
                img.get_pixel(x as u32, y as u32).0[0] as i64
            } else {
                0
            }
        };
        (0..28)
            .flat_map(|y| (0..28).map(move |x| (x, y)))
            .map(|(x, y)| (at(a, x, y) - at(b, x + dx, y + dy)).abs())
            .sum()
    }

    #[test]
    fn blank_and_tiny_images_do_not_panic() {
        let r = Recipe::mnist();
        assert_eq!(r.prepare(&GrayImage::new(1, 1)), GrayImage::new(28, 28));
        assert_eq!(
            r.prepare(&GrayImage::from_pixel(50, 50, Luma([255]))),
            GrayImage::new(28, 28)
        );
        let dot = GrayImage::from_pixel(1, 1, Luma([255]));
        assert_eq!(r.prepare(&dot).dimensions(), (28, 28));
    }

    #[test]
    fn gray_normalisation_sends_the_ink_mean_to_the_target() {
        // Faint ink (a light pencil) and heavy ink end up at the same mean gray.
        let glyph = |ink: u8| {
            GrayImage::from_fn(64, 64, |x, y| {
                Luma([if (20..44).contains(&x) && (10..54).contains(&y) {
                    ink - (x % 5) as u8 * 3
                } else {
                    0
                }])
            })
        };
        let norm = GrayNorm {
            ink_mean: 200,
            blur_sigma: 0.0,
        };
        for ink in [90u8, 160, 250] {
            let out = norm.apply(glyph(ink));
            let inked: Vec<f64> = out
                .as_raw()
                .iter()
                .filter(|&&v| v > 25)
                .map(|&v| v as f64)
                .collect();
            let mean = inked.iter().sum::<f64>() / inked.len() as f64;
            assert!((mean - 200.0).abs() < 6.0, "ink {ink} → mean {mean}");
            assert_eq!(out.get_pixel(0, 0).0[0], 0, "background stays black");
        }
        let blurred = GrayNorm::default().apply(glyph(200));
        assert!(blurred.get_pixel(19, 30).0[0] > 0, "blur softens the edge");
    }

    #[test]
    fn character_recipe_fills_its_box_and_centres_it() {
        let r = Recipe::characters(64);
        let out = r.prepare(&photo_of_an_l());
        assert_eq!(out.dimensions(), (64, 64));
        let (x, y, w, h) = ink_box(&out).unwrap();
        assert!((56..=58).contains(&h), "height {h}");
        assert!((x + w / 2).abs_diff(32) <= 1 && (y + h / 2).abs_diff(32) <= 1);
        let old: Recipe = serde_json::from_str(
            r#"{"input_size":28,"fit":20,"polarity":"auto","centering":"center-of-mass","mean":0.1307,"std":0.3081}"#,
        )
        .unwrap();
        assert_eq!(
            old,
            Recipe::mnist(),
            "recipes saved before gray existed still load"
        );
    }

    #[test]
    fn inputs_are_normalised_with_mean_and_std() {
        let r = Recipe::mnist();
        let img = GrayImage::from_raw(2, 1, vec![0, 255]).unwrap();
        let mut v = Vec::new();
        r.append_input(&img, &mut v);
        assert!((v[0] - (-0.1307 / 0.3081)).abs() < 1e-5);
        assert!((v[1] - (0.8693 / 0.3081)).abs() < 1e-5);
    }
}
