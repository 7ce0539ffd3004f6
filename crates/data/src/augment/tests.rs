use super::*;
use crate::strokes;
use image::Luma;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn square() -> GrayImage {
    GrayImage::from_fn(28, 28, |x, y| {
        Luma([if (10..18).contains(&x) && (10..18).contains(&y) {
            255
        } else {
            0
        }])
    })
}

/// A few pen strokes, bright on black, like a prepared character.
fn character(side: u32) -> GrayImage {
    let mut img = strokes::render(
        &[
            vec![[0.0, 2.0], [10.0, 2.0]],
            vec![[5.0, 0.0], [5.0, 10.0]],
            vec![[1.0, 6.0], [5.0, 4.0], [9.0, 7.0]],
            vec![[2.0, 9.0], [8.0, 9.0]],
        ],
        side,
        0.04,
    );
    image::imageops::invert(&mut img);
    img
}

fn ink(img: &GrayImage) -> f64 {
    img.as_raw().iter().map(|&v| v as f64).sum()
}

/// The affine-only warp as written before elastic distortion existed, pixel by pixel.
fn reference_affine(aug: &Augment, image: &GrayImage, rng: &mut impl Rng) -> GrayImage {
    let mut sym = |max: f32| {
        if max > 0.0 {
            rng.random_range(-max..=max)
        } else {
            0.0
        }
    };
    let angle = sym(aug.rotate_deg).to_radians();
    let scale = 1.0 + sym(aug.scale);
    let shear = sym(aug.shear);
    let (tx, ty) = (sym(aug.translate_px), sym(aug.translate_px));
    let (sin, cos) = angle.sin_cos();
    let a = [
        scale * cos,
        scale * (cos * shear - sin),
        scale * sin,
        scale * (sin * shear + cos),
    ];
    let det = a[0] * a[3] - a[1] * a[2];
    let inv = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det];
    let (w, h) = image.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx - tx, y as f32 + 0.5 - cy - ty);
        let sx = inv[0] * dx + inv[1] * dy + cx - 0.5;
        let sy = inv[2] * dx + inv[3] * dy + cy - 0.5;
        let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let at = |xx: i64, yy: i64| {
            if xx < 0 || yy < 0 || xx >= w as i64 || yy >= h as i64 {
                0.0
            } else {
                image.get_pixel(xx as u32, yy as u32).0[0] as f32
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8])
    })
}

#[test]
fn no_distortion_is_the_identity() {
    let none = Augment {
        rotate_deg: 0.0,
        scale: 0.0,
        shear: 0.0,
        translate_px: 0.0,
        ..Augment::default()
    };
    let mut rng = StdRng::seed_from_u64(1);
    assert_eq!(none.apply(&square(), &mut rng), square());
    let odd = character(37);
    assert_eq!(Augment::default().apply(&odd, &mut rng), odd);
}

