//! Writes the hand-made fuzz seeds into `fuzz/seeds/<target>/`: for each parser a few small
//! valid files made with the crates' own writers, and a few broken ones (truncated, lying
//! headers, wrong fields). Files are named `valid-*` and `broken-*`, so this can be re-run at
//! any time without touching the minimised corpus entries kept beside them (named by hash).
//!
//! `cargo run --release -p inkstone-fuzz-targets --example make_seeds [-- OUT_DIR]`

use flate2::{write::GzEncoder, Compression};
use image::{DynamicImage, GrayImage, ImageFormat, Luma, LumaA, Rgb, RgbImage};
use inkstone_data::gnt::GntWriter;
use inkstone_data::idx::{self, IdxImages};
use inkstone_data::packed::{PackWriter, PackedMeta};
use inkstone_data::pot::PotWriter;
use inkstone_data::synth::library::StrokeLibrary;
use inkstone_data::{Charset, Recipe};
use inkstone_model::builtin::{builtin, default_side, BUILTIN_NAMES};
use inkstone_model::{Bundle, Layer, ModelSpec};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

const SEED_LIMIT: usize = 64 << 10;

struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    fn put(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        assert!(bytes.len() <= SEED_LIMIT, "{name}: {} bytes", bytes.len());
        std::fs::write(self.dir.join(name), bytes).expect("seed written");
        self.written += 1;
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn with<T>(mut v: Vec<u8>, edit: impl FnOnce(&mut Vec<u8>) -> T) -> Vec<u8> {
    edit(&mut v);
    v
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds"));
    let mut total = 0;
    type Maker = fn(&mut Seeds);
    let makers: &[(&str, Maker)] = &[
        ("idx", idx_seeds),
        ("gnt", gnt_seeds),
        ("pot", pot_seeds),
        ("csv_index", csv_seeds),
        ("image", image_seeds),
        ("strokes_json", strokes_seeds),
        ("bundle", bundle_seeds),
        ("model_spec", spec_seeds),
        ("v2_infer", v2_seeds),
        ("packed", packed_seeds),
        ("stroke_library", library_seeds),
    ];
    for (target, make) in makers {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let mut seeds = Seeds { dir, written: 0 };
        make(&mut seeds);
        println!("{target}: {} seeds", seeds.written);
        total += seeds.written;
    }
    println!("{total} seeds under {}", root.display());
}

fn idx_seeds(s: &mut Seeds) {
    let images = IdxImages {
        rows: 2,
        cols: 3,
        pixels: (0..18).collect(),
    };
    let img = idx::encode_images(&images);
    let labels = idx::encode_labels(&[1, 2, 3]);
    s.put("valid-images.idx3", &img);
    s.put("valid-images.idx3.gz", gzip(&img));
    s.put("valid-labels.idx1", &labels);
    s.put("valid-labels.idx1.gz", gzip(&labels));
    s.put("broken-truncated.idx3", &img[..img.len() - 1]);
    s.put("broken-header-only.idx3", &img[..6]);
    s.put("broken-trailing.idx1", with(labels.clone(), |v| v.push(9)));
    s.put(
        "broken-liar.idx1",
        with(labels.clone(), |v| {
            v[4..8].copy_from_slice(&u32::MAX.to_be_bytes())
        }),
    );
    s.put(
        "broken-zero-rows.idx3",
        with(img.clone(), |v| {
            v[8..12].copy_from_slice(&0u32.to_be_bytes())
        }),
    );
    s.put("broken-truncated.idx1.gz", {
        let gz = gzip(&labels);
        gz[..gz.len() - 3].to_vec()
    });
}

fn gnt_seeds(s: &mut Seeds) {
    let mut w = GntWriter::new(Vec::new(), "seed.gnt");
    w.write_char(
        '啊',
        &GrayImage::from_fn(3, 2, |x, y| Luma([(x * 40 + y * 90) as u8])),
    )
    .unwrap();
    w.write([0, b'a'], &GrayImage::from_pixel(1, 1, Luma([0])))
        .unwrap();
    let two = w.finish().unwrap();
    s.put("valid-two-records.gnt", &two);
    s.put("broken-truncated.gnt", &two[..two.len() - 2]);
    s.put("broken-short-header.gnt", &two[..7]);
    s.put("broken-size-field.gnt", with(two.clone(), |v| v[0] ^= 1));
    s.put(
        "broken-zero-width.gnt",
        with(two.clone(), |v| v[6..8].fill(0)),
    );
    // A 65535×65535 header with a consistent size field and no pixels behind it.
    let mut huge = Vec::new();
    huge.extend_from_slice(&(10u32 + 65535 * 65535).to_le_bytes());
    huge.extend_from_slice(&[0xb0, 0xa1, 0xff, 0xff, 0xff, 0xff]);
    huge.extend_from_slice(&[255; 16]);
    s.put("broken-huge-header.gnt", huge);
}

fn pot_seeds(s: &mut Seeds) {
    let mut w = PotWriter::new(Vec::new(), "seed.pot");
    w.write_char('一', &[vec![[100.0, 500.0], [900.0, 480.0]]])
        .unwrap();
    w.write(
        [0, b'7', 0, 0],
        &[
            vec![[0.0, 0.0], [30.0, 0.0], [10.0, 40.0]],
            vec![[-5.0, 20.0]],
        ],
    )
    .unwrap();
    let two = w.finish().unwrap();
    s.put("valid-two-records.pot", &two);
    let first = usize::from(u16::from_le_bytes([two[0], two[1]]));
    s.put("broken-truncated.pot", &two[..two.len() - 3]);
    s.put("broken-one-byte.pot", &two[..1]);
    s.put("broken-stroke-count.pot", with(two.clone(), |v| v[6] = 5));
    s.put("broken-size-field.pot", with(two.clone(), |v| v[0] += 4));
    // The first record's end marker (-1, -1) turned into a stroke end (-1, 0).
    s.put(
        "broken-no-end-marker.pot",
        with(two[..first].to_vec(), |v| {
            let n = v.len();
            v[n - 2..].copy_from_slice(&0i16.to_le_bytes());
        }),
    );
    s.put("broken-tiny-size.pot", [4, 0, 1, 2]);
    // A last stroke not closed by (-1, 0) before the (-1, -1) end is read as a stroke (found
    // by the fuzzer: written back, it gains the (-1, 0) and the offsets shift).
    let mut open = Vec::new();
    open.extend_from_slice(&24u16.to_le_bytes());
    open.extend_from_slice(&[0xbb, 0xd2, 0, 0]); // 一 (GB2312 D2 BB), little-endian
    open.extend_from_slice(&1u16.to_le_bytes());
    for [x, y] in [[89i16, 0], [0, 0], [-1, 8192], [-1, -1]] {
        open.extend_from_slice(&x.to_le_bytes());
        open.extend_from_slice(&y.to_le_bytes());
    }
    s.put("valid-open-last-stroke.pot", open);
}

fn csv_seeds(s: &mut Seeds) {
    s.put(
        "valid-split.csv",
        "label,path,split\n一,img/1.png,train\n二,img/2.png,test\n啊,img/3.png,train\n",
    );
    s.put("valid-no-split.csv", "path,label\na.png,0\nb.png,1\n");
    s.put(
        "valid-quoted-crlf.csv",
        "\"path\" , label ,extra\r\n\"dir with, comma/x.png\",\"7\",\"\"\"q\"\"\"\r\n y.png , 8 ,\r\n",
    );
    s.put("broken-no-label.csv", "file,class\nx,y\n");
    s.put("broken-header-only.csv", "path,label\n");
    s.put(
        "broken-ragged.csv",
        "path,label,split\na.png,1,train\nb.png\n",
    );
    s.put("broken-not-utf8.csv", b"path,label\n\xff\xfe.png,1\n");
    s.put("broken-empty.csv", b"");
}

fn encode(img: DynamicImage, format: ImageFormat) -> Option<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).ok()?;
    Some(out.into_inner())
}

