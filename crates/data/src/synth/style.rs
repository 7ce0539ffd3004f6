//! How much a synthetic writer varies: every knob is a range sampled per image or per stroke.

use serde::{Deserialize, Serialize};

/// A closed range `[low, high]`, sampled uniformly. A reversed range is sampled all the same.
pub type Span = [f32; 2];

/// The writer's variation. Lengths are fractions of the character's box (its 1024 units, as
/// drawn on the page), angles are radians. `Default` looks like careful pen handwriting;
/// `SynthStyle::none()` writes the medians exactly.
///
/// In JSON every field is optional: `{"font_fraction": 0.3, "rotation": 0.2}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthStyle {
    /// The character box's side as a fraction of the image side.
    pub size: Span,
    /// Pen radius, per image.
    pub pen: Span,
    /// Pen radius change along a stroke (pressure), as a fraction of the radius.
    pub pressure: f32,
    /// Amplitude of the smooth wobble along each stroke.
    pub jitter: Span,
    /// Largest shift of a whole stroke, each axis.
    pub stroke_shift: f32,
    /// Largest rotation of a whole stroke about its middle.
    pub stroke_rotation: f32,
    /// Largest relative change of a stroke's length (scaled about its middle).
    pub stroke_scale: f32,
    /// Chance that a stroke ends in a flick towards the next stroke, as a lifting pen leaves.
    pub hook_chance: f32,
    /// Length of such a flick.
    pub hook_length: Span,
    /// Largest rotation of the whole character.
    pub rotation: f32,
    /// Horizontal and vertical scale of the whole character.
    pub scale_x: Span,
    pub scale_y: Span,
    /// Largest horizontal shear (x += shear · y).
    pub shear: f32,
    /// Amplitude of the smooth random displacement field over the whole character.
    pub elastic: Span,
    /// Wavelength of that field's waves.
    pub elastic_wavelength: Span,
    /// Gray level of the ink, per image (0 black, 255 the paper).
    pub ink: Span,
    /// Largest change of the ink's gray level from one stroke to the next.
    pub ink_variation: f32,
    /// Share of samples drawn from a font instead of strokes, when fonts are loaded.
    pub font_fraction: f32,
    /// Share of samples photographed as people take photos (uneven light, coloured paper and
    /// ink, rules, clutter, camera blur and JPEG: [`crate::photo`]) before the recipe, so
    /// the model learns from what the recipe makes of a photo, not only of clean ink.
    pub photo_fraction: f32,
    /// A writer's constant slant (horizontal shear), drawn once per writer.
    pub slant: Span,
    /// A writer's chance that the pen stays down from one stroke to the next, leaving a thin
    /// connecting trace (cursive writing), drawn once per writer.
    pub cursive: Span,
    /// Width of such a connecting trace, relative to the pen.
    pub ligature_weight: Span,
    /// Corner rounding of a fast hand: the length, in the box, over which each stroke is
    /// smoothed.
    pub smoothing: Span,
}

/// A synthetic style value out of its sense range, named by its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StyleError {
    #[error("{field} is [{}, {}]: expected low ≤ high within [{low}, {high}]", value[0], value[1])]
    Span {
        field: &'static str,
        value: Span,
        low: f32,
        high: f32,
    },
    #[error("{field} is {value}: expected a number in [0, {high}]")]
    Scalar {
        field: &'static str,
        value: f32,
        high: f32,
    },
}

/// How much of each range's width one writer spans: a person's own variation is a fraction
/// of the population's.
pub const WRITER_SPREAD: f32 = 0.3;

/// The default writer's pen radius range, as a fraction of the character's 1024-unit box.
pub const DEFAULT_PEN: Span = [0.016, 0.034];

/// Mean larger side of a GB2312 level-1 character's stroke medians, as a fraction of the box
/// (measured over the embedded library by `character_pen_matches_the_synthesiser`).
pub const MEDIAN_EXTENT: f32 = 0.83;

