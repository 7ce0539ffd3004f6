//! `inkstone serve`: the HTTP service over a registry folder of bundles.

use anyhow::{anyhow, Result};
use clap::Args;
use inkstone_serve::batcher::BatchConfig;
use inkstone_serve::ServeConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Registry folder: `<name>/<version>/model.inkstone`; rescanned while serving.
    #[arg(long)]
    models: PathBuf,
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
    /// Inference threads per model.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Inference requests in progress at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 512)]
    max_concurrency: usize,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_body_bytes: usize,
    /// Largest image, in pixels (width × height), checked before decoding.
    #[arg(long, default_value_t = 40_000_000)]
    max_pixels: u64,
    /// Per-request time limit, in seconds (uploads included).
    #[arg(long, default_value_t = 10.0)]
    timeout_s: f64,
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
    let mut config = ServeConfig::new(args.models);
    config.default_model = args.default_model;
    config.max_body_bytes = args.max_body_bytes;
    config.max_pixels = args.max_pixels;
    config.max_concurrency = args.max_concurrency.max(1);
    config.request_timeout = seconds("timeout-s", args.timeout_s)?;
    config.reload_interval = seconds("reload-s", args.reload_s)?.max(Duration::from_millis(100));
    config.batch = BatchConfig {
        max_batch: args.max_batch.max(1),
        max_wait: seconds("batch-wait-ms", args.batch_wait_ms / 1e3)?,
        threads: args.threads.max(1),
        ..BatchConfig::default()
    };
    inkstone_serve::run(args.addr, config).map_err(|e| anyhow!(e))
}