fn image_seeds(s: &mut Seeds) {
    let gray = GrayImage::from_fn(8, 6, |x, y| Luma([(x * 30 + y * 10) as u8]));
    let rgb = RgbImage::from_fn(7, 5, |x, y| Rgb([(x * 30) as u8, (y * 40) as u8, 128]));
    let alpha = image::ImageBuffer::from_fn(4, 4, |x, y| LumaA([(x * 60) as u8, (y * 80) as u8]));
    let formats = [
        ("png", ImageFormat::Png),
        ("jpg", ImageFormat::Jpeg),
        ("bmp", ImageFormat::Bmp),
        ("gif", ImageFormat::Gif),
        ("webp", ImageFormat::WebP),
        ("tiff", ImageFormat::Tiff),
    ];
    for (ext, format) in formats {
        if let Some(bytes) = encode(DynamicImage::ImageLuma8(gray.clone()), format) {
            s.put(&format!("valid-gray.{ext}"), bytes);
        }
        if let Some(bytes) = encode(DynamicImage::ImageRgb8(rgb.clone()), format) {
            s.put(&format!("valid-rgb.{ext}"), bytes);
        }
    }
    let png_alpha = encode(DynamicImage::ImageLumaA8(alpha), ImageFormat::Png).unwrap();
    s.put("valid-alpha.png", &png_alpha);
    let png16 = encode(
        DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(3, 3, Luma([40000u16]))),
        ImageFormat::Png,
    )
    .unwrap();
    s.put("valid-16bit.png", png16);
    s.put("broken-truncated.png", &png_alpha[..png_alpha.len() / 2]);
    // A valid PNG header claiming 20000×20000 pixels, with no pixel data behind it.
    let mut huge = encode(
        DynamicImage::ImageLuma8(GrayImage::new(1, 1)),
        ImageFormat::Png,
    )
    .unwrap();
    huge[16..20].copy_from_slice(&20000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&20000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    s.put("broken-huge-header.png", huge);
    let jpg = encode(DynamicImage::ImageRgb8(rgb), ImageFormat::Jpeg).unwrap();
    s.put("broken-truncated.jpg", &jpg[..jpg.len() * 2 / 3]);
    s.put("broken-garbage.bin", b"hello, not an image");
}

