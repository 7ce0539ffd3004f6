//! Writes synthetic handwriting of every GB2312 level-1 character as a CASIA-HWDB `.gnt`
//! file: a stand-in with the real layout (tags, odd sizes, dark ink on 255) for measuring
//! `inkstone data pack --from gnt` where no real CASIA file may be shipped.
//!
//! `cargo run --release -p inkstone-data --example synth_gnt -- OUT.gnt [PER_CLASS] [SEED]`

use inkstone_data::gnt::GntWriter;
use inkstone_data::synth::{SynthStyle, Synthesizer};
use inkstone_data::Charset;
use rand::{Rng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: synth_gnt OUT.gnt [PER_CLASS] [SEED]")?;
    let per_class: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let charset = Charset::gb2312_level1();
    let synth = Synthesizer::embedded(SynthStyle::default());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut writer = GntWriter::create(&out)?;
    let (mut records, mut bytes) = (0u64, 0u64);
    for k in 0..per_class {
        for symbol in &charset.symbols {
            // CASIA's segmented characters are tight boxes of 50–150 px; crop a render to its
            // ink to get the same odd sizes.
            let side = rng.random_range(64..=128);
            let image = synth.render(symbol, &mut rng, side).ok_or("no strokes")?;
            let image = crop_to_ink(&image);
            let ch = symbol.chars().next().ok_or("empty symbol")?;
            writer.write_char(ch, &image)?;
            records += 1;
            bytes += 10 + u64::from(image.width() * image.height());
        }
        eprintln!("pass {}/{per_class}: {records} records", k + 1);
    }
    writer.finish()?;
    println!("{out}: {records} records, {:.1} MB", bytes as f64 / 1e6);
    Ok(())
}

fn crop_to_ink(image: &image::GrayImage) -> image::GrayImage {
    let (w, h) = image.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in image.enumerate_pixels() {
        if p.0[0] < 200 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x1 < x0 {
        return image.clone();
    }
    image::imageops::crop_imm(image, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image()
}
