//! The CPU inference path shared by `inkstone predict` and the service: the bundle's recipe,
//! then its exported ONNX graph run by tract. Measured faster than Burn Flex for single images
//! (see the deploy issue's figures); `tests/onnx_tract.rs` holds its outputs to Burn's.

use crate::bundle::Bundle;
use crate::error::ModelError;
use crate::Summary;
use image::GrayImage;
use serde::Serialize;
use std::sync::Arc;
use tract_linalg::multithread::Executor;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::runtime::RunOptions;

/// One ranked answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub label: usize,
    pub char: String,
    pub prob: f32,
}

/// A bundle compiled for inference.
///
/// Compiled for one image at a time: tract gained nothing from batching here (measured with
/// `inkstone bench predict --batch`: LeNet-5 83 µs/image alone vs 113 µs in a symbolic batch
/// of 32 and 78 µs in a fixed one; ResNet-18-64 60 ms alone vs 111-123 ms per image in batches
/// of 8), so a batch runs image by image through the single-image plan.
///
/// One image's matrix products may be spread over a pool of threads (tract's multithread
/// executor, [`Recognizer::with_threads`]). That pays only for a large network: waking the
/// pool costs more than a small one's products gain ([`threads_worth`]). With test-time views
/// the threads run an image's views side by side instead, each on one thread.
pub struct Recognizer {
    pub bundle: Bundle,
    plan: Arc<TypedRunnableModel>,
    threads: usize,
}

/// Work per image (FLOPs, a multiply-add as 2) from which spreading one network run over
/// threads pays. Measured (`inkstone bench predict BUNDLE IMAGE --threads 1|2`, untrained
/// models, 2 cores, network time): LeNet-5 (0.8 MFLOPs) 68 µs on one thread, 170 µs on two;
/// digit CNN (38 MFLOPs) 0.82 ms, 1.15 ms; the earlier (flattened) charcnn 32 px (91 MFLOPs)
/// 3.3 ms, 2.0 ms; the four-stage charcnn 32 px (106 MFLOPs, stop 31) 2.14–2.22 ms, 2.74–2.84
/// ms; ResNet-18-64 (4.4 GFLOPs) 58–59 ms, 33–34 ms (stop 31).
pub const PARALLEL_FLOPS: u64 = 500_000_000;

/// Threads a recognizer of `bundle` should use when `available` are free: all of them for a
/// bundle with test-time views or readings (they run side by side) or a network of
/// [`PARALLEL_FLOPS`] per image, else one.
pub fn threads_worth(bundle: &Bundle, available: usize) -> usize {
    let flops = Summary::of(&bundle.spec).map_or(0, |s| s.flops());
    if flops >= PARALLEL_FLOPS || bundle.recipe.inputs_per_image() > 1 {
        available.max(1)
    } else {
        1
    }
}

impl Recognizer {
    /// Exports the bundle's network and compiles it for inference on the calling thread.
    pub fn new(bundle: Bundle) -> Result<Self, ModelError> {
        Self::with_threads(bundle, 1)
    }