fn strokes_seeds(s: &mut Seeds) {
    s.put("valid-line.json", r#"{"strokes":[[[0,0],[10,10]]]}"#);
    s.put(
        "valid-pen-top-k.json",
        r#"{"strokes":[[[1.5,2],[3,4],[8,1]],[[5,5]]],"pen":0.1,"top_k":3}"#,
    );
    s.put("valid-dot.json", r#"{"strokes":[[[3,3]]],"pen":0.5}"#);
    s.put("broken-no-points.json", r#"{"strokes":[[]]}"#);
    s.put("broken-huge-coordinate.json", r#"{"strokes":[[[1e39,0]]]}"#);
    s.put("broken-pen.json", r#"{"strokes":[[[1,1]]],"pen":5}"#);
    s.put(
        "broken-unknown-field.json",
        r#"{"strokes":[],"colour":"red"}"#,
    );
    s.put("broken-not-json.json", "strokes: [[0, 0]]");
}

/// A small spec with every layer kind, on 4×4 input, 3 classes.
fn tiny_spec() -> ModelSpec {
    ModelSpec {
        name: "tiny".into(),
        input: [1, 4, 4],
        classes: 3,
        layers: vec![
            Layer::Conv {
                out: 2,
                kernel: 3,
                stride: 1,
                padding: 1,
                bias: true,
            },
            Layer::BatchNorm,
            Layer::Relu,
            Layer::MaxPool {
                kernel: 2,
                stride: 2,
                padding: 0,
            },
            Layer::Residual { out: 3, stride: 1 },
            Layer::GlobalAvgPool,
            Layer::Flatten,
            Layer::Dropout { p: 0.1 },
            Layer::Linear { out: 3 },
        ],
    }
}

fn tiny_recipe() -> Recipe {
    Recipe::preset("mnist", Some(4)).unwrap()
}

fn abc() -> Charset {
    Charset::new("abc", vec!["a".into(), "b".into(), "c".into()])
}

fn bundle_bytes(bundle: &Bundle) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.inkstone");
    bundle.save(&path).unwrap();
    std::fs::read(path).unwrap()
}

fn bundle_seeds(s: &mut Seeds) {
    let tiny = Bundle::untrained(tiny_spec(), tiny_recipe(), abc()).unwrap();
    let good = bundle_bytes(&tiny);
    s.put("valid-tiny.inkstone", &good);
    let linear = ModelSpec {
        name: "linear".into(),
        input: [1, 2, 2],
        classes: 2,
        layers: vec![Layer::Flatten, Layer::Linear { out: 2 }],
    };
    let recipe = Recipe::preset("mnist", Some(2)).unwrap();
    let charset = Charset::new("ab", vec!["a".into(), "b".into()]);
    let small =
        bundle_bytes(&Bundle::untrained(linear.clone(), recipe.clone(), charset.clone()).unwrap());
    s.put("valid-linear.inkstone", &small);
    // Parts that disagree, saved without the checks that `Bundle::new` makes.
    let mut absurd = Bundle::untrained(linear, recipe, charset).unwrap();
    absurd.spec.layers = vec![
        Layer::Flatten,
        Layer::Linear { out: 1 << 20 },
        Layer::Linear { out: 2 },
    ];
    s.put("broken-absurd-spec.inkstone", bundle_bytes(&absurd));
    let mut wrong_charset = tiny.clone();
    wrong_charset.charset = Charset::digits();
    s.put("broken-charset.inkstone", bundle_bytes(&wrong_charset));
    let mut wrong_weights = tiny;
    wrong_weights.weights.pop_first();
    s.put(
        "broken-missing-tensor.inkstone",
        bundle_bytes(&wrong_weights),
    );
    s.put("broken-truncated.inkstone", &good[..good.len() - 5]);
    s.put(
        "broken-no-format.inkstone",
        b"\x02\x00\x00\x00\x00\x00\x00\x00{}",
    );
    s.put("broken-garbage.inkstone", b"garbage");
}

fn spec_seeds(s: &mut Seeds) {
    for name in BUILTIN_NAMES {
        let spec = builtin(name, 10, default_side(name)).unwrap();
        s.put(
            &format!("valid-{name}.json"),
            serde_json::to_string(&spec).unwrap(),
        );
    }
    s.put(
        "valid-tiny.json",
        serde_json::to_string(&tiny_spec()).unwrap(),
    );
    s.put(
        "valid-defaults.json",
        r#"{"name":"d","input":[1,8,8],"classes":3,"layers":[{"kind":"conv","out":4,"kernel":3,"padding":1},{"kind":"relu"},{"kind":"max_pool","kernel":2,"stride":2},{"kind":"flatten"},{"kind":"linear","out":3}]}"#,
    );
    let broken = [
        (
            "no-flatten",
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"linear","out":3}]}"#,
        ),
        (
            "wrong-end",
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"flatten"}]}"#,
        ),
        (
            "kernel-too-big",
            r#"{"name":"m","input":[1,2,2],"classes":3,"layers":[{"kind":"conv","out":1,"kernel":5}]}"#,
        ),
        (
            "unknown-kind",
            r#"{"name":"m","input":[1,2,2],"classes":3,"layers":[{"kind":"lstm"}]}"#,
        ),
        (
            "absurd-out",
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"conv","out":1000000000000,"kernel":3},{"kind":"flatten"},{"kind":"linear","out":3}]}"#,
        ),
        (
            "absurd-linear",
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"flatten"},{"kind":"linear","out":100000000000},{"kind":"linear","out":3}]}"#,
        ),
        (
            "absurd-padding",
            r#"{"name":"m","input":[1,8,8],"classes":3,"layers":[{"kind":"conv","out":1,"kernel":3,"padding":18446744073709551615,"stride":18446744073709551615},{"kind":"flatten"},{"kind":"linear","out":3}]}"#,
        ),
        (
            "absurd-input",
            r#"{"name":"m","input":[1000000,1000000,1000000],"classes":3,"layers":[{"kind":"global_avg_pool"},{"kind":"flatten"},{"kind":"linear","out":3}]}"#,
        ),
        (
            "zero-out",
            r#"{"name":"m","input":[1,4,4],"classes":3,"layers":[{"kind":"conv","out":0,"kernel":3},{"kind":"flatten"},{"kind":"linear","out":3}]}"#,
        ),
        (
            "dropout-p",
            r#"{"name":"m","input":[1,2,2],"classes":4,"layers":[{"kind":"flatten"},{"kind":"dropout","p":1.5}]}"#,
        ),
        (
            "zero-stride",
            r#"{"name":"m","input":[1,4,4],"classes":4,"layers":[{"kind":"max_pool","kernel":2,"stride":0},{"kind":"flatten"}]}"#,
        ),
        (
            "extra-field",
            r#"{"name":"m","input":[1,2,2],"classes":4,"layers":[{"kind":"flatten"},{"kind":"linear","out":4,"bias":false}]}"#,
        ),
    ];
    for (name, text) in broken {
        s.put(&format!("broken-{name}.json"), text);
    }
}

