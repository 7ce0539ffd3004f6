//! Every built-in model, exported to ONNX, loaded by an independent runtime (tract), gives the
//! same outputs as Burn on the same inputs.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use inkstone_data::{Charset, Recipe};
use inkstone_model::builtin::{builtin, default_side, BUILTIN_NAMES};
use inkstone_model::onnx::export;
use inkstone_model::Bundle;
use prost::Message;
use rand::{Rng, SeedableRng};
use tract_onnx::prelude::*;

fn random_bundle(name: &str, classes: usize, side: usize, rng: &mut impl Rng) -> Bundle {
    let spec = builtin(name, classes, side).unwrap();
    let mut recipe = Recipe::mnist();
    recipe.input_size = side as u32;
    let mut bundle = Bundle::untrained(spec, recipe, Charset::numbered(classes)).unwrap();
    // Fresh batch norms are the identity (mean 0, var 1); give them real statistics so the
    // export of running mean/var is actually exercised.
    for (name, t) in bundle.weights.iter_mut() {
        if name.ends_with("running_mean") {
            t.values
                .iter_mut()
                .for_each(|v| *v = rng.random_range(-0.5..0.5));
        } else if name.ends_with("running_var") {
            t.values
                .iter_mut()
                .for_each(|v| *v = rng.random_range(0.5..2.0));
        }
    }
    bundle
}

fn max_abs_diff(bundle: &Bundle, input: Vec<f32>, batch: usize) -> f32 {
    let [c, h, w] = bundle.spec.input;
    let device = Default::default();
    let burn_out: Vec<f32> = bundle
        .network::<Flex>(&device)
        .unwrap()
        .forward(Tensor::from_data(
            TensorData::new(input.clone(), [batch, c, h, w]),
            &device,
        ))
        .into_data()
        .to_vec()
        .unwrap();
    let bytes = export(bundle).unwrap();
    let model = tract_onnx::onnx()
        .model_for_read(&mut bytes.as_slice())
        .unwrap()
        .with_input_fact(0, f32::fact([batch, c, h, w]).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let x = tract_ndarray::Array4::from_shape_vec((batch, c, h, w), input).unwrap();
    let out = model
        .run(tvec!(tract_onnx::prelude::Tensor::from(x).into()))
        .unwrap();
    let tract_out: Vec<f32> = out[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    assert_eq!(tract_out.len(), burn_out.len());
    burn_out
        .iter()
        .zip(&tract_out)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn builtins_match_burn_in_tract_on_random_inputs() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    // ResNet-18 also at 112 px, where it has the paper's 7×7/2 stem and padded max-pool.
    let cases = BUILTIN_NAMES
        .iter()
        .map(|&name| (name, default_side(name)))
        .chain([("resnet18", 112)]);
    for (name, side) in cases {
        let bundle = random_bundle(name, 10, side, &mut rng);
        for batch in [1, 3] {
            let input: Vec<f32> = (0..batch * side * side)
                .map(|_| rng.random_range(-1.0..3.0))
                .collect();
            let diff = max_abs_diff(&bundle, input, batch);
            assert!(
                diff <= 1e-4,
                "{name} {side}px batch {batch}: max |burn - tract| = {diff}"
            );
        }
    }
}

#[test]
fn real_digits_give_the_same_logits() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let bundle = random_bundle("lenet5", 10, 28, &mut rng);
    let test = inkstone_data::embedded::load(inkstone_data::Split::Test);
    let mut input = Vec::new();
    for s in test.samples.iter().take(8) {
        bundle
            .recipe
            .append_input(&bundle.recipe.prepare(&s.image), &mut input);
    }
    assert!(max_abs_diff(&bundle, input, 8) <= 1e-4);
}

#[test]
fn export_declares_opset_dynamic_batch_and_metadata() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let bundle = random_bundle("lenet5", 10, 28, &mut rng);
    let model = tract_onnx::pb::ModelProto::decode(export(&bundle).unwrap().as_slice()).unwrap();
    assert_eq!(model.opset_import[0].version, 17);
    let graph = model.graph.unwrap();
    assert_eq!(graph.input[0].name, "input");
    assert_eq!(graph.output[0].name, "logits");
    let dims = format!("{:?}", graph.input[0].r#type);
    assert!(dims.contains("DimParam(\"N\")"), "{dims}");
    let keys: Vec<&str> = model
        .metadata_props
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["inkstone.spec", "inkstone.recipe", "inkstone.charset"]
    );
    let charset: Charset = serde_json::from_str(&model.metadata_props[2].value).unwrap();
    assert_eq!(charset, bundle.charset);
    assert_eq!(graph.initializer.len(), bundle.weights.len());
}

#[test]
fn a_network_run_spread_over_threads_gives_the_one_thread_logits() {
    use inkstone_model::recognizer::Recognizer;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for &name in BUILTIN_NAMES {
        let side = default_side(name);
        let bundle = random_bundle(name, 40, side, &mut rng);
        let input: Vec<f32> = (0..2 * side * side)
            .map(|_| rng.random_range(-1.0..3.0))
            .collect();
        let one = Recognizer::new(bundle.clone()).unwrap();
        let three = Recognizer::with_threads(bundle, 3).unwrap();
        assert_eq!((one.threads(), three.threads()), (1, 3));
        let (a, b) = (
            one.logits(input.clone(), 2).unwrap(),
            three.logits(input, 2).unwrap(),
        );
        assert_eq!(a.len(), 2 * 40);
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(diff <= 1e-5, "{name}: max |1 thread - 3 threads| = {diff}");
    }
}
