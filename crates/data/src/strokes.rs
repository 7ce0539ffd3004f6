//! Pen strokes → a picture of ink on paper. Handwriting captured as point sequences (the draw
//! page, online datasets) becomes an ordinary gray image, so that it goes through the same
//! recipe as a scanned or photographed character.

use image::{GrayImage, Luma};

/// One pen-down-to-pen-up trace, in any coordinate system (y grows downwards, as on screens).
pub type Stroke = Vec<[f32; 2]>;

/// Most points accepted in one drawing; a real character has a few hundred.
pub const MAX_POINTS: usize = 20_000;
/// Most strokes accepted in one drawing (the most complex Chinese characters have ~36).
pub const MAX_STROKES: usize = 500;
/// Largest accepted coordinate magnitude: beyond any screen or tablet.
pub const MAX_COORDINATE: f32 = 1.0e6;

/// Pen radius as a fraction of the drawing's larger side: MNIST's strokes are about 2.5 px
/// wide in its 20 px box.
pub const DEFAULT_PEN: f32 = 0.06;

/// Why a drawing is refused; the message names the first offending point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrokesError {
    #[error("no points: draw something first")]
    Empty,
    #[error("{0} strokes is over the limit of {MAX_STROKES}")]
    TooManyStrokes(usize),
    #[error("{0} points is over the limit of {MAX_POINTS}")]
    TooManyPoints(usize),
    #[error("stroke {stroke} point {index} is {point:?}: coordinates must be finite numbers within ±{MAX_COORDINATE}")]
    BadPoint {
        stroke: usize,
        index: usize,
        point: [f32; 2],
    },
}

/// Checks a drawing against the limits above.
pub fn validate(strokes: &[Stroke]) -> Result<(), StrokesError> {
    if strokes.iter().all(|s| s.is_empty()) {
        return Err(StrokesError::Empty);
    }
    if strokes.len() > MAX_STROKES {
        return Err(StrokesError::TooManyStrokes(strokes.len()));
    }
    let points: usize = strokes.iter().map(Vec::len).sum();
    if points > MAX_POINTS {
        return Err(StrokesError::TooManyPoints(points));
    }
    for (s, stroke) in strokes.iter().enumerate() {
        for (p, point) in stroke.iter().enumerate() {
            if point
                .iter()
                .any(|v| !v.is_finite() || v.abs() > MAX_COORDINATE)
            {
                return Err(StrokesError::BadPoint {
                    stroke: s,
                    index: p,
                    point: *point,
                });
            }
        }
    }
    Ok(())
}

/// Draws valid strokes (see [`validate`]) as dark ink on a white `side`² image, scaled to fit
/// with their aspect kept. `pen` is the pen radius as a fraction of the drawing's larger side.
pub fn render(strokes: &[Stroke], side: u32, pen: f32) -> GrayImage {
    let points = strokes.iter().flatten();
    let (mut min, mut max) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in points {
        for a in 0..2 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    let extent = (max[0] - min[0]).max(max[1] - min[1]);
    let size = side as f32;
    // The pen scales with the drawing, so leave a margin of one pen width on every side.
    let radius = (pen * size / (1.0 + 2.0 * pen)).max(0.75);
    let scale = if extent > 0.0 {
        (size - 2.0 * radius) / extent
    } else {
        0.0
    };
    let offset = [
        (size - (max[0] - min[0]) * scale) / 2.0,
        (size - (max[1] - min[1]) * scale) / 2.0,
    ];
    let to_canvas = |p: &[f32; 2]| {
        [
            (p[0] - min[0]) * scale + offset[0],
            (p[1] - min[1]) * scale + offset[1],
        ]
    };
    let mut canvas = GrayImage::from_pixel(side, side, Luma([255]));
    for stroke in strokes {
        let pts: Vec<[f32; 2]> = stroke.iter().map(to_canvas).collect();
        match pts.as_slice() {
            [] => {}
            [only] => draw_segment(&mut canvas, *only, *only, radius),
            _ => pts
                .windows(2)
                .for_each(|w| draw_segment(&mut canvas, w[0], w[1], radius)),
        }
    }
    canvas
}

/// Ink of a round pen moved from `a` to `b`, with a one-pixel soft edge.
fn draw_segment(canvas: &mut GrayImage, a: [f32; 2], b: [f32; 2], radius: f32) {
    let (w, h) = canvas.dimensions();
    let reach = radius + 1.0;
    let x0 = (a[0].min(b[0]) - reach).floor().max(0.0) as u32;
    let y0 = (a[1].min(b[1]) - reach).floor().max(0.0) as u32;
    let x1 = ((a[0].max(b[0]) + reach).ceil() as u32).min(w);
    let y1 = ((a[1].max(b[1]) + reach).ceil() as u32).min(h);
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    for y in y0..y1 {
        for x in x0..x1 {
            let p = [x as f32 + 0.5 - a[0], y as f32 + 0.5 - a[1]];
            let t = if len2 > 0.0 {
                ((p[0] * d[0] + p[1] * d[1]) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let dist = ((p[0] - t * d[0]).powi(2) + (p[1] - t * d[1]).powi(2)).sqrt();
            let ink = (radius + 0.5 - dist).clamp(0.0, 1.0);
            let pixel = &mut canvas.get_pixel_mut(x, y).0[0];
            *pixel = (*pixel).min((255.0 * (1.0 - ink)).round() as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink_columns(img: &GrayImage) -> (u32, u32) {
        let cols: Vec<u32> = (0..img.width())
            .filter(|&x| (0..img.height()).any(|y| img.get_pixel(x, y).0[0] < 128))
            .collect();
        (*cols.first().unwrap(), *cols.last().unwrap())
    }

    #[test]
    fn a_vertical_line_is_a_centred_vertical_bar() {
        let img = render(&[vec![[10.0, 0.0], [10.0, 100.0]]], 64, DEFAULT_PEN);
        let (left, right) = ink_columns(&img);
        assert!(right - left <= 8, "bar from {left} to {right}");
        assert!((left + right) / 2 >= 30 && (left + right) / 2 <= 33);
        // Top to bottom is inked, within the margin.
        assert!(img.get_pixel(32, 6).0[0] < 128 && img.get_pixel(32, 57).0[0] < 128);
        assert_eq!(img.get_pixel(5, 32).0[0], 255);
    }

    #[test]
    fn a_single_point_is_a_dot_not_nothing() {
        let img = render(&[vec![[3.0, 3.0]]], 32, DEFAULT_PEN);
        assert!(img.pixels().any(|p| p.0[0] < 128));
        assert!(img.get_pixel(0, 0).0[0] == 255);
    }

    #[test]
    fn bad_drawings_are_refused_with_the_reason() {
        assert_eq!(validate(&[]), Err(StrokesError::Empty));
        assert_eq!(validate(&[vec![]]), Err(StrokesError::Empty));
        let nan = validate(&[vec![[0.0, 0.0], [f32::NAN, 1.0]]]).unwrap_err();
        assert!(nan.to_string().contains("stroke 0 point 1"), "{nan}");
        assert!(matches!(
            validate(&[vec![[1e30, 0.0]]]),
            Err(StrokesError::BadPoint {
                stroke: 0,
                index: 0,
                ..
            })
        ));
        let many = vec![vec![[0.0, 0.0]; MAX_POINTS + 1]];
        assert_eq!(
            validate(&many),
            Err(StrokesError::TooManyPoints(MAX_POINTS + 1))
        );
        assert!(validate(&[vec![[0.0, 0.0], [1.0, 2.0]]]).is_ok());
    }
}