fn v2_seeds(s: &mut Seeds) {
    s.put(
        "valid-flat.json",
        r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5.5]}]}"#,
    );
    s.put(
        "valid-nested-outputs.json",
        r#"{"id":"r1","inputs":[{"name":"input","shape":[2,1,2,3],"datatype":"FP32","data":[[[[0,1,2],[3,4,5]]],[[[-1,-2,-3],[1e-3,2e3,0]]]]}],"outputs":[{"name":"logits"},{"name":"probabilities"}]}"#,
    );
    let broken = [
        (
            "shape",
            r#"{"inputs":[{"name":"input","shape":[1,1,3,2],"datatype":"FP32","data":[0,1,2,3,4,5]}]}"#,
        ),
        (
            "datatype",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"INT8","data":[0,1,2,3,4,5]}]}"#,
        ),
        (
            "name",
            r#"{"inputs":[{"name":"x","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5]}]}"#,
        ),
        (
            "too-many",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5,6]}]}"#,
        ),
        (
            "too-few",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1]}]}"#,
        ),
        (
            "string",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":["0",1,2,3,4,5]}]}"#,
        ),
        (
            "not-finite",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[1e39,1,2,3,4,5]}]}"#,
        ),
        (
            "two-inputs",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5]},{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5]}]}"#,
        ),
        (
            "unknown-output",
            r#"{"inputs":[{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":[0,1,2,3,4,5]}],"outputs":[{"name":"features"}]}"#,
        ),
        (
            "batch-too-big",
            r#"{"inputs":[{"name":"input","shape":[257,1,2,3],"datatype":"FP32","data":[]}]}"#,
        ),
        (
            "negative-batch",
            r#"{"inputs":[{"name":"input","shape":[-1,1,2,3],"datatype":"FP32","data":[]}]}"#,
        ),
        (
            "deep",
            &format!(
                r#"{{"inputs":[{{"name":"input","shape":[1,1,2,3],"datatype":"FP32","data":{}0{}}}]}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
        ),
    ];
    for (name, text) in broken {
        s.put(&format!("broken-{name}.json"), text);
    }
}

