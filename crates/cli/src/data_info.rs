//! `inkstone data info`: what a source holds — counts per class, image sizes, and a PNG grid
//! of samples, one class per row, each row headed by its label drawn from the stroke
//! library (CJK) with the row labels also listed in a text file beside the PNG.

use crate::data_pack::parse_split;
use crate::dataset;
use anyhow::{Context, Result};
use clap::Args;
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use inkstone_data::source::{DataSource, Loaded};
use inkstone_data::synth::StrokeLibrary;
use inkstone_data::Split;
use inkstone_data::{strokes, Charset};
use std::path::PathBuf;

#[derive(Args)]
pub struct InfoArgs {
    /// A data source, as for `train --data`.
    source: String,
    /// Describe one split only (default: every split the source has; also `SOURCE:train`).
    #[arg(long, value_parser = parse_split)]
    split: Option<Split>,
    #[arg(long)]
    charset: Option<String>,
    #[arg(long)]
    skip_unknown: bool,
    /// Write a grid of samples here (PNG), with the row labels in `<name>.labels.txt`.
    #[arg(long)]
    grid: Option<PathBuf>,
    /// Classes (rows) in the grid, spread over the charset.
    #[arg(long, default_value_t = 12)]
    rows: usize,
    /// Samples per row.
    #[arg(long, default_value_t = 10)]
    cols: usize,
}

/// Side of one grid cell in pixels.
const CELL: u32 = 64;

pub fn run(args: InfoArgs) -> Result<()> {
    let labels = dataset::label_options(args.charset.as_deref(), args.skip_unknown)?;
    // A source with splits is described whole, split by split, unless one is named.
    let (source, named) = DataSource::parse(&args.source);
    let splits = match (args.split.or(named), source.has_splits()) {
        (Some(split), _) => vec![split],
        (None, true) => vec![Split::Train, Split::Test],
        (None, false) => vec![Split::Train],
    };
    let parts = splits
        .iter()
        .map(|&split| dataset::load(&args.source, split, &labels))
        .collect::<Result<Vec<_>>>()?;
    let charset = parts[0].0.charset().clone();
    // Every sample of every part, as (part, index in it).
    let mut samples: Vec<(usize, usize)> = Vec::new();
    let mut labels_of: Vec<u32> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for (part, (loaded, _)) in parts.iter().enumerate() {
        let part_labels = labels_in(loaded);
        sizes.push(part_labels.len());
        samples.extend((0..part_labels.len()).map(|i| (part, i)));
        labels_of.extend(part_labels);
    }
    let image = |n: usize| {
        let (part, i) = samples[n];
        match &parts[part].0 {
            Loaded::Raw(d) => d.samples[i].image.clone(),
            Loaded::Packed(p) => p.image(i),
        }
    };
    let mut counts = vec![0usize; charset.len()];
    for &l in &labels_of {
        counts[l as usize] += 1;
    }
    let by_split = match parts.len() {
        1 => String::new(),
        _ => {
            let each: Vec<String> = splits
                .iter()
                .zip(&sizes)
                .map(|(split, size)| format!("{split} {size}"))
                .collect();
            format!(" ({})", each.join(", "))
        }
    };
    let name = match parts.len() {
        1 => parts[0].1.clone(),
        _ => args.source.clone(),
    };
    println!(
        "{name}: {} samples{by_split}, charset {} ({} classes)",
        labels_of.len(),
        charset.name,
        charset.len()
    );
    let mut present: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    present.sort_unstable();
    if let (Some(min), Some(max)) = (present.first(), present.last()) {
        println!(
            "classes with samples: {} of {}; per class min {min}, median {}, max {max}",
            present.len(),
            charset.len(),
            present[present.len() / 2]
        );
    }
    if charset.len() <= 40 {
        let line: Vec<String> = counts
            .iter()
            .enumerate()
            .map(|(c, n)| format!("{} {n}", charset.symbol(c)))
            .collect();
        println!("per class: {}", line.join(", "));
    }
    match &parts[0].0 {
        Loaded::Packed(p) => println!(
            "images: {0}×{0} prepared by recipe {1}",
            p.side(),
            serde_json::to_string(&p.meta.recipe)?
        ),
        Loaded::Raw(_) => {
            let (w, h): (Vec<u32>, Vec<u32>) = parts
                .iter()
                .filter_map(|(loaded, _)| match loaded {
                    Loaded::Raw(d) => Some(d.samples.iter().map(|s| s.image.dimensions())),
                    Loaded::Packed(_) => None,
                })
                .flatten()
                .unzip();
            println!("image width {}, height {}", stats(&w), stats(&h));
        }
    }
    if let Some(path) = &args.grid {
        let (grid, rows) = grid(&charset, &labels_of, &image, args.rows, args.cols);
        let list: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(r, &c)| format!("row {r}: class {c} {}", charset.symbol(c)))
            .collect();
        save_png_atomically(&grid, path)?;
        let labels_path = path.with_extension("labels.txt");
        std::fs::write(&labels_path, list.join("\n") + "\n")
            .with_context(|| labels_path.display().to_string())?;
        println!(
            "grid: {} ({} rows; labels in {})",
            path.display(),
            rows.len(),
            labels_path.display()
        );
    }
    Ok(())
}

