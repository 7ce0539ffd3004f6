//! One function per parser of untrusted bytes, each feeding its input to the real entry point
//! and returning whether the parser accepted it. None may panic, hang or allocate far beyond
//! its input on any bytes: errors are the expected answer to garbage. Where a parse succeeds, the function also exercises what callers do next
//! (iterating records, rendering, building the network) and checks cheap invariants such as
//! write → read round trips, so that a wrong-but-accepted reading shows up as a crash too.
//!
//! `fuzz/fuzz_targets/<name>.rs` calls `<name>` under libFuzzer (`fuzz/run-all.sh`), and
//! `tests/replay.rs` runs every file of `fuzz/seeds/<name>/` and `fuzz/regressions/<name>/`
//! through it on stable, in CI.

use burn::backend::Flex;
use inkstone_data::gnt::{GntReader, GntWriter};
use inkstone_data::idx;
use inkstone_data::image_file::decode_gray_within;
use inkstone_data::image_folder::read_csv_index_from;
use inkstone_data::packed::PackedSet;
use inkstone_data::pot::{PotReader, PotRecord, PotWriter};
use inkstone_data::synth::library::StrokeLibrary;
use inkstone_model::{Bundle, ModelSpec, Network, Summary};
use inkstone_serve::input::{Payload, StrokesBody};
use inkstone_serve::v2::parse_infer;
use inkstone_serve::ServeConfig;
use std::io::Cursor;
use std::path::Path;

/// A target: feeds the bytes to its parser; `true` when the parser accepted them.
pub type Target = fn(&[u8]) -> bool;

/// Every target, by the name of its fuzz target and seed folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("idx", idx),
    ("gnt", gnt),
    ("pot", pot),
    ("csv_index", csv_index),
    ("image", image),
    ("strokes_json", strokes_json),
    ("bundle", bundle),
    ("model_spec", model_spec),
    ("v2_infer", v2_infer),
    ("packed", packed),
    ("stroke_library", stroke_library),
];

/// The `[c, h, w]` input of the model that `v2_infer` checks requests against: small, so that
/// the fuzzer can write requests that fill it.
pub const V2_MODEL_INPUT: [usize; 3] = [1, 2, 3];

/// Specs with at most this many parameters are also built (and their weights round-tripped)
/// by `model_spec`; larger valid ones are only checked, to keep executions fast.
const SPEC_BUILD_BUDGET: usize = 1 << 16;

/// The limit `inkstone serve` applies by default to uploaded images (a local `predict` allows
/// more; the decoders and checks are the same).
fn serve_max_pixels() -> u64 {
    ServeConfig::default().max_pixels
}

/// IDX images and labels (`crates/data/src/idx.rs`), plain or gzipped.
pub fn idx(data: &[u8]) -> bool {
    let mut accepted = false;
    if let Ok(images) = idx::parse_images(Cursor::new(data), Path::new("fuzz-images-idx3")) {
        let count = images.count();
        for i in 0..count {
            assert_eq!(images.image(i).len(), images.rows * images.cols);
        }
        let back = idx::parse_images(Cursor::new(idx::encode_images(&images)), Path::new("again"))
            .expect("encoded images read back");
        assert_eq!(back, images);
        accepted = true;
    }
    if let Ok(labels) = idx::parse_labels(Cursor::new(data), Path::new("fuzz-labels-idx1")) {
        let back = idx::parse_labels(Cursor::new(idx::encode_labels(&labels)), Path::new("again"))
            .expect("encoded labels read back");
        assert_eq!(back, labels);
        accepted = true;
    }
    accepted
}

/// CASIA `.gnt` offline records (`crates/data/src/gnt.rs`); accepted records are written back
/// and must read back identical.
pub fn gnt(data: &[u8]) -> bool {
    let mut writer = GntWriter::new(Vec::new(), "again.gnt");
    let mut records = Vec::new();
    let mut accepted = true;
    for record in GntReader::new(Cursor::new(data), "fuzz.gnt") {
        let Ok(record) = record else {
            accepted = false;
            break;
        };
        let _ = record.label();
        writer
            .write(record.tag, &record.image)
            .expect("a record read is writable");
        records.push(record);
    }
    let bytes = writer.finish().expect("in-memory writer");
    let back: Vec<_> = GntReader::new(Cursor::new(bytes), "again.gnt")
        .collect::<Result<_, _>>()
        .expect("written records read back");
    assert_eq!(back, records);
    accepted
}

/// CASIA `.pot` online records (`crates/data/src/pot.rs`): parse, label, render, write back.
pub fn pot(data: &[u8]) -> bool {
    let mut writer = PotWriter::new(Vec::new(), "again.pot");
    let mut records = Vec::new();
    let mut accepted = true;
    for record in PotReader::new(Cursor::new(data), "fuzz.pot") {
        let Ok(record) = record else {
            accepted = false;
            break;
        };
        let _ = record.label();
        let image = record.render(24);
        assert_eq!(image.dimensions(), (24, 24));
        writer
            .write(record.tag, &record.strokes)
            .expect("a record read is writable");
        records.push(record);
    }
    let bytes = writer.finish().expect("in-memory writer");
    let back: Vec<_> = PotReader::new(Cursor::new(bytes), "again.pot")
        .collect::<Result<_, _>>()
        .expect("written records read back");
    // Offsets may differ: a final stroke without its (-1, 0) is read, and written with one.
    let content =
        |r: &Vec<PotRecord>| -> Vec<_> { r.iter().map(|r| (r.tag, r.strokes.clone())).collect() };
    assert_eq!(content(&back), content(&records));
    accepted
}

