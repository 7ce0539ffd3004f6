//! Times Burn Flex's forward pass on one image for a bundle (compare with `inkstone bench predict`).
use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use inkstone_model::Bundle;
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: flex_forward BUNDLE [ITERS]");
    let iters: usize = std::env::args().nth(2).map_or(20, |v| v.parse().unwrap());
    let bundle = Bundle::load(path.as_ref()).unwrap();
    let device = Default::default();
    let net = bundle.network::<Flex>(&device).unwrap();
    let [c, h, w] = bundle.spec.input;
    let mut times = Vec::new();
    for _ in 0..iters + 3 {
        let x = Tensor::<Flex, 4>::from_data(
            TensorData::new(vec![0.5f32; c * h * w], [1, c, h, w]),
            &device,
        );
        let t0 = Instant::now();
        let out: Vec<f32> = net.forward(x).into_data().to_vec().unwrap();
        times.push(t0.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    times.drain(..3);
    times.sort_by(f64::total_cmp);
    println!(
        "Burn Flex forward {}: {:.1} us/image median",
        bundle.spec.name,
        times[times.len() / 2] * 1e6
    );
}
