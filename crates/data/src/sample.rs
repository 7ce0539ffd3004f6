//! The unit every reader produces, and an in-memory labelled set of them.

use crate::Charset;
use image::GrayImage;

/// One handwritten glyph: 8-bit gray pixels as the source stored them, and its class index
/// in the dataset's [`Charset`].
#[derive(Clone, Debug)]
pub struct Sample {
    pub image: GrayImage,
    pub label: u32,
}

/// A labelled set of samples with the charset their labels index.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub charset: Charset,
    pub samples: Vec<Sample>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Samples per class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.charset.len()];
        for s in &self.samples {
            counts[s.label as usize] += 1;
        }
        counts
    }
}

/// Which half of a source with a train/test split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}