/// The CSV index of an image folder (`crates/data/src/image_folder.rs`), whole and one split.
pub fn csv_index(data: &[u8]) -> bool {
    let name = Path::new("fuzz/index.csv");
    let read = |split| read_csv_index_from(Cursor::new(data), name, split);
    if let Ok(files) = read(Some("train")) {
        assert!(!files.is_empty(), "an accepted index lists samples");
    }
    match read(None) {
        Ok(files) => {
            assert!(!files.is_empty(), "an accepted index lists samples");
            true
        }
        Err(_) => false,
    }
}

/// Image decoding through our limits (`crates/data/src/image_file.rs`), with the service's
/// default pixel limit.
pub fn image(data: &[u8]) -> bool {
    let Ok(gray) = decode_gray_within(data, serve_max_pixels()) else {
        return false;
    };
    let (w, h) = gray.dimensions();
    assert!(u64::from(w) * u64::from(h) <= serve_max_pixels());
    true
}

/// A `/v1` predict request's JSON strokes (`crates/serve/src/input.rs`), validated and drawn
/// by `crates/data/src/strokes.rs`.
pub fn strokes_json(data: &[u8]) -> bool {
    StrokesBody::parse(data)
        .and_then(|body| {
            Payload::Strokes(body)
                .into_image(serve_max_pixels(), inkstone_data::strokes::DEFAULT_PEN)
        })
        .is_ok()
}

/// A model bundle (`crates/model/src/bundle.rs`): safetensors, metadata JSON, and the check
/// that builds the network with the file's weights.
pub fn bundle(data: &[u8]) -> bool {
    let Ok(bundle) = Bundle::from_bytes(data, Path::new("fuzz.inkstone")) else {
        return false;
    };
    assert_eq!(bundle.charset.len(), bundle.spec.classes);
    true
}

/// A `ModelSpec` as JSON (`crates/model/src/spec.rs`): parse and validate, summarise, and for
/// small specs build the network and round-trip its weights.
pub fn model_spec(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(spec) = ModelSpec::from_json(text) else {
        return false;
    };
    let summary = Summary::of(&spec).expect("an accepted spec has a summary");
    let _ = summary.to_string();
    if summary.params() <= SPEC_BUILD_BUDGET {
        let device = Default::default();
        let net = Network::<Flex>::new(&spec, &device).expect("an accepted spec builds");
        let weights = net.weights();
        let trainable: usize = weights
            .iter()
            .filter(|(name, _)| !name.ends_with("running_mean") && !name.ends_with("running_var"))
            .map(|(_, t)| t.values.len())
            .sum();
        assert_eq!(
            trainable,
            summary.params(),
            "summary counts the built network"
        );
        Network::<Flex>::new(&spec, &device)
            .expect("an accepted spec builds")
            .with_weights(weights)
            .expect("a network takes its own weights");
    }
    true
}

/// A KServe v2 infer request body (`crates/serve/src/v2.rs`) for a `[1, 2, 3]`-input model.
pub fn v2_infer(data: &[u8]) -> bool {
    let Ok(request) = parse_infer(data, V2_MODEL_INPUT) else {
        return false;
    };
    let [c, h, w] = V2_MODEL_INPUT;
    assert!(request.batch >= 1);
    assert_eq!(request.values.len(), request.batch * c * h * w);
    assert!(request.values.iter().all(|v| v.is_finite()));
    assert!(!request.outputs.is_empty());
    true
}

/// A packed `.inkd` dataset (`crates/data/src/packed.rs`) held in memory.
pub fn packed(data: &[u8]) -> bool {
    let Ok(set) = PackedSet::from_bytes(data.to_vec(), Path::new("fuzz.inkd")) else {
        return false;
    };
    let side = set.side();
    for i in 0..set.len() {
        assert!((set.label(i) as usize) < set.classes());
        assert_eq!(set.image(i).dimensions(), (side, side));
    }
    assert_eq!(set.class_counts().iter().sum::<usize>(), set.len());
    true
}

/// The synthesizer's stroke library file (`crates/data/src/synth/library.rs`), gzipped or
/// plain; an accepted file written back must read back the same.
pub fn stroke_library(data: &[u8]) -> bool {
    let Ok(library) = StrokeLibrary::from_bytes(data, Path::new("fuzz-strokes.bin")) else {
        return false;
    };
    let bytes = library.to_bytes().expect("a library read is writable");
    let back = StrokeLibrary::from_bytes(&bytes, Path::new("again")).expect("written reads back");
    assert_eq!(back.len(), library.len());
    if !library.is_empty() {
        // Same bytes again: the format is canonical (codepoint order, exact coordinates).
        assert_eq!(back.to_bytes().expect("writable"), bytes);
    }
    true
}
