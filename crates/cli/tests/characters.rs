//! Chinese characters through the binary: CASIA `.gnt` files made by our writer from
//! synthetic handwriting → `data pack` → `data info` → `data synth` → `train` → `eval` →
//! `predict`, plus the bad-input cases of the CASIA readers and the synthesiser.

mod common;
use common::*;
use image::GrayImage;
use inkstone_data::gnt::GntWriter;
use inkstone_data::synth::{SynthStyle, Synthesizer};
use rand::SeedableRng;
use std::path::{Path, PathBuf};

const CHARS: [char; 5] = ['永', '和', '九', '人', '口'];

fn synth_image(ch: char, seed: u64) -> GrayImage {
    let synth = Synthesizer::embedded(SynthStyle::default());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    synth
        .render(&ch.to_string(), &mut rng, 80)
        .expect("has strokes")
}

/// A `.gnt` of `per_char` synthetic samples of each of `chars`, plus the charset file.
fn gnt_file(dir: &Path, name: &str, chars: &[char], per_char: u64) -> PathBuf {
    let path = dir.join(name);
    let mut w = GntWriter::create(&path).unwrap();
    for k in 0..per_char {
        for &ch in chars {
            w.write_char(ch, &synth_image(ch, k * 31 + ch as u64))
                .unwrap();
        }
    }
    w.finish().unwrap();
    path
}

