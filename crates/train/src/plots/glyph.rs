//! Class names the plot font cannot write (CJK), drawn from the embedded stroke library as pen
//! strokes: paths, so PNG and SVG show the same character with no font shipped, and a person
//! reads 十 → 千 at a glance instead of 2457 → 1465.

use inkstone_data::synth::StrokeLibrary;
use inkstone_data::Charset;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Whether every class of `charset` has strokes in the embedded library.
pub fn all_in_library(charset: &Charset) -> bool {
    let library = StrokeLibrary::embedded();
    !charset.symbols.is_empty()
        && charset
            .symbols
            .iter()
            .all(|s| library.get_symbol(s).is_some())
}

/// Draws `symbol` in a `size`-pixel square centred on `centre` (pixels of `area`), aspect
/// kept; nothing when the library has no strokes for it.
pub fn draw_symbol<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    symbol: &str,
    centre: (i32, i32),
    size: u32,
    colour: &RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let Some(strokes) = StrokeLibrary::embedded().get_symbol(symbol) else {
        return Ok(());
    };
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in strokes.iter().flatten() {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    if extent.is_nan() || extent <= 0.0 {
        return Ok(());
    }
    let scale = size as f32 / extent;
    let middle = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let pen = colour.stroke_width((size / 12).max(1));
    for stroke in strokes {
        let points: Vec<(i32, i32)> = stroke
            .iter()
            .map(|p| {
                (
                    centre.0 + ((p[0] - middle[0]) * scale).round() as i32,
                    centre.1 + ((p[1] - middle[1]) * scale).round() as i32,
                )
            })
            .collect();
        area.draw(&PathElement::new(points, pen))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::render::{render_svg, Figure};

    struct One(&'static str);

    impl Figure for One {
        fn draw<DB: DrawingBackend>(
            &self,
            root: &DrawingArea<DB, Shift>,
        ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
            draw_symbol(root, self.0, (20, 20), 30, &BLACK)
        }
    }

    #[test]
    fn a_character_is_drawn_stroke_by_stroke_and_an_unknown_one_not_at_all() {
        assert!(all_in_library(&Charset::chinese_numerals()));
        assert!(!all_in_library(&Charset::new(
            "x",
            vec!["十".into(), "\u{E000}".into()]
        )));
        // 十 has two strokes; a symbol the library lacks draws nothing.
        let paths = |s| {
            render_svg(&One(s), (40, 40))
                .unwrap()
                .matches("<polyline")
                .count()
        };
        assert_eq!(paths("十"), 2);
        assert_eq!(paths("三"), 3);
        assert_eq!(paths("\u{E000}"), 0);
    }
}
