//! `inkstone serve`: the HTTP service over a registry folder of bundles, and the live view of
//! training runs.

use crate::device::DeviceChoice;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use inkstone_serve::batcher::BatchConfig;
use inkstone_serve::upload::UploadPace;
use inkstone_serve::ServeConfig;
use inkstone_train::TrainConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Registry folder: `<name>/<version>/model.inkstone`; rescanned while serving.
    #[arg(long, required_unless_present_any = ["runs", "demo"], conflicts_with = "demo")]
    models: Option<PathBuf>,
    /// Serve a demo: LeNet-5 trained on the embedded digits in seconds (kept in the cache
    /// folder and reused next time), with the page to draw on and its training run at /runs.
    #[arg(long, conflicts_with = "runs")]
    demo: bool,
    /// A folder of training runs (`runs/`, a sweep's folder) to watch live at `/runs`: curves
    /// redrawn as `inkstone train` writes them. With no `--models`, the service is only that.
    #[arg(long, value_name = "DIR")]
    runs: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Model for `/v1/predict` (default: the first by name).
    #[arg(long)]
    default_model: Option<String>,
    /// Largest batch the network runs.
    #[arg(long, default_value_t = 32)]
    max_batch: usize,
    /// How long a request may wait for others to batch with, in milliseconds.
    #[arg(long, default_value_t = 2.0)]
    batch_wait_ms: f64,
    /// Inference threads per model, each running a batch at a time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=crate::MAX_THREADS))]
    threads: u16,
    /// Threads one network run spreads its matrix products over (or a bundle's test-time views
    /// run side by side on), per inference thread (default: the cores shared out among the
    /// inference threads, for views or a network large enough to gain from them, else one).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=crate::MAX_THREADS))]
    op_threads: Option<u16>,
    /// Inference requests in progress at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 512)]
    max_concurrency: usize,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// Largest image, in pixels (width × height), checked before decoding.
    #[arg(long, default_value_t = 40_000_000)]
    max_pixels: u64,
    /// Time limit for running a request once its body has arrived, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout_s: f64,
    /// Seconds a request body's first bytes may take; after it the body must keep up
    /// `--min-body-rate`, or the request is answered 408 (it holds no inference slot meanwhile).
    #[arg(long, default_value_t = 2.0)]
    body_grace_s: f64,
    /// Bytes per second a request body must average after `--body-grace-s`.
    #[arg(long, default_value_t = 4096)]
    min_body_rate: u64,
    /// Time a client has to send a request's headers, in seconds; idle keep-alive connections
    /// are closed after it too.
    #[arg(long, default_value_t = 10.0)]
    header_timeout_s: f64,
    /// Connections open at once; more are answered 503 and closed at once.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Seconds between rescans of the registry folder.
    #[arg(long, default_value_t = 2.0)]
    reload_s: f64,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let seconds = |name: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(anyhow!("--{name}: {v} is not a duration"))
        }
    };
    if args.min_body_rate == 0 {
        return Err(anyhow!("--min-body-rate 0: use 1 or more bytes per second"));
    }
    let upload = UploadPace {
        grace: seconds("body-grace-s", args.body_grace_s)?,
        min_rate: args.min_body_rate,
    };
    let request_timeout = seconds("timeout-s", args.timeout_s)?;
    let header_timeout =
        seconds("header-timeout-s", args.header_timeout_s)?.max(Duration::from_millis(1));
    let reload_interval = seconds("reload-s", args.reload_s)?.max(Duration::from_millis(100));
    let batch = BatchConfig {
        max_batch: args.max_batch.max(1),
        max_wait: seconds("batch-wait-ms", args.batch_wait_ms / 1e3)?,
        threads: args.threads.into(),
        op_threads: args.op_threads.map(usize::from),
        ..BatchConfig::default()
    };
    // Every option is checked before the demo trains anything.
    let (models_dir, runs_dir) = match args.demo {
        true => {
            let (models, run) = demo_registry()?;
            (Some(models), Some(run))
        }
        false => (args.models, args.runs),
    };
    let config = ServeConfig {
        models_dir,
        runs_dir,
        default_model: args.default_model,
        max_body_bytes: args.max_body_bytes,
        max_pixels: args.max_pixels,
        max_concurrency: args.max_concurrency.max(1),
        request_timeout,
        upload,
        header_timeout,
        max_connections: args.max_connections.max(1),
        batch,
        reload_interval,
    };
    Ok(inkstone_serve::run(args.addr, config)?)
}

/// Epochs of the demo model: about 10 s on two cores, 96% on the embedded test digits.
const DEMO_EPOCHS: usize = 3;

/// The demo's registry (`digits` version 1) and its training run, under the user's cache
/// folder: trained once, reused while its bundle loads.
fn demo_registry() -> Result<(PathBuf, PathBuf)> {
    let dir = crate::cache::user_cache()
        .ok_or_else(|| anyhow!("--demo: no cache folder (set XDG_CACHE_HOME or HOME)"))?
        .join("demo");
    let models = dir.join("models");
    let run = dir.join("run");
    let bundle = models.join("digits").join("1").join("model.inkstone");
    if inkstone_model::Bundle::load(&bundle).is_ok() && run.is_dir() {
        eprintln!("demo: {} (trained before)", bundle.display());
        return Ok((models, run));
    }
    eprintln!("demo: training LeNet-5 on the embedded digits ({DEMO_EPOCHS} epochs)");
    if run.exists() {
        std::fs::remove_dir_all(&run).with_context(|| run.display().to_string())?;
    }
    let config = TrainConfig {
        epochs: DEMO_EPOCHS,
        seed: 1,
        ..TrainConfig::defaults_for("lenet5")
    };
    let done = crate::train_cmd::run_job(
        &config,
        None,
        false,
        &[DeviceChoice::Cpu],
        Some(run.clone()),
    )?;
    let bytes =
        std::fs::read(&done.best_bundle).with_context(|| done.best_bundle.display().to_string())?;
    let folder = bundle.parent().expect("the bundle path has folders");
    std::fs::create_dir_all(folder).with_context(|| folder.display().to_string())?;
    inkstone_data::atomic::write_atomically(&bundle, &bytes)
        .with_context(|| bundle.display().to_string())?;
    eprintln!(
        "demo: {:.2}% on {}; {}",
        100.0 * done.best_top1,
        done.test_name,
        bundle.display()
    );
    Ok((models, run))
}
