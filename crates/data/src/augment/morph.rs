//! Stroke-width change by grayscale morphology. Ink is bright, so dilation (a max filter)
//! thickens strokes and erosion (a min filter) thins them.

use image::GrayImage;

/// Thickens (`amount` > 0) or thins (`amount` < 0) the strokes by about `|amount|` pixels on
/// each side: `ceil(|amount|)` dilation or erosion steps, alternating a cross and a 3×3 square
/// so that repeated steps grow a rough disc rather than a diamond or a box. The last step is
/// blended by the fractional part, so the width changes continuously with `amount`.
pub(super) fn change_stroke_width(image: &mut GrayImage, amount: f32) {
    let (w, h) = (image.width() as usize, image.height() as usize);
    // Past the image's side every further step changes nothing.
    let size = amount.abs().min(w.max(h) as f32);
    if amount.is_nan() || size == 0.0 {
        return;
    }
    let steps = size.ceil() as usize;
    for i in 0..steps {
        let square = i % 2 == 1;
        let next = if amount > 0.0 {
            // Outside the image is background, which never adds ink.
            step(image.as_raw(), w, h, 0, square, u8::max)
        } else {
            // Outside the image does not eat ink at the border.
            step(image.as_raw(), w, h, 255, square, u8::min)
        };
        let part = (size - i as f32).min(1.0);
        let buf: &mut [u8] = image;
        blend(buf, &next, part);
    }
}

/// One 3×3 (square) or 4-neighbour-plus-centre (cross) filter step with `op` (max or min),
/// over a copy padded with `pad` so the inner loops need no bounds tests.
fn step(src: &[u8], w: usize, h: usize, pad: u8, square: bool, op: fn(u8, u8) -> u8) -> Vec<u8> {
    let pw = w + 2;
    let mut padded = vec![pad; pw * (h + 2)];
    for (dst, row) in padded[pw..].chunks_exact_mut(pw).zip(src.chunks_exact(w)) {
        dst[1..=w].copy_from_slice(row);
    }
    // Horizontal 3-tap filter of every padded row (w columns each).
    let mut across = vec![pad; w * (h + 2)];
    for (dst, row) in across.chunks_exact_mut(w).zip(padded.chunks_exact(pw)) {
        for (d, t) in dst.iter_mut().zip(row.windows(3)) {
            *d = op(op(t[0], t[1]), t[2]);
        }
    }
    let mut out = vec![0u8; w * h];
    for (y, dst) in out.chunks_exact_mut(w).enumerate() {
        let mid = &across[(y + 1) * w..][..w];
        // Square: the rows above and below through the same horizontal filter. Cross: only
        // the pixels straight above and below.
        let (up, down) = if square {
            (&across[y * w..][..w], &across[(y + 2) * w..][..w])
        } else {
            (&padded[y * pw + 1..][..w], &padded[(y + 2) * pw + 1..][..w])
        };
        for (((d, &m), &u), &b) in dst.iter_mut().zip(mid).zip(up).zip(down) {
            *d = op(op(m, u), b);
        }
    }
    out
}

/// `image` moved a fraction `part` (0..=1) of the way to `target`.
fn blend(image: &mut [u8], target: &[u8], part: f32) {
    let t = (part * 256.0).round() as u32;
    if t >= 256 {
        image.copy_from_slice(target);
        return;
    }
    for (p, &q) in image.iter_mut().zip(target) {
        *p = ((*p as u32 * (256 - t) + q as u32 * t + 128) >> 8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strokes;

    /// A diagonal and a horizontal pen stroke, bright on black, 64×64.
    fn stroke() -> GrayImage {
        let mut img = strokes::render(
            &[
                vec![[0.0, 0.0], [10.0, 10.0]],
                vec![[0.0, 8.0], [10.0, 8.0]],
            ],
            64,
            0.03,
        );
        image::imageops::invert(&mut img);
        img
    }

    fn ink_pixels(img: &GrayImage) -> usize {
        img.as_raw().iter().filter(|&&v| v >= 128).count()
    }

    fn mass(img: &GrayImage) -> u64 {
        img.as_raw().iter().map(|&v| v as u64).sum()
    }

    #[test]
    fn dilate_thickens_and_erode_thins_a_rendered_stroke() {
        let base = stroke();
        let n = ink_pixels(&base);
        assert!(n > 100, "test stroke has only {n} ink pixels");
        let mut thick = base.clone();
        change_stroke_width(&mut thick, 1.0);
        let mut thin = base.clone();
        change_stroke_width(&mut thin, -1.0);
        let (nt, nn) = (ink_pixels(&thick), ink_pixels(&thin));
        assert!(nt > n + n / 5, "dilate: {n} → {nt} ink pixels");
        assert!(nn < n - n / 5 && nn > 0, "erode: {n} → {nn} ink pixels");
        // Dilation never darkens a pixel and erosion never brightens one.
        let zipped = base.as_raw().iter().zip(thick.as_raw()).zip(thin.as_raw());
        assert!(zipped.clone().all(|((b, t), _)| t >= b));
        assert!(zipped.clone().all(|((b, _), n)| n <= b));
    }

    #[test]
    fn width_change_grows_with_the_amount() {
        let base = stroke();
        let masses: Vec<u64> = [-1.5, -0.5, 0.0, 0.5, 1.0, 2.0]
            .iter()
            .map(|&a| {
                let mut img = base.clone();
                change_stroke_width(&mut img, a);
                mass(&img)
            })
            .collect();
        assert!(masses.windows(2).all(|w| w[0] < w[1]), "{masses:?}");
        assert_eq!(masses[2], mass(&base), "amount 0 must change nothing");
    }

    #[test]
    fn absurd_amounts_terminate() {
        let mut img = stroke();
        change_stroke_width(&mut img, f32::NAN);
        assert_eq!(img, stroke());
        change_stroke_width(&mut img, f32::INFINITY);
        assert!(img.as_raw().iter().all(|&v| v == 255));
    }

    #[test]
    fn erosion_keeps_ink_on_the_border_and_dilation_adds_none_from_outside() {
        let full = GrayImage::from_pixel(8, 8, image::Luma([200]));
        let mut eroded = full.clone();
        change_stroke_width(&mut eroded, -2.0);
        assert_eq!(eroded, full);
        let empty = GrayImage::new(8, 8);
        let mut dilated = empty.clone();
        change_stroke_width(&mut dilated, 2.0);
        assert_eq!(dilated, empty);
    }
}
