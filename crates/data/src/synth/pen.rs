//! A round pen whose radius and ink vary: the synthesizer's renderer. Unlike
//! [`crate::strokes::render`] it draws in pixel coordinates as given (no fitting), with a
//! radius per point and a gray level per stroke.

use image::GrayImage;

/// A point of a pen trace in pixels, with the pen's radius there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PenPoint {
    pub x: f32,
    pub y: f32,
    pub radius: f32,
}

/// One stroke ready to draw: its trace and its ink's gray level (0 black, 255 paper).
#[derive(Clone, Debug, Default)]
pub struct PenStroke {
    pub points: Vec<PenPoint>,
    pub ink: f32,
}

/// Draws `strokes` onto `canvas`, darkening only: overlapping ink keeps the darker level.
pub fn draw(canvas: &mut GrayImage, strokes: &[PenStroke]) {
    for stroke in strokes {
        let ink = stroke.ink.clamp(0.0, 255.0);
        match stroke.points.as_slice() {
            [] => {}
            [only] => segment(canvas, *only, *only, ink),
            points => points
                .windows(2)
                .for_each(|w| segment(canvas, w[0], w[1], ink)),
        }
    }
}

/// Ink of a round pen moved from `a` to `b` while its radius changes linearly, with a
/// one-pixel soft edge.
fn segment(canvas: &mut GrayImage, a: PenPoint, b: PenPoint, ink: f32) {
    let (w, h) = canvas.dimensions();
    let reach = a.radius.max(b.radius) + 1.0;
    // NaN or far-off points clamp to an empty box instead of drawing garbage.
    let lo = |v: f32| (v - reach).floor().clamp(0.0, u32::MAX as f32) as u32;
    let hi = |v: f32, limit: u32| ((v + reach).ceil().clamp(0.0, limit as f32)) as u32;
    let (x0, x1) = (lo(a.x.min(b.x)), hi(a.x.max(b.x), w));
    let (y0, y1) = (lo(a.y.min(b.y)), hi(a.y.max(b.y), h));
    let d = [b.x - a.x, b.y - a.y];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let inv_len2 = if len2 > 1e-12 { 1.0 / len2 } else { 0.0 };
    let dr = b.radius - a.radius;
    let reach2 = reach * reach;
    let paper = 255.0 - ink;
    let pixels: &mut [u8] = canvas.as_mut();
    for y in y0..y1 {
        let py = y as f32 + 0.5 - a.y;
        let row = &mut pixels[(y * w) as usize..][..w as usize];
        for x in x0..x1 {
            let px = x as f32 + 0.5 - a.x;
            let t = ((px * d[0] + py * d[1]) * inv_len2).clamp(0.0, 1.0);
            let (ex, ey) = (px - t * d[0], py - t * d[1]);
            let dist2 = ex * ex + ey * ey;
            if dist2 >= reach2 {
                continue;
            }
            let coverage = (a.radius + t * dr + 0.5 - dist2.sqrt()).clamp(0.0, 1.0);
            let level = (255.0 - coverage * paper).round() as u8;
            let pixel = &mut row[x as usize];
            *pixel = (*pixel).min(level);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn pt(x: f32, y: f32, radius: f32) -> PenPoint {
        PenPoint { x, y, radius }
    }

    #[test]
    fn a_tapered_line_is_wide_at_its_start_and_thin_at_its_end() {
        let mut img = GrayImage::from_pixel(40, 20, Luma([255]));
        let stroke = PenStroke {
            points: vec![pt(5.0, 10.0, 4.0), pt(35.0, 10.0, 1.0)],
            ink: 0.0,
        };
        draw(&mut img, &[stroke]);
        let inked = |x: u32| (0..20).filter(|&y| img.get_pixel(x, y).0[0] < 128).count();
        assert!(
            inked(7) >= 7 && inked(33) <= 3,
            "{} {}",
            inked(7),
            inked(33)
        );
        assert_eq!(img.get_pixel(20, 10).0[0], 0);
        assert_eq!(img.get_pixel(20, 0).0[0], 255);
    }

    #[test]
    fn gray_ink_and_points_off_the_canvas_are_handled() {
        let mut img = GrayImage::from_pixel(10, 10, Luma([255]));
        let gray = PenStroke {
            points: vec![pt(5.0, 5.0, 2.0)],
            ink: 100.0,
        };
        let wild = PenStroke {
            points: vec![pt(f32::NAN, 5.0, 2.0), pt(-1e9, 1e9, 2.0)],
            ink: 0.0,
        };
        draw(&mut img, &[gray, wild]);
        assert_eq!(img.get_pixel(5, 5).0[0], 100);
    }
}
