//! Runs the recipe over a whole dataset once, on all cores, so epochs only shuffle and batch.

use image::GrayImage;
use inkstone_data::{Dataset, Recipe};

/// Recipe-prepared images (model input size, ink bright) with their labels.
pub struct PreparedSet {
    pub images: Vec<GrayImage>,
    pub labels: Vec<u32>,
    pub classes: usize,
}

impl PreparedSet {
    pub fn new(dataset: &Dataset, recipe: &Recipe) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = dataset.samples.len().div_ceil(threads).max(1);
        let images = std::thread::scope(|scope| {
            let workers: Vec<_> = dataset
                .samples
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|s| recipe.prepare(&s.image))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("recipe worker panicked"))
                .collect()
        });
        PreparedSet {
            images,
            labels: dataset.samples.iter().map(|s| s.label).collect(),
            classes: dataset.charset.len(),
        }
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}