    /// [`Recognizer::new`] with each network run spread over `threads` threads (its own pool;
    /// 0 counts as 1), or with test-time views, the views run side by side on `threads`.
    pub fn with_threads(bundle: Bundle, threads: usize) -> Result<Self, ModelError> {
        let threads = threads.max(1);
        let bytes = crate::onnx::export(&bundle)?;
        let [c, h, w] = bundle.spec.input;
        // With test-time views the threads take a view each, one run per thread: the
        // four-view charcnn, 2 threads, `bench predict` network time 3.9–4.1 ms against
        // 13.6–14.1 ms spreading each run's products and 11.3–11.9 ms on one thread.
        let per_run = if bundle.recipe.inputs_per_image() == 1 {
            threads
        } else {
            1
        };
        let options = RunOptions {
            executor: (per_run > 1).then(|| Executor::multithread_with_name(per_run, "inkstone")),
            ..RunOptions::default()
        };
        let plan = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .and_then(|m| m.with_input_fact(0, f32::fact([1, c, h, w]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable_with_options(&options))
            .map_err(|e| ModelError::Compile(e.to_string()))?;
        Ok(Recognizer {
            bundle,
            plan,
            threads,
        })
    }

    /// [`Recognizer::with_threads`] with `threads` where the user chose them, else with as
    /// many of `available` as pay for this network ([`threads_worth`]).
    pub fn with_threads_or_worth(
        bundle: Bundle,
        threads: Option<usize>,
        available: usize,
    ) -> Result<Self, ModelError> {
        let threads = threads.unwrap_or_else(|| threads_worth(&bundle, available));
        Self::with_threads(bundle, threads)
    }

    /// Threads one network run may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Inputs of each image the network runs on: the recipe's own and its test-time views
    /// (`Recipe::views`), each in the recipe's own reading and its test-time readings
    /// (`Recipe::readings`), whose probabilities are averaged.
    pub fn inputs_per_image(&self) -> usize {
        self.bundle.recipe.inputs_per_image()
    }

    /// Number of values in one image's model inputs (`inputs·C·H·W`).
    pub fn input_len(&self) -> usize {
        self.inputs_per_image() * self.bundle.spec.input.iter().product::<usize>()
    }

    /// The model inputs for one raw image (any size or polarity), through the bundle's
    /// recipe: one per view and reading (`Recipe::prepare_views`), laid end to end.
    pub fn input_for(&self, image: &GrayImage) -> Vec<f32> {
        self.input_of(&self.bundle.recipe.prepare_views(image))
    }

    /// The model inputs of one image already prepared by the bundle's recipe
    /// (`Recipe::prepare_views`), laid end to end.
    pub fn input_of(&self, prepared: &[GrayImage]) -> Vec<f32> {
        let recipe = &self.bundle.recipe;
        let mut input = Vec::with_capacity(self.input_len());
        for view in prepared {
            recipe.append_input(view, &mut input);
        }
        input
    }

    /// Logits for `n` images' inputs laid end to end (`n` × [`Recognizer::input_len`]
    /// values), `n·classes` values back. With test-time views or readings an image's row is
    /// the log of the mean probabilities over its inputs: `softmax` of it gives that mean.
    pub fn logits(&self, inputs: Vec<f32>, n: usize) -> Result<Vec<f32>, ModelError> {
        let [c, h, w] = self.bundle.spec.input;
        if inputs.len() != n * self.input_len() {
            return Err(ModelError::Inference(format!(
                "{} values do not make {n} images of {} inputs of shape [{c}, {h}, {w}]",
                inputs.len(),
                self.inputs_per_image()
            )));
        }
        let (runs, run_of_input) = self.run_each(&inputs)?;
        let classes = self.bundle.charset.len();
        let row = |run: usize| &runs[run * classes..(run + 1) * classes];
        let per_image = self.inputs_per_image();
        if per_image == 1 {
            return Ok(run_of_input.into_iter().flat_map(row).copied().collect());
        }
        // One softmax a run: a clean image's alike readings share theirs.
        let log_probs: Vec<Vec<f32>> = runs.chunks_exact(classes).map(log_softmax).collect();
        Ok(run_of_input
            .chunks_exact(per_image)
            .flat_map(|image| {
                let rows: Vec<&[f32]> = image.iter().map(|&run| &log_probs[run][..]).collect();
                log_mean_probabilities(&rows)
            })
            .collect())
    }

    /// The network's logits for the distinct inputs of `inputs`, one row a run, and for every
    /// input the run that answers it. An input equal to the one before it is not run again:
    /// a KServe v2 tensor stands for every view of its image, so it comes once per view (the
    /// four-view release would run the same input four times), and a clean image's readings
    /// are all alike.
    fn run_each(&self, inputs: &[f32]) -> Result<(Vec<f32>, Vec<usize>), ModelError> {
        let [c, h, w] = self.bundle.spec.input;
        let mut distinct: Vec<&[f32]> = Vec::new();
        let mut run_of_input = Vec::with_capacity(inputs.len() / (c * h * w));
        for input in inputs.chunks_exact(c * h * w) {
            if distinct.last() != Some(&input) {
                distinct.push(input);
            }
            run_of_input.push(distinct.len() - 1);
        }
        Ok((self.run_all(distinct)?, run_of_input))
    }

    /// The network's logits for each of `runs`, one run each; with test-time views the runs
    /// are shared out over the recognizer's threads.
    fn run_all(&self, runs: Vec<&[f32]>) -> Result<Vec<f32>, ModelError> {
        if self.inputs_per_image() == 1 || self.threads == 1 || runs.len() < 2 {
            return runs
                .into_iter()
                .map(|one| self.run(one))
                .collect::<Result<Vec<_>, _>>()
                .map(|rows| rows.concat());
        }
        let share = runs.len().div_ceil(self.threads);
        let parts: Vec<Result<Vec<Vec<f32>>, ModelError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = runs
                .chunks(share)
                .map(|part| scope.spawn(move || part.iter().map(|one| self.run(one)).collect()))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("an inference thread panicked"))
                .collect()
        });
        let mut logits = Vec::with_capacity(runs.len() * self.bundle.charset.len());
        for part in parts {
            for row in part? {
                logits.extend(row);
            }
        }
        Ok(logits)
    }

    /// The network's logits for one input.
    fn run(&self, one: &[f32]) -> Result<Vec<f32>, ModelError> {
        let [c, h, w] = self.bundle.spec.input;
        let x = tract_ndarray::Array4::from_shape_vec((1, c, h, w), one.to_vec())
            .map_err(|e| ModelError::Inference(e.to_string()))?;
        let out = self
            .plan
            .run(tvec!(Tensor::from(x).into()))
            .map_err(|e| ModelError::Inference(e.to_string()))?;
        let row = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| ModelError::Inference(format!("unexpected output: {e}")))?;
        Ok(row.iter().copied().collect())
    }

    /// The `k` most probable classes for each of `n` inputs, best first.
    pub fn rank_batch(
        &self,
        inputs: Vec<f32>,
        n: usize,
        k: usize,
    ) -> Result<Vec<Vec<Candidate>>, ModelError> {
        let logits = self.logits(inputs, n)?;
        let classes = logits.len() / n.max(1);
        Ok(logits
            .chunks(classes)
            .map(|row| self.rank(row, k))
            .collect())
    }

    /// The `k` most probable classes for one raw image, best first.
    pub fn top_k(&self, image: &GrayImage, k: usize) -> Vec<Candidate> {
        self.rank_batch(self.input_for(image), 1, k)
            .expect("the recipe makes exactly one input of the model's shape")
            .remove(0)
    }

    /// The `k` most probable classes given one row of logits, best first (ties: lower class
    /// first). The `k` are selected in linear time and only they are sorted: a full sort of
    /// 3 755 classes took ~90 µs per image, a third of the recipe's ~290 µs.
    pub fn rank(&self, logits: &[f32], k: usize) -> Vec<Candidate> {
        let probs = softmax(logits);
        let better = |a: &usize, b: &usize| probs[*b].total_cmp(&probs[*a]).then(a.cmp(b));
        let mut order: Vec<usize> = (0..probs.len()).collect();
        let k = k.min(order.len());
        if k > 0 && k < order.len() {
            order.select_nth_unstable_by(k - 1, better);
        }
        order.truncate(k);
        order.sort_by(better);
        order
            .into_iter()
            .map(|c| Candidate {
                label: c,
                char: self.bundle.charset.symbol(c).to_string(),
                prob: probs[c],
            })
            .collect()
    }
}

