//! burn-flex change 13 (`vendor/README.md`): f32 random tensors drawn with one sampler. In a
//! test binary of its own, because the backend's generator is global and the tests of one
//! binary run side by side: another test's draw between the seed and these would move it.

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensorOps;
use burn::tensor::{Distribution, FloatDType, Tensor, TensorPrimitive};

type B = Flex;

/// `Tensor::random` on f32 (one sampler for the whole tensor) draws what Burn's per-element
/// sampling, which f64 tensors still take, draws, and leaves the generator where it would:
/// seeded runs (dropout masks, initial weights) are unchanged by the patch.
#[test]
fn random_tensors_draw_what_per_element_sampling_draws() {
    let d = Default::default();
    let draw = |dtype: FloatDType, distribution: Distribution| -> Vec<f64> {
        B::seed(&d, 7);
        (0..2)
            .flat_map(|_| {
                let t = B::float_random([3, 50].into(), distribution, &d, dtype);
                Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(t))
                    .into_data()
                    .convert::<f64>()
                    .to_vec::<f64>()
                    .unwrap()
            })
            .collect()
    };
    for distribution in [Distribution::Bernoulli(0.3), Distribution::Normal(0.0, 1.0)] {
        let fast = draw(FloatDType::F32, distribution);
        let reference = draw(FloatDType::F64, distribution);
        assert_eq!(fast.len(), 300);
        for (i, (f, r)) in fast.iter().zip(&reference).enumerate() {
            assert!(
                (f - r).abs() <= 1e-6 * r.abs().max(1.0),
                "{distribution:?} element {i}: {f} vs {r}"
            );
        }
    }
}

/// An empty random tensor draws nothing and checks nothing, as before the patch: even a
/// uniform range that could not be sampled gives an empty tensor.
#[test]
fn an_empty_random_tensor_is_empty_whatever_its_distribution() {
    let d = Default::default();
    let t = Tensor::<B, 2>::random([0, 4], Distribution::Uniform(1.0, 1.0), &d);
    assert_eq!(t.dims(), [0, 4]);
}
