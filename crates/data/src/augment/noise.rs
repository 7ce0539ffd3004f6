//! Photometric augmentation: fainter ink and additive Gaussian noise, in one pass.

use super::splitmix::SplitMix64;
use image::GrayImage;
use rand::RngCore;

/// Multiplies every pixel by `gain` and adds Gaussian noise of standard deviation `sigma`
/// (0..255 scale), rounding and clamping to `u8`. Nothing is drawn from `rng` when `sigma` is
/// 0 (one number otherwise), and nothing changes when also `gain` is 1.
pub(super) fn fade_and_noise(image: &mut GrayImage, gain: f32, sigma: f32, rng: &mut impl RngCore) {
    let pixels: &mut [u8] = image;
    if sigma > 0.0 {
        let mut bits = SplitMix64::from_rng(rng);
        for p in pixels {
            let v = *p as f32 * gain + sigma * standard_normal(bits.next_u64());
            *p = (v.clamp(0.0, 255.0) + 0.5) as u8;
        }
    } else if gain != 1.0 {
        for p in pixels {
            *p = (*p as f32 * gain).clamp(0.0, 255.0).round() as u8;
        }
    }
}

/// An approximately standard normal number from 64 random bits: the sum of their eight bytes
/// (Irwin–Hall), centred and scaled. Tails stop at ±4.9, which pixel noise never misses, and it
/// costs a few integer adds instead of Box–Muller's log, sqrt and cosine per pixel.
fn standard_normal(bits: u64) -> f32 {
    const LOW_BYTES: u64 = 0x00FF_00FF_00FF_00FF;
    // Pairwise byte sums in four 16-bit lanes, then fold the lanes.
    let pairs = (bits & LOW_BYTES) + ((bits >> 8) & LOW_BYTES);
    let quads = pairs + (pairs >> 16);
    let sum = (quads + (quads >> 32)) & 0xFFFF;
    // Eight uniform bytes: mean 8·127.5, variance 8·(256² − 1)/12.
    const MEAN: f32 = 1020.0;
    const INV_STD: f32 = 1.0 / 209.023_92;
    (sum as f32 - MEAN) * INV_STD
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gray(v: u8) -> GrayImage {
        GrayImage::from_pixel(64, 64, image::Luma([v]))
    }

    fn mean_std(img: &GrayImage) -> (f64, f64) {
        let n = img.as_raw().len() as f64;
        let mean = img.as_raw().iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = img
            .as_raw()
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    #[test]
    fn sigma_zero_and_gain_one_change_nothing_and_draw_nothing() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut img = gray(77);
        fade_and_noise(&mut img, 1.0, 0.0, &mut rng);
        assert_eq!(img, gray(77));
        assert_eq!(
            rng.next_u64(),
            rand::rngs::StdRng::seed_from_u64(3).next_u64()
        );
    }

    #[test]
    fn noise_has_the_requested_std_and_no_bias() {
        for sigma in [2.0f32, 10.0, 25.0] {
            let mut img = gray(128);
            fade_and_noise(
                &mut img,
                1.0,
                sigma,
                &mut rand::rngs::StdRng::seed_from_u64(4),
            );
            let (mean, std) = mean_std(&img);
            assert!((mean - 128.0).abs() < 1.0, "sigma {sigma}: mean {mean}");
            let want = (sigma as f64 * sigma as f64 + 1.0 / 12.0).sqrt(); // plus rounding
            assert!((std / want - 1.0).abs() < 0.05, "sigma {sigma}: std {std}");
        }
    }

    #[test]
    fn gain_scales_ink_and_leaves_background_black() {
        let mut img =
            GrayImage::from_fn(4, 1, |x, _| image::Luma([[0, 100, 200, 255][x as usize]]));
        fade_and_noise(
            &mut img,
            0.5,
            0.0,
            &mut rand::rngs::StdRng::seed_from_u64(0),
        );
        assert_eq!(img.as_raw(), &[0, 50, 100, 128]);
    }

    #[test]
    fn normal_approximation_matches_its_moments() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let z: Vec<f64> = (0..200_000)
            .map(|_| standard_normal(rng.next_u64()) as f64)
            .collect();
        let n = z.len() as f64;
        let mean = z.iter().sum::<f64>() / n;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let within1 = z.iter().filter(|v| v.abs() < 1.0).count() as f64 / n;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        assert!((within1 - 0.6827).abs() < 0.01, "P(|z| < 1) = {within1}");
    }
}