fn charset_file(dir: &Path) -> PathBuf {
    let path = dir.join("five.txt");
    let text: String = CHARS.iter().map(|c| format!("{c}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn gnt_to_packed_to_trained_model_to_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gnt = gnt_file(d, "train.gnt", &CHARS, 8);
    let charset = charset_file(d);
    let train = d.join("train.inkd");
    let out = inkstone(&[
        "data",
        "pack",
        "--from",
        "gnt",
        s(&gnt),
        "--charset",
        s(&charset),
        "--input",
        "32",
        "-o",
        s(&train),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("40 samples, 5 classes (five)"),
        "{}",
        stdout(&out)
    );

    let grid = d.join("grid.png");
    let out = inkstone(&["data", "info", s(&train), "--grid", s(&grid), "--rows", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("永 8, 和 8, 九 8, 人 8, 口 8"),
        "{}",
        stdout(&out)
    );
    let png = image::open(&grid).unwrap();
    assert_eq!(png.height(), 5 * 66 + 2, "one row per class");
    let labels = std::fs::read_to_string(d.join("grid.labels.txt")).unwrap();
    assert!(labels.contains("row 4: class 4 口"), "{labels}");

    let test = d.join("test.inkd");
    let out = inkstone(&[
        "data",
        "synth",
        "--charset",
        s(&charset),
        "--per-class",
        "4",
        "--input",
        "32",
        "--seed",
        "7",
        "-o",
        s(&test),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("20 samples of 5 classes"),
        "{}",
        stdout(&out)
    );

    let run = d.join("run");
    let out = inkstone(&[
        "train",
        "--model",
        "lenet5",
        "--data",
        s(&train),
        "--test-data",
        s(&test),
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundle = run.join("best.inkstone");
    let loaded = inkstone_model::Bundle::load(&bundle).unwrap();
    assert_eq!(loaded.charset.symbols, ["永", "和", "九", "人", "口"]);
    assert_eq!(loaded.recipe.input_size, 32);
    assert_eq!(loaded.spec.classes, 5);

    // The raw .gnt evaluates through the bundle's own classes and recipe.
    let out = inkstone(&["eval", s(&bundle), "--data", s(&gnt), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let eval: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(eval["samples"], 40);

    let photo = d.join("yong.png");
    synth_image('永', 999).save(&photo).unwrap();
    let out = inkstone(&["predict", s(&bundle), s(&photo), "--json", "--top-k", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for ch in CHARS {
        assert!(
            stdout(&out).contains(ch),
            "top-5 of 5 classes names {ch}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn bad_casia_files_and_labels_fail_cleanly_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let charset = charset_file(d);
    let out_path = d.join("out.inkd");
    let pack = |src: &Path, extra: &[&str]| {
        let mut args = vec![
            "data",
            "pack",
            s(src),
            "--charset",
            s(&charset),
            "-o",
            s(&out_path),
        ];
        args.extend_from_slice(extra);
        inkstone(&args)
    };

    // Truncated last record: the error names the file and the record's offset.
    let gnt = gnt_file(d, "cut.gnt", &CHARS, 1);
    let bytes = std::fs::read(&gnt).unwrap();
    std::fs::write(&gnt, &bytes[..bytes.len() - 10]).unwrap();
    let out = pack(&gnt, &[]);
    assert_fails_with(&out, &["cut.gnt", "byte"]);
    assert!(!out_path.exists(), "no half-written pack");

    // A 65535×65535 header in a small file.
    let huge = d.join("huge.gnt");
    let mut rec = (10u32 + 65535 * 65535).to_le_bytes().to_vec();
    rec.extend_from_slice(&[0xB0, 0xA1, 0xFF, 0xFF, 0xFF, 0xFF]);
    rec.extend_from_slice(&[255; 100]);
    std::fs::write(&huge, &rec).unwrap();
    assert_fails_with(&pack(&huge, &[]), &["huge.gnt", "byte 0"]);

    // A tag outside the charset: an error naming it, or a counted skip.
    let other = gnt_file(d, "other.gnt", &['永', '啊'], 2);
    let out = pack(&other, &[]);
    assert_fails_with(&out, &["other.gnt", "啊", "--skip-unknown"]);
    assert!(!out_path.exists());
    let out = pack(&other, &["--skip-unknown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipped 2 records"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("2 samples"), "{}", stdout(&out));

    // Symbols the synthesiser cannot draw.
    let latin = d.join("latin.txt");
    std::fs::write(&latin, "A\n永\n").unwrap();
    let out = inkstone(&[
        "data",
        "synth",
        "--charset",
        s(&latin),
        "-o",
        s(&d.join("s.inkd")),
    ]);
    assert_fails_with(&out, &["1 of 2 symbols", "A", "--skip-missing"]);
    assert!(!d.join("s.inkd").exists());

    // A packed file whose recipe differs from the model's.
    let a = d.join("a.inkd");
    let ok = gnt_file(d, "ok.gnt", &CHARS, 2);
    assert!(pack(&ok, &["--input", "32"]).status.success());
    std::fs::rename(&out_path, &a).unwrap();
    let out = inkstone(&[
        "train",
        "--model",
        "lenet5",
        "--data",
        s(&a),
        "--test-data",
        s(&ok),
        "--charset",
        s(&charset),
        "--input",
        "40",
        "--epochs",
        "1",
        "--out",
        s(&d.join("run")),
    ]);
    assert_fails_with(&out, &["a.inkd", "recipe"]);
    // A packed file alone has no test split.
    let out = inkstone(&["train", "--data", s(&a), "--epochs", "1"]);
    assert_fails_with(&out, &["a.inkd", "--test-data"]);
}

#[test]
fn real_chinese_mnist_packs_by_writer() {
    let Some(dir) = shared_data("chinese-mnist") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("cm-test.inkd");
    let arg = format!("{}:test", dir.display());
    let out = inkstone(&["data", "pack", &arg, "--input", "32", "-o", s(&out_path)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3000 samples, 15 classes (chinese-numerals), 32² inputs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn online_pot_strokes_are_drawn_and_read_through_the_charset() {
    use inkstone_data::pot::PotWriter;
    use inkstone_data::synth::StrokeLibrary;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let charset = charset_file(d);
    let pot = d.join("online.pot");
    let mut w = PotWriter::create(&pot).unwrap();
    for ch in CHARS {
        let strokes: Vec<Vec<[f32; 2]>> = StrokeLibrary::embedded()
            .get(ch)
            .unwrap()
            .iter()
            .map(|s| s.iter().map(|p| [p[0].round(), p[1].round()]).collect())
            .collect();
        w.write_char(ch, &strokes).unwrap();
    }
    w.finish().unwrap();
    let grid = d.join("pot.png");
    let out = inkstone(&[
        "data",
        "info",
        s(&pot),
        "--charset",
        s(&charset),
        "--grid",
        s(&grid),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("5 samples"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("image width min 128"),
        "drawn at 128 px: {}",
        stdout(&out)
    );
    // The sample cells (right of the label column) hold ink, not blank pages.
    let img = image::open(&grid).unwrap().to_luma8();
    let dark = img
        .enumerate_pixels()
        .filter(|(x, _, p)| *x >= 68 && p.0[0] < 64)
        .count();
    assert!(dark > 500, "{dark} dark pixels");
    let bytes = std::fs::read(&pot).unwrap();
    std::fs::write(&pot, &bytes[..bytes.len() - 3]).unwrap();
    let out = inkstone(&["data", "info", s(&pot), "--charset", s(&charset)]);
    assert_fails_with(&out, &["online.pot", "byte"]);
}

#[test]
fn a_writers_style_given_as_json_or_a_file_changes_the_writing_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let charset = charset_file(d);
    let synth = |out: &Path, style: Option<&str>| {
        let mut args = vec![
            "data",
            "synth",
            "--charset",
            s(&charset),
            "--per-class",
            "3",
            "--input",
            "32",
            "-o",
            s(out),
        ];
        if let Some(style) = style {
            args.extend_from_slice(&["--style", style]);
        }
        inkstone(&args)
    };
    let plain = r#"{"jitter": [0, 0], "elastic": [0, 0], "rotation": 0, "shear": 0}"#;
    let file = d.join("plain.json");
    std::fs::write(&file, plain).unwrap();
    let (default, inline, from_file) = (d.join("a.inkd"), d.join("b.inkd"), d.join("c.inkd"));
    for (out, style) in [
        (&default, None),
        (&inline, Some(plain)),
        (&from_file, Some(s(&file))),
    ] {
        let run = synth(out, style);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(
        bytes(&inline),
        bytes(&from_file),
        "the same style either way"
    );
    assert_ne!(
        bytes(&default),
        bytes(&inline),
        "the style reaches the writer"
    );

    let bad = d.join("bad.inkd");
    assert_fails_with(
        &synth(&bad, Some(r#"{"cursive": [0.9, 0.1]}"#)),
        &["--style", "cursive"],
    );
    assert_fails_with(&synth(&bad, Some(r#"{"curly": 1}"#)), &["--style", "curly"]);
    assert_fails_with(&synth(&bad, Some(s(&d.join("gone.json")))), &["gone.json"]);
    assert!(!bad.exists(), "nothing written for a refused style");

    let out = inkstone(&[
        "train",
        "--data",
        "mnist",
        "--synth-style",
        plain,
        "--out",
        s(&d.join("run")),
    ]);
    assert_fails_with(&out, &["--synth-style", "synth:"]);
    assert!(!d.join("run").exists());
}
