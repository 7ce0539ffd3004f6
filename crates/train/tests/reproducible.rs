//! Training is seeded: the same config gives the same weights, bit for bit, on the CPU
//! backend; another seed gives other weights. Also checks that training learns at all.

use burn::backend::{Autodiff, Flex};
use inkstone_model::WeightMap;
use inkstone_train::{train, PreparedJob, RunDir, TrainConfig};

/// Trains `config` (the embedded digits) from the start, as `inkstone train` does.
fn run(config: &TrainConfig) -> (WeightMap, f64) {
    let dir = tempfile::tempdir().unwrap();
    let prepared = PreparedJob::from_config(config, false).unwrap();
    let mut rundir = RunDir::create(&dir.path().join("run"), config).unwrap();
    let trained =
        train::<Autodiff<Flex>>(&prepared.job(), &Default::default(), &mut rundir, &mut ())
            .unwrap();
    (trained.network.weights(), trained.last.top1)
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let mut config = TrainConfig::defaults_for("lenet5");
    assert_eq!(config.data, "mnist", "the embedded digits");
    config.epochs = 2;
    config.max_steps_per_epoch = Some(25);
    config.augment = Some(inkstone_data::augment::Augment::digits());
    let (a, top1) = run(&config);
    let (b, _) = run(&config);
    assert!(a == b, "two runs with seed {} differ", config.seed);
    config.seed += 1;
    let (c, _) = run(&config);
    assert!(a != c, "a different seed gave identical weights");
    assert!(
        top1 > 0.6,
        "50 steps of LeNet-5 should pass 60% on held-out digits, got {top1}"
    );
}
