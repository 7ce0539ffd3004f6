//! Synthetic samples by index, drawn on demand: the source behind `data synth` files and
//! behind `--data synth:<charset>`, which writes fresh samples for every epoch in the loader
//! threads, so a run is bounded by the training step rather than by a file.
//!
//! Sample `i` is class `i mod classes` written by writer `i / classes`: like a real
//! collection, each writer writes every class once, with one slant, pen, speed and way of
//! joining strokes ([`SynthStyle::writer`]).

use super::{SynthStyle, Synthesizer};
use crate::packed::{PackedSet, PreparedSet};
use crate::photo::Shot;
use crate::{Charset, DataError, Dataset, Recipe, Sample};
use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Writers per class and epoch, and raw side, when a run does not say.
pub const DEFAULT_PER_CLASS: usize = 32;
pub const DEFAULT_RAW_SIDE: u32 = 96;
/// The draw of [`SynthSet::held_out`]: no epoch seed is ever this.
const HELD_OUT_DRAW: u64 = u64::MAX;
/// Mixed into a sample's seed for its photo's stream.
const PHOTO_STREAM: u64 = 0x5DEE_CE66_D1CE_4E5B;

/// How a `synth:<charset>` training source writes, as a run's config records it. In JSON
/// every field is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    /// Writers per class and epoch: an epoch is `classes × per_class` fresh samples.
    pub per_class: usize,
    /// Font files or folders of them, mixed in for `style.font_fraction` of the samples.
    pub fonts: Vec<String>,
    pub style: SynthStyle,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            per_class: DEFAULT_PER_CLASS,
            fonts: Vec::new(),
            style: SynthStyle::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct SynthSet {
    pub synth: Synthesizer,
    pub charset: Charset,
    pub recipe: Recipe,
    /// Writers per epoch (samples per class).
    pub per_class: usize,
    pub seed: u64,
    /// Side of the raw rendering, before the recipe crops and resizes it.
    pub raw_side: u32,
}

impl SynthSet {
    /// Samples `per_class` writers per class of `charset` (at least one), seeded by `seed`.
    pub fn new(
        synth: Synthesizer,
        charset: Charset,
        recipe: Recipe,
        per_class: usize,
        seed: u64,
    ) -> Self {
        SynthSet {
            synth,
            charset,
            recipe,
            per_class: per_class.max(1),
            seed,
            raw_side: DEFAULT_RAW_SIDE,
        }
    }

