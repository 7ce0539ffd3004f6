//! Training is seeded: the same config gives the same weights, bit for bit, on the CPU
//! backend; another seed gives other weights. Also checks that training learns at all.

use burn::backend::{Autodiff, Flex};
use inkstone_data::packed::PackedSet;
use inkstone_data::Split;
use inkstone_data::{embedded, Recipe};
use inkstone_model::builtin::builtin;
use inkstone_model::WeightMap;
use inkstone_train::trainer::TrainJob;
use inkstone_train::{train, RunDir, TrainConfig};

fn run(config: &TrainConfig, train_set: &PackedSet, test_set: &PackedSet) -> (WeightMap, f64) {
    let dir = tempfile::tempdir().unwrap();
    let spec = builtin(&config.model, 10, 28).unwrap();
    let recipe = Recipe::mnist();
    let charset = inkstone_data::Charset::digits();
    let job = TrainJob {
        config,
        spec: &spec,
        recipe: &recipe,
        charset: &charset,
        train: train_set,
        test: test_set,
        real: None,
        init: None,
    };
    let mut rundir = RunDir::create(&dir.path().join("run"), config).unwrap();
    let trained = train::<Autodiff<Flex>>(&job, &Default::default(), &mut rundir, &mut ()).unwrap();
    (trained.network.weights(), trained.last.top1)
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let recipe = Recipe::mnist();
    let train_set = PackedSet::prepare(&embedded::load(Split::Train), &recipe, "mnist");
    let test_set = PackedSet::prepare(&embedded::load(Split::Test), &recipe, "mnist");
    let mut config = TrainConfig::defaults_for("lenet5");
    config.epochs = 2;
    config.max_steps_per_epoch = Some(25);
    config.augment = Some(inkstone_data::augment::Augment::digits());
    let (a, top1) = run(&config, &train_set, &test_set);
    let (b, _) = run(&config, &train_set, &test_set);
    assert!(a == b, "two runs with seed {} differ", config.seed);
    config.seed += 1;
    let (c, _) = run(&config, &train_set, &test_set);
    assert!(a != c, "a different seed gave identical weights");
    assert!(
        top1 > 0.6,
        "50 steps of LeNet-5 should pass 60% on held-out digits, got {top1}"
    );
}