fn labels_in(loaded: &Loaded) -> Vec<u32> {
    match loaded {
        Loaded::Raw(d) => d.samples.iter().map(|s| s.label).collect(),
        Loaded::Packed(p) => (0..p.len()).map(|i| p.label(i)).collect(),
    }
}

fn stats(v: &[u32]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let min = v.iter().min().expect("non-empty");
    let max = v.iter().max().expect("non-empty");
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    format!("min {min} mean {mean:.1} max {max}")
}

/// The grid image and the class of each row. Row label cells show the class's glyph from the
/// stroke library when it has one (dark on white), else stay blank (see the labels file).
fn grid(
    charset: &Charset,
    labels: &[u32],
    image: &dyn Fn(usize) -> GrayImage,
    rows: usize,
    cols: usize,
) -> (GrayImage, Vec<usize>) {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); charset.len()];
    for (i, &l) in labels.iter().enumerate() {
        if by_class[l as usize].len() < cols {
            by_class[l as usize].push(i);
        }
    }
    let present: Vec<usize> = (0..charset.len())
        .filter(|&c| !by_class[c].is_empty())
        .collect();
    let step = (present.len() as f64 / rows.max(1) as f64).max(1.0);
    let chosen: Vec<usize> = (0..rows.min(present.len()))
        .map(|r| present[(r as f64 * step) as usize])
        .collect();
    let gap = 2;
    let widest = chosen.iter().map(|&c| by_class[c].len()).max().unwrap_or(0);
    let width = (widest as u32 + 1) * (CELL + gap) + gap;
    let height = chosen.len() as u32 * (CELL + gap) + gap;
    let mut canvas = GrayImage::from_pixel(width, height, Luma([128]));
    let library = StrokeLibrary::embedded();
    for (r, &class) in chosen.iter().enumerate() {
        let y = gap + r as u32 * (CELL + gap);
        let label = match library.get_symbol(charset.symbol(class)) {
            Some(glyph) => strokes::render(glyph, CELL, 0.05),
            None => GrayImage::from_pixel(CELL, CELL, Luma([255])),
        };
        imageops::replace(&mut canvas, &label, gap as i64, y as i64);
        for (c, &i) in by_class[class].iter().enumerate() {
            let cell = fit(&image(i));
            let x = gap + (c as u32 + 1) * (CELL + gap);
            imageops::replace(&mut canvas, &cell, x as i64, y as i64);
        }
    }
    (canvas, chosen)
}

/// A sample scaled to fit a cell, aspect kept, centred on its own background level.
fn fit(img: &GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let scale = CELL as f32 / w.max(h).max(1) as f32;
    let (nw, nh) = (
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    let resized = imageops::resize(img, nw, nh, FilterType::Triangle);
    let corner = img.get_pixel(0, 0).0[0];
    let mut cell = GrayImage::from_pixel(CELL, CELL, Luma([corner]));
    imageops::replace(
        &mut cell,
        &resized,
        ((CELL - nw) / 2) as i64,
        ((CELL - nh) / 2) as i64,
    );
    cell
}

/// The grid as a PNG, written through a synced temporary file and a rename like bundles.
pub fn save_png_atomically(img: &GrayImage, path: &std::path::Path) -> Result<()> {
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .with_context(|| path.display().to_string())?;
    inkstone_data::atomic::write_atomically(path, png.get_ref())
        .with_context(|| path.display().to_string())
}
