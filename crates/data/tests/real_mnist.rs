//! The readers on the real MNIST files in `../shared/data/mnist` (skipped, with a message,
//! where that folder is absent).

use inkstone_data::fetch::{content_md5, MNIST_FILES};
use inkstone_data::mnist::load_dir;
use inkstone_data::Split;
use std::path::PathBuf;

fn shared_mnist() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is absent (CI provides it)", dir.display());
        None
    }
}

#[test]
fn real_files_have_the_canonical_content() {
    let Some(dir) = shared_mnist() else { return };
    for (name, md5) in MNIST_FILES {
        assert_eq!(content_md5(&dir.join(name)).unwrap(), *md5, "{name}");
    }
}

#[test]
fn real_splits_load_with_the_known_class_counts() {
    let Some(dir) = shared_mnist() else { return };
    let train = load_dir(&dir, Split::Train).unwrap();
    let test = load_dir(&dir, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    // Published MNIST test-set class counts.
    assert_eq!(
        test.class_counts(),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(
        train.samples[0].label, 5,
        "the famous first training digit is a 5"
    );
    assert_eq!(train.samples[0].image.dimensions(), (28, 28));
}
