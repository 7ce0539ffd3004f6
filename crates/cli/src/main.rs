//! `inkstone`: handwritten character recognition from data to deployed model, in one binary.
//! A thin layer over the library crates: argument parsing, backend choice, progress output.

mod bench_cmd;
mod cache;
mod cuda_kernels;
mod data_cmd;
mod data_info;
mod data_pack;
mod data_photos;
mod data_synth;
mod dataset;
mod device;
mod eval_cmd;
mod export_cmd;
mod model_cmd;
mod predict_cmd;
mod progress;
mod report_cmd;
mod serve_cmd;
mod sweep_cmd;
mod train_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "inkstone",
    version,
    about = "Handwritten character recognition: data → training → evaluation → prediction"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    cuda: cuda_kernels::CudaArgs,
}

// Parsed once per process: the size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Train a model; writes a run directory with metrics and bundles.
    Train(train_cmd::TrainArgs),
    /// Evaluate a bundle on a labelled set: top-1/top-5, per class, confusion matrix.
    Eval(eval_cmd::EvalArgs),
    /// Compare training runs on one static HTML page: configs, overlaid curves, results.
    Report(report_cmd::ReportArgs),
    /// Train a grid of configs (e.g. optimizer × learning rate) and compare them on one page.
    Sweep(sweep_cmd::SweepArgs),
    /// Export a bundle to ONNX.
    Export(export_cmd::ExportArgs),
    /// Recognise image files (photos or scans of handwriting, any size, either polarity).
    Predict(predict_cmd::PredictArgs),
    /// Serve bundles over HTTP: REST, KServe v2, metrics, and a page to draw on.
    Serve(serve_cmd::ServeArgs),
    /// Inspect model specs.
    #[command(subcommand)]
    Model(model_cmd::ModelCommand),
    /// Get and inspect datasets.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Measure speed (prints figures; compare against the PyTorch scripts in bench/).
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    keep_freed_memory();
    let cli = Cli::parse();
    cli.cuda.choose();
    let result = match cli.command {
        Command::Train(args) => train_cmd::run(args),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Report(args) => report_cmd::run(args),
        Command::Sweep(args) => sweep_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Predict(args) => predict_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Model(cmd) => model_cmd::run(cmd),
        Command::Data(cmd) => data_cmd::run(cmd),
        Command::Bench(cmd) => bench_cmd::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the line already
/// holds (many of our errors name their source in their own message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// `inkstone eval … | head` should end quietly when `head` closes the pipe, as other Unix
/// tools do; Rust ignores SIGPIPE by default, which turns the closed pipe into a panic inside
/// `println!`.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Tells glibc's allocator to keep freed memory for reuse. By default it returns every block
/// over 128 KiB to the kernel when freed, and a training step frees and reallocates its large
/// tensors every time: page faults and TLB shootdowns were a fifth of a LeNet-5 step in
/// `perf`. Measured (`inkstone bench train`, 2 cores): LeNet-5 b128 3 688-3 828 -> 4 995-5 282
/// img/s (under the same load), ResNet-18-64 b32 4.8 -> 5.0 img/s. mimalloc as the global
/// allocator gained as much on LeNet-5 but lost a quarter on ResNet-18 (3.6 img/s).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called first thing in `main`.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Most threads a thread option takes: far past any core count here, and a count in the
/// tens of thousands made tract's pool take minutes to start (`predict --threads 65535`).
const MAX_THREADS: i64 = 1024;

/// The cores this process may use (1 where the system cannot say).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