/// The pen radius, as a fraction of the drawing's larger side, that gives pen strokes (a `.pot`
/// file, the draw page, JSON strokes) the width-to-character-size ratio of the default
/// synthetic writer: the middle of [`DEFAULT_PEN`] over [`MEDIAN_EXTENT`].
pub const CHARACTER_PEN: f32 = (DEFAULT_PEN[0] + DEFAULT_PEN[1]) / 2.0 / MEDIAN_EXTENT;

impl Default for SynthStyle {
    fn default() -> Self {
        SynthStyle {
            size: [0.72, 0.92],
            pen: DEFAULT_PEN,
            pressure: 0.25,
            jitter: [0.002, 0.009],
            stroke_shift: 0.025,
            stroke_rotation: 0.08,
            stroke_scale: 0.12,
            hook_chance: 0.3,
            hook_length: [0.02, 0.06],
            rotation: 0.1,
            scale_x: [0.8, 1.1],
            scale_y: [0.85, 1.1],
            // Per character, on top of the writer's slant.
            shear: 0.1,
            elastic: [0.0, 0.03],
            elastic_wavelength: [0.6, 1.6],
            ink: [0.0, 90.0],
            ink_variation: 20.0,
            font_fraction: 0.2,
            photo_fraction: 0.0,
            slant: [-0.2, 0.2],
            cursive: [0.0, 0.5],
            ligature_weight: [0.3, 0.6],
            smoothing: [0.0, 0.05],
        }
    }
}

impl SynthStyle {
    /// No variation at all: the medians as written, black, a mid-width pen, the box filling
    /// 80% of the image.
    pub fn none() -> Self {
        SynthStyle {
            size: [0.8, 0.8],
            pen: [0.025, 0.025],
            pressure: 0.0,
            jitter: [0.0, 0.0],
            stroke_shift: 0.0,
            stroke_rotation: 0.0,
            stroke_scale: 0.0,
            hook_chance: 0.0,
            hook_length: [0.0, 0.0],
            rotation: 0.0,
            scale_x: [1.0, 1.0],
            scale_y: [1.0, 1.0],
            shear: 0.0,
            elastic: [0.0, 0.0],
            elastic_wavelength: [1.0, 1.0],
            ink: [0.0, 0.0],
            ink_variation: 0.0,
            font_fraction: 0.0,
            photo_fraction: 0.0,
            slant: [0.0, 0.0],
            cursive: [0.0, 0.0],
            ligature_weight: [0.5, 0.5],
            smoothing: [0.0, 0.0],
        }
    }

    /// One writer drawn from this population: every range narrowed to [`WRITER_SPREAD`] of
    /// its width around a point drawn from it, so that the characters of one writer share a
    /// slant, an aspect, a pen, a speed and a way of joining strokes.
    pub fn writer(&self, rng: &mut impl rand::Rng) -> SynthStyle {
        let narrow = |rng: &mut dyn rand::RngCore, [a, b]: Span| {
            let half = (b - a) * WRITER_SPREAD / 2.0;
            let centre = a + half + (b - a - 2.0 * half) * rand::Rng::random::<f32>(rng);
            [centre - half, centre + half]
        };
        let mut w = self.clone();
        for span in [
            &mut w.size,
            &mut w.pen,
            &mut w.jitter,
            &mut w.hook_length,
            &mut w.scale_x,
            &mut w.scale_y,
            &mut w.elastic,
            &mut w.elastic_wavelength,
            &mut w.ink,
            &mut w.slant,
            &mut w.cursive,
            &mut w.ligature_weight,
            &mut w.smoothing,
        ] {
            *span = narrow(rng, *span);
        }
        w
    }