    /// What the synthesiser cannot write ("1 of 2 symbols of latin have no strokes or font
    /// glyph (e.g. A)"), or `None` when it can write every class.
    pub fn missing_message(&self) -> Option<String> {
        let missing = self.synth.missing(&self.charset);
        (!missing.is_empty()).then(|| {
            format!(
                "{} of {} symbols of {} have no strokes or font glyph (e.g. {})",
                missing.len(),
                self.charset.len(),
                self.charset.name,
                missing
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
    }

    /// Checks that the synthesiser can write every class; the error names the source (`name`)
    /// and the first missing symbols.
    pub fn check_complete(&self, name: &str) -> Result<(), DataError> {
        match self.missing_message() {
            None => Ok(()),
            Some(message) => Err(DataError::invalid(
                Path::new(name),
                format!("{message}; add a --font that has them"),
            )),
        }
    }

    /// A fixed test set of `per_class` writers that no training epoch draws, prepared.
    pub fn held_out(&self, per_class: usize, name: &str) -> PackedSet {
        let classes = self.charset.len();
        let count = classes * per_class;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = count.div_ceil(threads).max(1);
        let indices: Vec<usize> = (0..count).collect();
        let samples: Vec<Sample> = std::thread::scope(|scope| {
            let workers: Vec<_> = indices
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .filter_map(|&i| {
                                let image = self.raw(i, HELD_OUT_DRAW)?;
                                Some(Sample {
                                    image,
                                    label: PreparedSet::label(self, i),
                                })
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("synthesis thread panicked"))
                .collect()
        });
        let dataset = Dataset {
            name: name.to_string(),
            charset: self.charset.clone(),
            samples,
        };
        PackedSet::prepare(&dataset, &self.recipe, name)
    }

    /// The raw rendering (dark ink on white, or for the style's `photo_fraction` of the
    /// samples a photo of it as `predict` would read it) of sample `index` in the draw seeded
    /// by `draw` (an epoch's seed; files use 0). `None` for a class the synthesiser cannot
    /// write.
    pub fn raw(&self, index: usize, draw: u64) -> Option<GrayImage> {
        let classes = self.charset.len().max(1);
        let (class, writer) = (index % classes, (index / classes) as u64);
        let writer_seed = self.seed
            ^ draw.wrapping_mul(0xA24B_AED4_963E_E407)
            ^ writer.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        let style: SynthStyle = self
            .synth
            .style
            .writer(&mut StdRng::seed_from_u64(writer_seed));
        let sample_seed = writer_seed ^ (class as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(sample_seed);
        let ink =
            self.synth
                .render_as(&style, self.charset.symbol(class), &mut rng, self.raw_side)?;
        Some(self.maybe_photographed(ink, sample_seed))
    }

    /// `ink` photographed for the style's `photo_fraction` of the samples, else as it is. The
    /// photo draws from its own stream, seeded by the sample's, so every clean sample stays
    /// what it was without photos and a resumed run draws the same photos.
    fn maybe_photographed(&self, ink: GrayImage, sample_seed: u64) -> GrayImage {
        let fraction = self.synth.style.photo_fraction;
        if fraction <= 0.0 {
            return ink;
        }
        let mut rng = StdRng::seed_from_u64(sample_seed ^ PHOTO_STREAM);
        if rng.random::<f32>() >= fraction {
            return ink;
        }
        Shot::take(&ink, &mut rng).gray()
    }
}

impl PreparedSet for SynthSet {
    fn len(&self) -> usize {
        self.charset.len() * self.per_class
    }

    fn side(&self) -> u32 {
        self.recipe.input_size
    }

    fn label(&self, index: usize) -> u32 {
        (index % self.charset.len().max(1)) as u32
    }

    fn prepared(&self, index: usize, epoch_seed: u64) -> GrayImage {
        match self.raw(index, epoch_seed) {
            Some(raw) => self.recipe.prepare(&raw),
            None => GrayImage::new(self.recipe.input_size, self.recipe.input_size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> SynthSet {
        let charset = Charset::new("three", vec!["永".into(), "国".into(), "一".into()]);
        let synth = Synthesizer::embedded(SynthStyle::default());
        SynthSet::new(synth, charset, Recipe::characters(32), 4, 7)
    }

    #[test]
    fn samples_are_fixed_per_epoch_and_fresh_across_epochs() {
        let set = set();
        assert_eq!(set.len(), 12);
        assert_eq!((set.label(0), set.label(4), set.label(11)), (0, 1, 2));
        assert_eq!(set.prepared(5, 1), set.prepared(5, 1));
        assert_ne!(set.prepared(5, 1), set.prepared(5, 2));
        assert_eq!(set.prepared(5, 1).dimensions(), (32, 32));
    }

    #[test]
    fn the_held_out_writers_are_not_an_epochs() {
        let set = set();
        let test = set.held_out(2, "synth:three");
        assert_eq!(test.len(), 6);
        assert_eq!(test.label(4), 1);
        for epoch in [0, 1, 2] {
            assert_ne!(test.image(4), set.prepared(4, epoch));
        }
    }

    #[test]
    fn a_photo_fraction_photographs_that_share_and_leaves_the_rest_as_they_were() {
        let clean = set();
        let mut photos = set();
        photos.synth.style.photo_fraction = 0.5;
        photos.per_class = 40;
        let mut taken = 0;
        for i in 0..photos.len() {
            let shot = photos.raw(i, 3).unwrap();
            // A clean rendering is the raw side on white paper; a photo is framed wider or
            // narrower, on paper that is never quite white after the camera's noise.
            let is_photo = shot.dimensions() != (clean.raw_side, clean.raw_side)
                || shot.get_pixel(0, 0).0[0] < 250;
            if is_photo {
                taken += 1;
                assert_eq!(
                    shot,
                    photos.raw(i, 3).unwrap(),
                    "sample {i}: the same photo"
                );
            } else {
                assert_eq!(
                    shot,
                    clean.raw(i, 3).unwrap(),
                    "sample {i}: as without photos"
                );
            }
        }
        assert!((42..78).contains(&taken), "{taken} of 120 photographed");
    }

    #[test]
    fn a_class_nobody_can_write_is_refused_by_name() {
        let charset = Charset::new("odd", vec!["永".into(), "☃".into()]);
        let synth = Synthesizer::embedded(SynthStyle::default());
        let err = SynthSet::new(synth, charset, Recipe::characters(32), 4, 7)
            .check_complete("synth:odd")
            .unwrap_err()
            .to_string();
        assert!(err.contains("synth:odd") && err.contains('☃'), "{err}");
    }
}
