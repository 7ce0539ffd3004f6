//! How fast `GntReader` reads: writes ~200 MB of CASIA-like records (50–150 px a side, ink
//! strokes on a 255 background) to a temporary `.gnt`, then reads it back.
//!
//! `cargo run --release -p inkstone-data --example gnt_speed [MB]`

use image::{GrayImage, Luma};
use inkstone_data::gnt::{GntReader, GntWriter};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target_mb: u64 = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("speed.gnt");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut writer = GntWriter::create(&path)?;
    let (mut bytes, mut records) = (0u64, 0u64);
    let started = Instant::now();
    while bytes < target_mb * 1_000_000 {
        let image = character(&mut rng);
        writer.write(
            [0xB0 + rng.random_range(0..40), rng.random_range(0xA1..0xFF)],
            &image,
        )?;
        bytes += 10 + u64::from(image.width() * image.height());
        records += 1;
    }
    writer.finish()?;
    let wrote = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let (mut read, mut ink) = (0u64, 0u64);
    for record in GntReader::open(&path)? {
        let record = record?;
        read += 1;
        ink += u64::from(record.image.as_raw()[0] < 128);
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(read, records, "read back a different number of records");
    let mb = bytes as f64 / 1e6;
    println!(
        "{records} records, {mb:.0} MB: written at {:.0} MB/s, read at {:.0} MB/s ({:.0} records/s, {ink} inked corners)",
        mb / wrote,
        mb / secs,
        records as f64 / secs
    );
    Ok(())
}

/// A random-sized white image with a few dark strokes, like a segmented character.
fn character(rng: &mut impl Rng) -> GrayImage {
    let (w, h) = (rng.random_range(50..=150), rng.random_range(50..=150));
    let mut image = GrayImage::from_pixel(w, h, Luma([255]));
    for _ in 0..rng.random_range(3..12) {
        let (mut x, mut y) = (rng.random_range(0..w) as f32, rng.random_range(0..h) as f32);
        let (dx, dy) = (
            rng.random_range(-1.0..1.0f32),
            rng.random_range(-1.0..1.0f32),
        );
        for _ in 0..rng.random_range(10..60) {
            if (x as u32) < w && (y as u32) < h && x >= 0.0 && y >= 0.0 {
                image.put_pixel(x as u32, y as u32, Luma([rng.random_range(0..120)]));
            }
            (x, y) = (x + dx, y + dy);
        }
    }
    image
}
