//! Handwriting data for inkstone, from bytes on disk to prepared `u8` images.
//!
//! The data path starts here: readers turn files into [`Sample`]s, [`Charset`] names the
//! classes, and [`Recipe`] turns any raw image (a scanned MNIST digit or a phone photo) into the
//! exact model input. Nothing in this crate depends on Burn.

pub mod atomic;
pub mod augment;
pub mod charset;
pub mod chinese_mnist;
pub mod embedded;
pub mod error;
pub mod fetch;
pub mod gnt;
pub mod idx;
pub mod image_file;
pub mod image_folder;
pub mod mnist;
pub mod open;
pub mod packed;
pub mod photo;
pub mod pot;
pub mod recipe;
pub mod sample;
pub mod source;
pub mod strokes;
pub mod synth;

pub use charset::Charset;
pub use error::DataError;
pub use recipe::{Polarity, Recipe};
pub use sample::{Dataset, Sample, Split};
