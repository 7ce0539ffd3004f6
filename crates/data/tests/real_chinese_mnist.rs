//! The Chinese MNIST reader on the real 15 000 JPEGs in `../shared/data/chinese-mnist`
//! (skipped, with a message, where that folder is absent).

use inkstone_data::chinese_mnist::{self, is_test_writer};
use inkstone_data::packed::{PackWriter, PackedSet};
use inkstone_data::Recipe;
use inkstone_data::Split;
use std::collections::HashSet;
use std::path::PathBuf;

fn shared_chinese_mnist() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/chinese-mnist");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is absent (CI provides it)", dir.display());
        None
    }
}

#[test]
fn splits_are_by_writer_and_cover_every_file() {
    let Some(dir) = shared_chinese_mnist() else {
        return;
    };
    let train = chinese_mnist::files(&dir, Split::Train).unwrap();
    let test = chinese_mnist::files(&dir, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (12_000, 3_000));
    let writer = |p: &PathBuf| -> u32 {
        let name = p.file_name().unwrap().to_str().unwrap();
        name.split('_').nth(1).unwrap().parse().unwrap()
    };
    let train_writers: HashSet<u32> = train.iter().map(|f| writer(&f.path)).collect();
    let test_writers: HashSet<u32> = test.iter().map(|f| writer(&f.path)).collect();
    assert_eq!((train_writers.len(), test_writers.len()), (80, 20));
    assert!(train_writers.is_disjoint(&test_writers));
    assert!(test_writers.iter().all(|&w| is_test_writer(w)));
    assert!(train.iter().chain(&test).all(|f| f.path.is_file()));
}

#[test]
fn test_split_decodes_balanced_and_packs() {
    let Some(dir) = shared_chinese_mnist() else {
        return;
    };
    let test = chinese_mnist::load(&dir, Split::Test).unwrap();
    assert_eq!(test.charset.len(), 15);
    assert_eq!(test.class_counts(), vec![200; 15]);
    assert!(test
        .samples
        .iter()
        .all(|s| s.image.dimensions() == (64, 64)));
    // The CSV's character column agrees with its value column through the charset:
    // 十 is class 10, 亿 class 14.
    assert_eq!(test.charset.symbol(10), "十");
    let recipe = Recipe::characters(32);
    let set = PackedSet::prepare(&test, &recipe, "chinese-mnist:test");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cm.inkd");
    let mut w = PackWriter::create(&path, &set.meta).unwrap();
    for i in 0..set.len() {
        w.push(set.label(i), &set.image(i)).unwrap();
    }
    w.finish().unwrap();
    let back = PackedSet::open(&path).unwrap();
    assert_eq!(back.len(), 3000);
    assert_eq!(back.class_counts(), vec![200; 15]);
    assert_eq!(back.pixels(1234), set.pixels(1234));
}
