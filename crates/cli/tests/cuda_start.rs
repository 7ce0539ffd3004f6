//! `--device cuda` on a machine without the NVIDIA driver: one line naming the missing library,
//! exit status 1, and no run folder. Only with `--features cuda`, where no libcuda is installed
//! (CI builds this feature with clippy only; run `cargo test --release --features cuda
//! --test cuda_start` on a CPU machine).
#![cfg(feature = "cuda")]

mod common;

use common::{assert_fails_with, inkstone};

fn driver_installed() -> bool {
    std::process::Command::new("ldconfig")
        .arg("-p")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("libcuda.so"))
        .unwrap_or(false)
}

#[test]
fn cuda_without_the_driver_is_one_line_naming_libcuda_and_writes_nothing() {
    if driver_installed() {
        eprintln!("SKIPPED: this machine has libcuda.so");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = inkstone(&[
        "train",
        "--device",
        "cuda:0",
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_fails_with(&out, &["cuda:0", "libcuda.so", "not found"]);
    assert!(!run.exists(), "a run folder was made");
    let out = inkstone(&["bench", "train", "--model", "lenet5", "--device", "cuda"]);
    assert_fails_with(&out, &["cuda:0", "libcuda.so"]);
}
