//! Synthetic handwriting: a Chinese character's stroke medians (from `hanzi-writer-data`,
//! embedded) written by a random hand (wobble, displaced strokes, hooks, affine, elastic
//! warp, pen width and ink), or, for a share of samples and for symbols without strokes such
//! as digits, a glyph from a Kai font put through the same warp. Dark ink on white, like the
//! CASIA scans, so it goes through the same recipe.
//!
//! ```no_run
//! use inkstone_data::synth::{SynthStyle, Synthesizer};
//! use rand::SeedableRng;
//! let synth = Synthesizer::embedded(SynthStyle::default());
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let image = synth.render("永", &mut rng, 64).unwrap();
//! ```

pub mod font;
pub mod hand;
pub mod library;
pub mod pen;
pub mod set;
pub mod style;
pub mod warp;

pub use library::StrokeLibrary;
pub use set::SynthSet;
pub use style::{StyleError, SynthStyle};

use crate::{Charset, DataError};
use ab_glyph::FontArc;
use image::{GrayImage, Luma};
use library::single_char;
use pen::{PenPoint, PenStroke};
use rand::Rng;
use std::path::Path;
use std::sync::Arc;
use warp::uniform;

/// Writes characters: strokes from `library`, variation from `style`, glyphs from `fonts`.
#[derive(Clone, Debug)]
pub struct Synthesizer {
    pub library: Arc<StrokeLibrary>,
    pub style: SynthStyle,
    /// One entry per font family (one `--font` argument): its files, e.g. a family's weights,
    /// or the subset files a web font is split into.
    pub fonts: Vec<Vec<FontArc>>,
}

/// Pen points are at most this many pixels apart, so bends look smooth.
const SPACING_PX: f32 = 1.5;
/// The thinnest pen drawn, in pixels: thinner lines vanish at small sides.
const MIN_RADIUS_PX: f32 = 0.6;

impl Synthesizer {
    /// The embedded stroke library, no fonts.
    pub fn embedded(style: SynthStyle) -> Self {
        Self::new(StrokeLibrary::embedded_shared(), style)
    }

    /// Strokes from `library`, no fonts. Check a user's style with [`SynthStyle::validate`]
    /// first: `render` never panics, but a nonsense style draws nonsense.
    pub fn new(library: Arc<StrokeLibrary>, style: SynthStyle) -> Self {
        Synthesizer {
            library,
            style,
            fonts: Vec::new(),
        }
    }

    /// Adds font families (e.g. a Kai font) for `style.font_fraction` of the samples and for
    /// symbols the library lacks: each path is one family, a font file or a folder of them
    /// ([`font::files`]). A sample draws a family first, then one of its files that has the
    /// character, so a family split into many files, or shipped in six weights, is as likely
    /// as a single-file one: each family is one more writer, whatever its packaging.
    pub fn with_fonts<P: AsRef<Path>>(
        mut self,
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, DataError> {
        for path in paths {
            let files = font::files(path.as_ref())?;
            let family = files
                .iter()
                .map(|file| font::load(file))
                .collect::<Result<Vec<_>, _>>()?;
            self.fonts.push(family);
        }
        Ok(self)
    }

    /// Whether [`Synthesizer::render`] can draw `symbol`.
    pub fn can_render(&self, symbol: &str) -> bool {
        single_char(symbol).is_some_and(|c| {
            self.library.get(c).is_some() || self.families_with(c).next().is_some()
        })
    }

    /// The charset's symbols that neither the library nor a font can draw, in charset order.
    pub fn missing(&self, charset: &Charset) -> Vec<String> {
        charset
            .symbols
            .iter()
            .filter(|s| !self.can_render(s))
            .cloned()
            .collect()
    }

    /// A fresh `side`² image of `symbol`, written with random variation drawn from `rng` (the
    /// same seed gives the same image). `None` when neither the library nor a font has it.
    pub fn render(&self, symbol: &str, rng: &mut impl Rng, side: u32) -> Option<GrayImage> {
        self.render_as(&self.style, symbol, rng, side)
    }

    /// [`Synthesizer::render`] by one writer: `writer` is usually
    /// [`SynthStyle::writer`] of this synthesiser's style, drawn once for a run of characters.
    pub fn render_as(
        &self,
        writer: &SynthStyle,
        symbol: &str,
        rng: &mut impl Rng,
        side: u32,
    ) -> Option<GrayImage> {
        let c = single_char(symbol)?;
        let medians = self.library.get(c);
        // Found once per sample: each family's files are searched for `c` (up to a few hundred
        // subset files), so neither the choice nor the pick scans them again.
        let families: Vec<&[FontArc]> = self.families_with(c).collect();
        let use_font = !families.is_empty()
            && (medians.is_none() || rng.random::<f32>() < writer.font_fraction);
        if use_font {
            let font = pick_font(&families, c, rng);
            font::render(font, c, writer, rng, side)
        } else {
            Some(write(writer, medians?, rng, side))
        }
    }

    /// The families with a glyph for `c`.
    fn families_with(&self, c: char) -> impl Iterator<Item = &[FontArc]> + '_ {
        self.fonts
            .iter()
            .map(Vec::as_slice)
            .filter(move |family| family.iter().any(|f| font::has(f, c)))
    }
}

/// A font for `c` from `families` (each has it; at least one): a family uniformly, then one
/// of its files that has `c`.
fn pick_font<'a>(families: &[&'a [FontArc]], c: char, rng: &mut impl Rng) -> &'a FontArc {
    let family = families[rng.random_range(0..families.len())];
    let files: Vec<&FontArc> = family.iter().filter(|f| font::has(f, c)).collect();
    files[rng.random_range(0..files.len())]
}

/// Writes medians in `style` and places the result at a random spot inside the image,
/// shrinking it if the warp made it too big to fit with its pen.
fn write(
    style: &SynthStyle,
    medians: &[Vec<[f32; 2]>],
    rng: &mut impl Rng,
    side: u32,
) -> GrayImage {
    let size = side as f32;
    let wanted = size * uniform(rng, style.size);
    let pen = uniform(rng, style.pen);
    let written = hand::write(medians, style, rng, SPACING_PX / wanted.max(1.0));

    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in written.iter().flat_map(|s| &s.points) {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let heaviest = written
        .iter()
        .flat_map(|s| &s.weight)
        .fold(0.0f32, |m, &w| m.max(w));
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(0.0);
    // Box side in pixels such that extent·box + 2·(pen·box·heaviest + 1) ≤ side.
    let fit = (size - 2.0 - 2.0 * MIN_RADIUS_PX) / (extent + 2.0 * pen * heaviest);
    let box_px = wanted.min(fit).max(0.0);
    let margin = (pen * box_px * heaviest).max(MIN_RADIUS_PX) + 1.0;
    let mut start = [0.0; 2];
    for a in 0..2 {
        let slack = (size - 2.0 * margin - (hi[a] - lo[a]) * box_px).max(0.0);
        start[a] = margin + uniform(rng, [0.0, slack]);
    }
    let strokes: Vec<PenStroke> = written
        .iter()
        .map(|s| PenStroke {
            points: s
                .points
                .iter()
                .zip(&s.weight)
                .map(|(p, w)| PenPoint {
                    x: (p[0] - lo[0]) * box_px + start[0],
                    y: (p[1] - lo[1]) * box_px + start[1],
                    radius: (pen * box_px * w).max(MIN_RADIUS_PX),
                })
                .collect(),
            ink: s.ink,
        })
        .collect();
    let mut image = GrayImage::from_pixel(side, side, Luma([255]));
    pen::draw(&mut image, &strokes);
    image
}

#[cfg(test)]
mod tests;
