//! Single-threaded augmentation throughput, seeded per sample the way the trainer does it.
//!
//! `cargo run --release -p inkstone-data --example augment_speed`

use image::GrayImage;
use inkstone_data::augment::Augment;
use inkstone_data::strokes;
use rand::SeedableRng;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A few pen strokes, bright on black, like a prepared character of `side`².
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

/// Images per second of `aug.apply`: the best of five 200 ms windows, so that other work on
/// a shared machine disturbs the figure less.
fn rate(aug: &Augment, image: &GrayImage) -> f64 {
    let mut n = 0u64;
    let mut best = 0.0f64;
    for _ in 0..5 {
        let (start, first) = (Instant::now(), n);
        while start.elapsed() < Duration::from_millis(200) {
            for _ in 0..50 {
                let seed = n.wrapping_mul(0xD1B5_4A32_D192_ED03);
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                black_box(aug.apply(black_box(image), &mut rng));
                n += 1;
            }
        }
        best = best.max((n - first) as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let characters = Augment::characters();
    let cases = [
        ("digits() 28×28", Augment::digits(), 28),
        ("characters() 64×64", characters.clone(), 64),
        (
            "characters().scaled_px(1.75) 112×112",
            characters.scaled_px(1.75),
            112,
        ),
    ];
    for (name, aug, side) in cases {
        let image = character(side);
        println!("{name:<40} {:>9.0} images/s", rate(&aug, &image));
    }
    let parts = [
        (
            "  affine only",
            Augment {
                elastic_alpha: 0.0,
                stroke_prob: 0.0,
                ink_fade: 0.0,
                noise_sigma: 0.0,
                ..Augment::characters()
            },
        ),
        (
            "  + elastic",
            Augment {
                stroke_prob: 0.0,
                ink_fade: 0.0,
                noise_sigma: 0.0,
                ..Augment::characters()
            },
        ),
        (
            "  + stroke width",
            Augment {
                ink_fade: 0.0,
                noise_sigma: 0.0,
                ..Augment::characters()
            },
        ),
    ];
    println!("characters() at 64×64, cumulative:");
    let image = character(64);
    for (name, aug) in parts {
        println!("{name:<40} {:>9.0} images/s", rate(&aug, &image));
    }
}
