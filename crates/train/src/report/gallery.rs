//! The gallery of misrecognised samples: one PNG, a grid with one cell per error holding the
//! model's input image and "truth → guess  probability" under it.

use crate::evaluate::Misrecognised;
use crate::plots::glyph::draw_symbol;
use crate::plots::render::{draw_over, encode_png, Figure};
use crate::plots::PlotError;
use inkstone_data::packed::PackedSet;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Cells per row, at most.
pub const COLUMNS: u32 = 10;
const PAD: u32 = 6;
const CAPTION: u32 = 18;
const BACKGROUND: [u8; 3] = [236, 236, 236];

/// Where the cells of a gallery of `count` images lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GalleryLayout {
    pub count: usize,
    pub columns: u32,
    pub rows: u32,
    /// Each image is drawn `scale`× (pixels duplicated), `shown` pixels a side.
    pub scale: u32,
    pub shown: u32,
    pub cell_width: u32,
    pub cell_height: u32,
}

impl GalleryLayout {
    /// The layout for `count` images of `side`² pixels.
    pub fn new(count: usize, side: u32) -> Self {
        let scale = (64 / side.max(1)).max(1);
        let shown = side * scale;
        let columns = (count as u32).clamp(1, COLUMNS);
        GalleryLayout {
            count,
            columns,
            rows: (count as u32).div_ceil(columns).max(1),
            scale,
            shown,
            cell_width: shown.max(84) + 2 * PAD,
            cell_height: shown + 2 * PAD + CAPTION,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.columns * self.cell_width, self.rows * self.cell_height)
    }

    /// Top-left pixel of image `i`.
    pub fn image_origin(&self, i: usize) -> (u32, u32) {
        let (col, row) = (i as u32 % self.columns, i as u32 / self.columns);
        (
            col * self.cell_width + (self.cell_width - self.shown) / 2,
            row * self.cell_height + PAD,
        )
    }
}

/// The gallery of `errors` as PNG bytes; `label(class)` names a class in the captions, as
/// text or, when `drawn`, as a symbol drawn from the stroke library.
pub fn gallery_png(
    errors: &[Misrecognised],
    set: &PackedSet,
    label: &dyn Fn(usize) -> String,
    drawn: bool,
) -> Result<Vec<u8>, PlotError> {
    let layout = GalleryLayout::new(errors.len(), set.side());
    let (w, h) = layout.size();
    let mut rgb = BACKGROUND.repeat(w as usize * h as usize);
    for (i, error) in errors.iter().enumerate() {
        blit(
            &mut rgb,
            w,
            &set.image(error.index),
            layout.image_origin(i),
            layout.scale,
        );
    }
    let captions = Captions {
        layout,
        drawn,
        captions: errors
            .iter()
            .map(|e| {
                let (guess, p) = e.top.first().copied().unwrap_or((e.truth, 0.0));
                Caption {
                    truth: label(e.truth),
                    guess: label(guess),
                    percent: format!("{:.0}%", 100.0 * p),
                }
            })
            .collect(),
    };
    draw_over(&captions, &mut rgb, (w, h))?;
    encode_png(w, h, rgb)
}

/// Copies a gray image into the RGB buffer, each pixel `scale`× `scale`.
fn blit(rgb: &mut [u8], width: u32, image: &image::GrayImage, (x0, y0): (u32, u32), scale: u32) {
    for (x, y, pixel) in image.enumerate_pixels() {
        for dy in 0..scale {
            for dx in 0..scale {
                let (px, py) = (x0 + x * scale + dx, y0 + y * scale + dy);
                let at = 3 * (py as usize * width as usize + px as usize);
                rgb[at..at + 3].fill(pixel.0[0]);
            }
        }
    }
}

/// "truth → guess  probability" under an image.
struct Caption {
    truth: String,
    guess: String,
    percent: String,
}

struct Captions {
    layout: GalleryLayout,
    /// Truth and guess are symbols to draw from the stroke library, not text.
    drawn: bool,
    captions: Vec<Caption>,
}

impl Figure for Captions {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let style = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let l = &self.layout;
        for (i, caption) in self.captions.iter().enumerate() {
            let (col, row) = (i as u32 % l.columns, i as u32 / l.columns);
            let x = (col * l.cell_width + l.cell_width / 2) as i32;
            let y = (row * l.cell_height + l.shown + PAD + CAPTION / 2 + 2) as i32;
            let Caption {
                truth,
                guess,
                percent,
            } = caption;
            if self.drawn {
                // [truth] → [guess] 99%, the symbols drawn in CAPTION-high squares.
                let glyph = CAPTION - 4;
                draw_symbol(root, truth, (x - 30, y), glyph, &BLACK)?;
                root.draw(&Text::new("\u{2192}", (x - 15, y), &style))?;
                draw_symbol(root, guess, (x, y), glyph, &BLACK)?;
                root.draw(&Text::new(percent.as_str(), (x + 26, y), &style))?;
            } else {
                let text = format!("{truth}\u{2192}{guess} {percent}");
                root.draw(&Text::new(text.as_str(), (x, y), &style))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_a_cell_per_image_in_rows_of_ten() {
        let l = GalleryLayout::new(23, 28);
        assert_eq!((l.columns, l.rows, l.shown), (10, 3, 56));
        assert_eq!(l.size(), (10 * l.cell_width, 3 * l.cell_height));
        let (x, y) = l.image_origin(22);
        assert!(x + l.shown <= 3 * l.cell_width && y >= 2 * l.cell_height);
        assert_eq!(GalleryLayout::new(3, 64).size(), (3 * 96, 64 + 12 + 18));
    }
}