/// Log-probabilities from logits, computed stably.
pub fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|v| (v - max).exp()).sum();
    let log_sum = max + sum.ln();
    logits.iter().map(|v| v - log_sum).collect()
}

/// The log of the mean probability over `views` (each a row of log-probabilities over the
/// same classes), computed about each class's largest view, so that a class every view finds
/// unlikely keeps a finite log-probability.
pub fn log_mean_probabilities(views: &[impl AsRef<[f32]>]) -> Vec<f32> {
    let n = views.len() as f32;
    (0..views.first().map_or(0, |v| v.as_ref().len()))
        .map(|j| {
            let at = views.iter().map(|v| v.as_ref()[j]);
            let top = at.clone().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = at.map(|v| (v - top).exp()).sum();
            top + (sum / n).ln()
        })
        .collect()
}

/// Probabilities from logits, computed stably (shifted by the maximum).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::builtin;

    #[test]
    fn rank_gives_the_k_most_probable_best_first_as_a_full_sort_does() {
        let spec = builtin("lenet5", 10, 28).unwrap();
        let recipe = inkstone_data::Recipe::mnist();
        let bundle = Bundle::untrained(spec, recipe, inkstone_data::Charset::digits()).unwrap();
        let recognizer = Recognizer::new(bundle).unwrap();
        let logits = [0.5, 3.0, -1.0, 3.0, 2.0, 0.0, 7.0, 0.5, -2.0, 1.0];
        let labels = |k| {
            recognizer
                .rank(&logits, k)
                .iter()
                .map(|c| c.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(1), [6]);
        assert_eq!(labels(4), [6, 1, 3, 4]); // the tie 1 = 3: lower class first
        assert_eq!(labels(10), [6, 1, 3, 4, 9, 0, 7, 5, 2, 8]);
        assert_eq!(labels(50).len(), 10);
        assert!(labels(0).is_empty());
        let probs = recognizer.rank(&logits, 10);
        assert!((probs.iter().map(|c| c.prob).sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(probs[0].char, "6");
    }

    #[test]
    fn the_mean_of_probabilities_over_views_stays_finite() {
        let views = [
            vec![0.8f32.ln(), 0.2f32.ln()],
            vec![0.4f32.ln(), 0.6f32.ln()],
        ];
        let mean = log_mean_probabilities(&views);
        assert!((mean[0].exp() - 0.6).abs() < 1e-6 && (mean[1].exp() - 0.4).abs() < 1e-6);
        // A class every view gives e^-200 (0 in f32) keeps a log-probability of -200.
        let mean = log_mean_probabilities(&[vec![0.0, -200.0], vec![0.0, -200.0]]);
        assert!((mean[1] + 200.0).abs() < 1e-3, "{mean:?}");
        let p = softmax(&log_softmax(&[1.0, 2.0, 3.0]));
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    /// An untrained LeNet-5 bundle with MNIST's recipe.
    fn untrained_lenet5() -> Bundle {
        let spec = builtin("lenet5", 10, 28).unwrap();
        let recipe = inkstone_data::Recipe::mnist();
        Bundle::untrained(spec, recipe, inkstone_data::Charset::digits()).unwrap()
    }

    #[test]
    fn a_photos_readings_are_averaged_and_a_clean_digit_reads_once() {
        use inkstone_data::recipe::Reading;
        let plain = untrained_lenet5();
        let mut read = plain.clone();
        read.recipe.readings = Reading::ALL.to_vec();
        let (plain, read) = (
            Recognizer::new(plain).unwrap(),
            Recognizer::new(read).unwrap(),
        );
        assert_eq!(read.inputs_per_image(), 4);
        // A dark 1 on paper under a shadow's edge, with grain.
        let photo = GrayImage::from_fn(120, 120, |x, y| {
            let light = if x + y < 130 { 1.0 } else { 0.4 };
            let ink = (55..61).contains(&x) && (25..95).contains(&y);
            let level = if ink { 70.0 } else { 215.0 } + ((x * 7 + y * 13) % 9) as f32;
            image::Luma([(level * light) as u8])
        });
        let row = read.logits(read.input_for(&photo), 1).unwrap();
        let recipe = &read.bundle.recipe;
        let per_reading: Vec<Vec<f32>> = recipe
            .prepare_views(&photo)
            .iter()
            .map(|input| {
                let mut values = Vec::new();
                recipe.append_input(input, &mut values);
                log_softmax(&plain.logits(values, 1).unwrap())
            })
            .collect();
        assert!(
            per_reading.iter().any(|r| *r != per_reading[0]),
            "the photo reads differently some way"
        );
        let want = log_mean_probabilities(&per_reading);
        for (got, want) in row.iter().zip(&want) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        // A clean digit reads the same every way: its row is the plain network's.
        let clean = GrayImage::from_fn(28, 28, |x, y| {
            image::Luma([if (12..16).contains(&x) && (4..24).contains(&y) {
                255
            } else {
                0
            }])
        });
        let once = log_softmax(&plain.logits(plain.input_for(&clean), 1).unwrap());
        let row = read.logits(read.input_for(&clean), 1).unwrap();
        for (a, b) in row.iter().zip(&once) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn test_time_views_average_the_networks_probabilities() {
        let digit = |shift: u32| {
            GrayImage::from_fn(28, 28, |x, y| {
                let on = (8 + shift..12 + shift).contains(&x) && (4..24).contains(&y);
                image::Luma([if on { 255 } else { 0 }])
            })
        };
        let plain = untrained_lenet5();
        let mut viewed = plain.clone();
        let views = [(20, 1.0, 1.5), (14, 1.0, 1.0)].map(|(fit, pen_scale, aspect)| {
            inkstone_data::recipe::View {
                fit,
                pen_scale,
                aspect,
                slant: 0.0,
            }
        });
        viewed.recipe.views = views.to_vec();
        let (plain, viewed) = (
            Recognizer::new(plain).unwrap(),
            Recognizer::new(viewed).unwrap(),
        );
        assert_eq!(
            (plain.inputs_per_image(), viewed.inputs_per_image()),
            (1, 3)
        );
        assert_eq!(viewed.input_len(), 3 * 28 * 28);
        // Two images at once: each row is the mean over that image's three views, each
        // view's probabilities as the single-view network gives them for that view alone.
        let images = [digit(0), digit(6)];
        let inputs: Vec<f32> = images.iter().flat_map(|i| viewed.input_for(i)).collect();
        let rows = viewed.logits(inputs, 2).unwrap();
        assert_eq!(rows.len(), 2 * 10);
        for (image, row) in images.iter().zip(rows.chunks(10)) {
            let recipe = &viewed.bundle.recipe;
            let per_view: Vec<Vec<f32>> = recipe
                .prepare_views(image)
                .iter()
                .map(|view| {
                    let mut input = Vec::new();
                    recipe.append_input(view, &mut input);
                    log_softmax(&plain.logits(input, 1).unwrap())
                })
                .collect();
            assert_ne!(
                per_view[0], per_view[1],
                "a stretched view is another input"
            );
            let expected = softmax(&log_mean_probabilities(&per_view));
            for (got, want) in softmax(row).iter().zip(&expected) {
                assert!((got - want).abs() < 1e-5, "{got} vs {want}");
            }
        }
        // Views run side by side on two threads give the same rows.
        let inputs: Vec<f32> = images.iter().flat_map(|i| viewed.input_for(i)).collect();
        let side_by_side = Recognizer::with_threads(viewed.bundle.clone(), 2).unwrap();
        let rows_2 = side_by_side.logits(inputs, 2).unwrap();
        for (a, b) in rows.iter().zip(&rows_2) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // An input repeated for every view (a v2 tensor) is what the network says of it,
        // each tensor its own, on one thread or side by side. The digit's prepared input (a
        // vertical bar) and the same transposed (a horizontal one): the two images above
        // centre to the same input.
        let recipe = &plain.bundle.recipe;
        let mut digit_input = Vec::new();
        recipe.append_input(&recipe.prepare(&images[0]), &mut digit_input);
        let transposed: Vec<f32> = (0..28 * 28)
            .map(|i| digit_input[(i % 28) * 28 + i / 28])
            .collect();
        let own_inputs = [digit_input, transposed];
        assert_ne!(own_inputs[0], own_inputs[1], "two different tensors");
        let repeated: Vec<f32> = own_inputs.iter().flat_map(|i| i.repeat(3)).collect();
        for recognizer in [&viewed, &side_by_side] {
            let rows = recognizer.logits(repeated.clone(), 2).unwrap();
            for (input, row) in own_inputs.iter().zip(rows.chunks(10)) {
                let want = log_softmax(&plain.logits(input.clone(), 1).unwrap());
                for (got, want) in row.iter().zip(&want) {
                    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
                }
            }
        }
        let err = viewed
            .logits(vec![0.0; 28 * 28], 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 inputs"), "{err}");
    }

    #[test]
    fn only_a_large_network_or_views_and_readings_are_spread_over_threads() {
        let bundle = |name, classes, side| {
            let spec = builtin(name, classes, side).unwrap();
            let recipe = inkstone_data::Recipe::characters(side as u32);
            Bundle::untrained(spec, recipe, inkstone_data::Charset::numbered(classes)).unwrap()
        };
        assert_eq!(threads_worth(&bundle("lenet5", 10, 28), 8), 1);
        assert_eq!(threads_worth(&bundle("digitcnn", 10, 28), 8), 1);
        assert_eq!(threads_worth(&bundle("charcnn", 3755, 32), 8), 1);
        assert_eq!(threads_worth(&bundle("resnet18", 3755, 64), 8), 8);
        assert_eq!(threads_worth(&bundle("resnet18", 3755, 64), 0), 1);
        let mut viewed = bundle("charcnn", 3755, 32);
        viewed.recipe.views = vec![inkstone_data::recipe::View {
            fit: 28,
            pen_scale: 1.0,
            aspect: 1.4,
            slant: 0.0,
        }];
        assert_eq!(threads_worth(&viewed, 8), 8);
        let mut read = bundle("charcnn", 3755, 32);
        read.recipe.readings = vec![inkstone_data::recipe::Reading::EvenLight];
        assert_eq!(threads_worth(&read, 8), 8);
    }
}