#[test]
fn same_seed_same_warp_and_ink_is_kept() {
    let aug = Augment::digits();
    let a = aug.apply(&square(), &mut StdRng::seed_from_u64(5));
    let b = aug.apply(&square(), &mut StdRng::seed_from_u64(5));
    let c = aug.apply(&square(), &mut StdRng::seed_from_u64(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let ratio = ink(&a) / ink(&square());
    assert!((0.75..1.3).contains(&ratio), "ink mass changed by {ratio}");
}

#[test]
fn affine_only_matches_the_original_warp_bit_for_bit() {
    let strong = Augment {
        rotate_deg: 40.0,
        scale: 0.4,
        shear: 0.5,
        translate_px: 12.0,
        ..Augment::default()
    };
    for (aug, image) in [
        (Augment::digits(), square()),
        (Augment::digits(), character(28)),
        (strong, character(64)),
    ] {
        for seed in 0..20 {
            let ours = aug.apply(&image, &mut StdRng::seed_from_u64(seed));
            let old = reference_affine(&aug, &image, &mut StdRng::seed_from_u64(seed));
            assert_eq!(ours, old, "seed {seed}");
        }
    }
}

#[test]
fn characters_is_seeded_and_keeps_the_character() {
    for side in [64u32, 112] {
        let aug = Augment::characters().scaled_px(side as f32 / 64.0);
        let image = character(side);
        let runs: Vec<GrayImage> = (0..12)
            .map(|seed| aug.apply(&image, &mut StdRng::seed_from_u64(seed)))
            .collect();
        assert_eq!(runs[3], aug.apply(&image, &mut StdRng::seed_from_u64(3)));
        for (i, a) in runs.iter().enumerate() {
            assert_ne!(a, &image);
            assert!(
                runs[i + 1..].iter().all(|b| a != b),
                "seeds {i} and later agree"
            );
            // Noise lifts the background and width changes move the ink, but the bulk stays.
            let ratio = ink(a) / ink(&image);
            assert!(
                (0.5..2.0).contains(&ratio),
                "{side}px seed {i}: ink × {ratio}"
            );
        }
    }
}

#[test]
fn elastic_alone_moves_ink_without_losing_it() {
    let aug = Augment {
        elastic_alpha: 3.0,
        elastic_sigma: 6.0,
        ..Augment::default()
    };
    let image = character(64);
    for seed in 0..10 {
        let out = aug.apply(&image, &mut StdRng::seed_from_u64(seed));
        assert_ne!(out, image);
        let ratio = ink(&out) / ink(&image);
        assert!((0.85..1.15).contains(&ratio), "seed {seed}: ink × {ratio}");
    }
}

#[test]
fn stroke_change_always_on_thickens_or_thins() {
    let aug = Augment {
        stroke_prob: 1.0,
        stroke_px: 1.5,
        ..Augment::default()
    };
    let image = character(64);
    let ratios: Vec<f64> = (0..30)
        .map(|s| ink(&aug.apply(&image, &mut StdRng::seed_from_u64(s))) / ink(&image))
        .collect();
    assert!(ratios.iter().any(|&r| r > 1.2), "never thicker: {ratios:?}");
    assert!(ratios.iter().any(|&r| r < 0.8), "never thinner: {ratios:?}");
    let never = Augment {
        stroke_prob: 0.0,
        ..aug
    };
    assert_eq!(never.apply(&image, &mut StdRng::seed_from_u64(0)), image);
}

#[test]
fn noise_sigma_is_drawn_up_to_the_maximum() {
    let aug = Augment {
        noise_sigma: 20.0,
        ..Augment::default()
    };
    let gray = GrayImage::from_pixel(64, 64, Luma([128]));
    let stds: Vec<f64> = (0..200)
        .map(|seed| {
            let out = aug.apply(&gray, &mut StdRng::seed_from_u64(seed));
            let n = out.as_raw().len() as f64;
            (out.as_raw()
                .iter()
                .map(|&v| (v as f64 - 128.0).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        })
        .collect();
    assert!(
        stds.iter().all(|&s| s < 21.0),
        "max {:?}",
        stds.iter().cloned().fold(0.0, f64::max)
    );
    let mean = stds.iter().sum::<f64>() / stds.len() as f64;
    assert!(
        (mean - 10.0).abs() < 1.5,
        "mean std {mean}, expected about 20 / 2"
    );
}

#[test]
fn ink_fade_dims_ink_within_its_range() {
    let aug = Augment {
        ink_fade: 0.4,
        ..Augment::default()
    };
    let image = character(64);
    for seed in 0..20 {
        let out = aug.apply(&image, &mut StdRng::seed_from_u64(seed));
        let ratio = ink(&out) / ink(&image);
        assert!((0.59..=1.0).contains(&ratio), "seed {seed}: ink × {ratio}");
        assert!(out.as_raw().iter().zip(image.as_raw()).all(|(o, i)| o <= i));
    }
}

#[test]
fn old_four_field_config_parses_with_new_distortions_off() {
    let old = r#"{"rotate_deg":10.0,"scale":0.1,"shear":0.15,"translate_px":2.0}"#;
    let parsed: Augment = serde_json::from_str(old).unwrap();
    assert_eq!(parsed, Augment::digits());
    assert_eq!(
        (
            parsed.elastic_alpha,
            parsed.stroke_prob,
            parsed.ink_fade,
            parsed.noise_sigma
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
}

#[test]
fn presets_round_trip_through_json() {
    for aug in [
        Augment::characters(),
        Augment::digits(),
        Augment::characters().scaled_px(1.75),
    ] {
        let json = serde_json::to_string(&aug).unwrap();
        assert_eq!(serde_json::from_str::<Augment>(&json).unwrap(), aug);
    }
}

#[test]
fn character_lengths_follow_the_image_size() {
    let glyph = GrayImage::from_fn(32, 32, |x, y| {
        Luma([if (8..24).contains(&x) && (14..17).contains(&y) {
            255
        } else {
            0
        }])
    });
    let seeded = || rand::rngs::StdRng::seed_from_u64(11);
    let auto = Augment::characters().apply(&glyph, &mut seeded());
    let explicit = Augment::characters()
        .scaled_px(0.5)
        .apply(&glyph, &mut seeded());
    assert_eq!(
        auto, explicit,
        "a 64 px preset on a 32 px image is scaled by 1/2"
    );
    let unscaled = Augment {
        reference_side: 0,
        ..Augment::characters()
    }
    .apply(&glyph, &mut seeded());
    assert_ne!(auto, unscaled);
}
