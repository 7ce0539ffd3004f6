//! What recording a run costs the training loop: the per-step records and epoch records
//! appended to `metrics.jsonl`, and the plots redrawn after every epoch, timed for a full MNIST
//! epoch's worth (469 steps of 128, a step record every 10) and compared with the time of a
//! LeNet-5 epoch measured in the same process on this machine.
//!
//! `cargo run --release -p inkstone-train --example record_overhead`

use burn::backend::{Autodiff, Flex};
use inkstone_model::run_log::{EpochRecord, RunLine, StepRecord};
use inkstone_train::plots::{write_training_plots, LrCurve};
use inkstone_train::{train, PreparedJob, RunDir, TrainConfig};
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig::defaults_for("lenet5");
    let mut run = RunDir::create(&dir.path().join("timed"), &config).unwrap();
    let (epochs, steps) = (10usize, 469usize);
    let lr = LrCurve::new(&config.lr, epochs, steps);
    let started = Instant::now();
    for epoch in 1..=epochs {
        for step in (10..=steps).step_by(10) {
            let record = RunLine::Step(StepRecord {
                step: (epoch - 1) * steps + step,
                epoch,
                lr: 1e-3,
                loss: 0.1234,
                accuracy: 0.98,
                loss_scale: None,
                skipped_steps: None,
            });
            run.log(&record).unwrap();
        }
        let record = RunLine::Epoch(EpochRecord {
            epoch,
            train_loss: 0.1,
            train_accuracy: 0.97,
            test_loss: 0.05,
            test_top1: 0.98,
            test_top5: 1.0,
            test_top10: 1.0,
            images_per_sec: 4000.0,
            seconds: 15.0,
            real_data: None,
            real_top1: f64::NAN,
            real_top5: f64::NAN,
            real_top10: f64::NAN,
        });
        run.log(&record).unwrap();
        write_training_plots(&run.path, &lr).unwrap();
    }
    let recording = started.elapsed().as_secs_f64() / epochs as f64;

    // One real LeNet-5 epoch on the embedded digits (8 004 samples), scaled to MNIST's 60 000.
    let mut quiet = config.clone();
    quiet.epochs = 1;
    let prepared = PreparedJob::from_config(&quiet, false).unwrap();
    let mut run = RunDir::create(&dir.path().join("lenet"), &quiet).unwrap();
    let started = Instant::now();
    train::<Autodiff<Flex>>(&prepared.job(), &Default::default(), &mut run, &mut ()).unwrap();
    let epoch =
        started.elapsed().as_secs_f64() * 60_000.0 / prepared.train.as_prepared().len() as f64;
    println!(
        "recording per MNIST epoch (47 step records, 1 epoch record, 3 plots as PNG+SVG): {:.1} ms; \
         LeNet-5 MNIST epoch here: {:.1} s; overhead {:.3}%",
        recording * 1e3,
        epoch,
        100.0 * recording / epoch
    );
}