    /// Checks that every value is finite and within sense, naming the first that is not.
    pub fn validate(&self) -> Result<(), StyleError> {
        let spans = [
            ("size", self.size, 0.05, 1.0),
            ("pen", self.pen, 0.0, 0.2),
            ("jitter", self.jitter, 0.0, 0.2),
            ("hook_length", self.hook_length, 0.0, 0.3),
            ("scale_x", self.scale_x, 0.1, 3.0),
            ("scale_y", self.scale_y, 0.1, 3.0),
            ("elastic", self.elastic, 0.0, 0.2),
            ("elastic_wavelength", self.elastic_wavelength, 0.05, 100.0),
            ("ink", self.ink, 0.0, 254.0),
            ("slant", self.slant, -1.0, 1.0),
            ("cursive", self.cursive, 0.0, 1.0),
            ("ligature_weight", self.ligature_weight, 0.05, 2.0),
            ("smoothing", self.smoothing, 0.0, 0.3),
        ];
        for (name, [a, b], low, high) in spans {
            if !(a.is_finite() && b.is_finite() && a <= b && a >= low && b <= high) {
                return Err(StyleError::Span {
                    field: name,
                    value: [a, b],
                    low,
                    high,
                });
            }
        }
        let scalars = [
            ("pressure", self.pressure, 0.9),
            ("stroke_shift", self.stroke_shift, 0.3),
            ("stroke_rotation", self.stroke_rotation, 1.0),
            ("stroke_scale", self.stroke_scale, 0.9),
            ("hook_chance", self.hook_chance, 1.0),
            ("rotation", self.rotation, 1.6),
            ("shear", self.shear, 1.0),
            ("ink_variation", self.ink_variation, 255.0),
            ("font_fraction", self.font_fraction, 1.0),
            ("photo_fraction", self.photo_fraction, 1.0),
        ];
        for (name, v, high) in scalars {
            if !(v.is_finite() && (0.0..=high).contains(&v)) {
                return Err(StyleError::Scalar {
                    field: name,
                    value: v,
                    high,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_json_fills_in_defaults_and_typos_are_refused() {
        let style: SynthStyle = serde_json::from_str(r#"{"rotation": 0.2}"#).unwrap();
        assert_eq!(style.rotation, 0.2);
        assert_eq!(style.pen, SynthStyle::default().pen);
        assert!(serde_json::from_str::<SynthStyle>(r#"{"rotaton": 0.2}"#).is_err());
    }

    #[test]
    fn character_pen_matches_the_synthesiser() {
        let library = crate::synth::StrokeLibrary::embedded();
        let charset = crate::Charset::gb2312_level1();
        let extents: Vec<f32> = charset
            .symbols
            .iter()
            .filter_map(|s| library.get_symbol(s))
            .map(|strokes| {
                let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
                for p in strokes.iter().flatten() {
                    for a in 0..2 {
                        lo[a] = lo[a].min(p[a]);
                        hi[a] = hi[a].max(p[a]);
                    }
                }
                (hi[0] - lo[0]).max(hi[1] - lo[1]) / crate::synth::library::BOX
            })
            .collect();
        assert_eq!(extents.len(), 3755);
        let mean = extents.iter().sum::<f32>() / extents.len() as f32;
        assert!((mean - MEDIAN_EXTENT).abs() < 0.02, "mean extent {mean}");
    }

    #[test]
    fn a_writer_is_a_narrow_part_of_the_population() {
        use rand::SeedableRng;
        let style = SynthStyle::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let w = style.writer(&mut rng);
            assert!(w.validate().is_ok());
            for (mine, all) in [
                (w.slant, style.slant),
                (w.pen, style.pen),
                (w.size, style.size),
            ] {
                assert!(mine[0] >= all[0] - 1e-6 && mine[1] <= all[1] + 1e-6);
                let width = (mine[1] - mine[0]) / (all[1] - all[0]);
                assert!((width - WRITER_SPREAD).abs() < 1e-3, "{width}");
            }
        }
        let (a, b) = (style.writer(&mut rng), style.writer(&mut rng));
        assert_ne!(a.slant, b.slant);
    }

    #[test]
    fn validate_names_the_bad_field() {
        assert!(SynthStyle::default().validate().is_ok());
        assert!(SynthStyle::none().validate().is_ok());
        let style = SynthStyle {
            scale_x: [1.2, 0.9],
            ..SynthStyle::default()
        };
        assert!(style
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("scale_x"));
        let style = SynthStyle {
            font_fraction: f32::NAN,
            ..SynthStyle::default()
        };
        assert!(style
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("font_fraction"));
    }
}