fn packed_seeds(s: &mut Seeds) {
    let meta = PackedMeta {
        charset: abc(),
        recipe: tiny_recipe(),
        source: "seed".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.inkd");
    let mut w = PackWriter::create(&path, &meta).unwrap();
    for label in [0, 2, 1] {
        w.push(
            label,
            &GrayImage::from_fn(4, 4, |x, y| Luma([(x * y * 15) as u8 + label as u8])),
        )
        .unwrap();
    }
    w.finish().unwrap();
    let good = std::fs::read(&path).unwrap();
    s.put("valid-three.inkd", &good);
    let records = good.len() - 3 * (4 + 16);
    s.put(
        "valid-empty.inkd",
        with(good[..records].to_vec(), |v| v[16..24].fill(0)),
    );
    s.put("broken-truncated.inkd", &good[..good.len() - 1]);
    s.put("broken-short.inkd", &good[..10]);
    s.put("broken-magic.inkd", with(good.clone(), |v| v[0] = b'X'));
    s.put("broken-version.inkd", with(good.clone(), |v| v[4] = 2));
    s.put(
        "broken-count.inkd",
        with(good.clone(), |v| {
            v[16..24].copy_from_slice(&u64::MAX.to_le_bytes())
        }),
    );
    s.put(
        "broken-side.inkd",
        with(good.clone(), |v| {
            v[8..12].copy_from_slice(&65535u32.to_le_bytes())
        }),
    );
    s.put(
        "broken-meta-len.inkd",
        with(good.clone(), |v| {
            v[24..28].copy_from_slice(&u32::MAX.to_le_bytes())
        }),
    );
    s.put(
        "broken-label.inkd",
        with(good.clone(), |v| {
            v[records..records + 4].copy_from_slice(&99u32.to_le_bytes())
        }),
    );
    s.put("broken-meta.inkd", with(good, |v| v[30] = b'#'));
}

fn library_seeds(s: &mut Seeds) {
    let lib = StrokeLibrary::from_strokes([
        ('一', vec![vec![[100.0, 500.0], [900.0, 480.0]]]),
        (
            '丨',
            vec![vec![[512.0, 80.0], [512.0, 940.0], [508.0, 1020.0]]],
        ),
        (
            '二',
            vec![
                vec![[300.0, 300.0], [700.0, 300.0]],
                vec![[100.0, 700.0], [900.0, 700.0]],
            ],
        ),
    ]);
    let good = lib.to_bytes().unwrap();
    s.put("valid-three.bin", &good);
    s.put("valid-three.bin.gz", gzip(&good));
    s.put(
        "valid-empty.bin",
        with(good[..10].to_vec(), |v| v[6..10].fill(0)),
    );
    s.put("broken-truncated.bin", &good[..good.len() - 3]);
    s.put(
        "broken-count.bin",
        with(good.clone(), |v| {
            v[6..10].copy_from_slice(&u32::MAX.to_le_bytes())
        }),
    );
    s.put("broken-zero-points.bin", with(good.clone(), |v| v[15] = 0));
    s.put(
        "broken-not-char.bin",
        with(good.clone(), |v| {
            v[10..14].copy_from_slice(&0xD800u32.to_le_bytes())
        }),
    );
    s.put("broken-trailing.bin", with(good.clone(), |v| v.push(7)));
    s.put("broken-version.bin", with(good.clone(), |v| v[4] = 9));
    // The first character listed twice (and the count raised to match).
    let first_len = 4 + 1 + 1 + 2 * 2;
    s.put(
        "broken-duplicate.bin",
        with(good.clone(), |v| {
            let first = v[10..10 + first_len].to_vec();
            v.extend_from_slice(&first);
            v[6..10].copy_from_slice(&4u32.to_le_bytes());
        }),
    );
    let gz = gzip(&good);
    s.put("broken-truncated.bin.gz", &gz[..gz.len() / 2]);
    s.put("broken-magic.bin", b"PK\x03\x04rest");
}
