//! Builds the synthesizer's stroke file from the npm package `hanzi-writer-data`:
//!
//! ```text
//! cargo run -p inkstone-data --example make_stroke_file -- \
//!     /tmp/hwd/node_modules/hanzi-writer-data crates/data/assets/hanzi-strokes/strokes.bin.gz
//! ```
//!
//! Reads every `<char>.json`'s `medians` (1024 box, y up, baseline at 900), flips y so it
//! points down and writes the gzipped format of `inkstone_data::synth::library`.

use flate2::write::GzEncoder;
use inkstone_data::synth::StrokeLibrary;
use std::io::Write;
use std::path::{Path, PathBuf};

/// hanzi-writer-data draws in a 1024 box whose y axis points up from 900 units below the top.
const FLIP: f32 = 900.0;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else {
        eprintln!("usage: make_stroke_file PACKAGE_DIR OUT.bin.gz");
        std::process::exit(2);
    };
    let mut chars = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{dir}: {e}"))?.path();
        if let Some(c) = character_file(&path) {
            chars.push((c, medians(&path)?));
        }
    }
    let library = StrokeLibrary::from_strokes(chars);
    let bytes = library.to_bytes()?;
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).map_err(|e| e.to_string())?;
    let gz = gz.finish().map_err(|e| e.to_string())?;
    std::fs::write(out, &gz).map_err(|e| format!("{out}: {e}"))?;
    println!(
        "{out}: {} characters, {} bytes ({} uncompressed)",
        library.len(),
        gz.len(),
        bytes.len()
    );
    Ok(())
}

/// The character a `<char>.json` file describes; `package.json` and friends are not one.
fn character_file(path: &Path) -> Option<char> {
    if path.extension()? != "json" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let mut chars = stem.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn medians(path: &PathBuf) -> Result<Vec<Vec<[f32; 2]>>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
    let strokes = json["medians"]
        .as_array()
        .ok_or_else(|| format!("{name}: no `medians` array"))?;
    strokes
        .iter()
        .map(|stroke| {
            stroke
                .as_array()
                .ok_or_else(|| format!("{name}: a median is not an array"))?
                .iter()
                .map(|p| match (p[0].as_f64(), p[1].as_f64()) {
                    (Some(x), Some(y)) => Ok([x as f32, FLIP - y as f32]),
                    _ => Err(format!("{name}: a median point is not [x, y]: {p}")),
                })
                .collect()
        })
        .collect()
}
