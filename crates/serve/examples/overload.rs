//! The service under overload, measured: capacity (closed loop), then `--factor` times that
//! offered open-loop for `--seconds`, and what came back.
//!
//! ```text
//! cargo run --release -p inkstone-serve --example overload -- \
//!     [--model digitcnn|lenet5|charcnn] [--factor 10] [--seconds 5] [--max-concurrency 4] \
//!     [--threads 1] [--connections 256]
//! ```
//!
//! The service runs in this process (as in `tests/overload.rs`), so the peak RSS printed is
//! the service's and the load generator's together.

#[path = "../tests/support/mod.rs"]
mod support;

use inkstone_data::{Charset, Recipe};
use inkstone_model::builtin::builtin;
use inkstone_model::Bundle;
use std::sync::Arc;
use std::time::Duration;
use support::load::{self, ms, quantile, Check, Target};

struct Options {
    model: String,
    factor: f64,
    seconds: f64,
    max_concurrency: usize,
    threads: usize,
    connections: usize,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        model: "digitcnn".into(),
        factor: 10.0,
        seconds: 5.0,
        max_concurrency: 4,
        threads: 1,
        connections: 256,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--model" => options.model = value.clone(),
            "--factor" => options.factor = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => options.seconds = value.parse().map_err(|e| bad(&e))?,
            "--max-concurrency" => options.max_concurrency = value.parse().map_err(|e| bad(&e))?,
            "--threads" => options.threads = value.parse().map_err(|e| bad(&e))?,
            "--connections" => options.connections = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

fn main() -> Result<(), String> {
    let options = options()?;
    let spec = builtin(&options.model, 10, 28).ok_or("--model: lenet5, digitcnn or charcnn")?;
    let bundle =
        Bundle::untrained(spec, Recipe::mnist(), Charset::digits()).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    support::install(dir.path(), "digits", 1, &bundle);
    let server = support::start(dir.path(), |c| {
        c.max_concurrency = options.max_concurrency;
        c.batch.threads = options.threads;
    });
    let png = support::seven_png();
    let ok: Check = Arc::new(|body: &[u8]| body.starts_with(b"{\"model\":\"digits\""));
    let target = Target::post(server.addr, "/v1/predict", "image/png", &png, ok);

    load::closed_loop(&target, options.max_concurrency, Duration::from_millis(500));
    let capacity = load::closed_loop(&target, options.max_concurrency, Duration::from_secs(2));
    let capacity_rate = capacity.served_per_s();

    let duration = Duration::from_secs_f64(options.seconds);
    load::reset_peak_rss();
    let before = load::proc_status_kib("VmRSS").unwrap_or(0);
    let watch = load::RssWatch::start();
    let run = load::open_loop(
        &target,
        options.factor * capacity_rate,
        duration,
        options.connections,
    );
    let peak = watch
        .stop()
        .max(load::proc_status_kib("VmHWM").unwrap_or(0));
    let after = support::get(&server.url("/v2/health/ready")).status;

    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "model {} ({} inference thread(s)), max concurrency {}, {} client connections",
        options.model, options.threads, options.max_concurrency, options.connections
    );
    println!(
        "capacity (closed loop, {} clients, 2 s): {capacity_rate:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        options.max_concurrency,
        ms(quantile(&capacity.ok, 0.5)),
        ms(quantile(&capacity.ok, 0.99)),
    );
    println!(
        "overload ({}× for {:.1} s, open loop): offered {:.0} req/s, served {:.0} req/s \
         ({:.0}% of capacity)",
        options.factor,
        options.seconds,
        run.sent as f64 / options.seconds,
        run.served_per_s(),
        100.0 * run.served_per_s() / capacity_rate,
    );
    if run.unsent > 0 {
        println!(
            "  the generator could not keep up: {} requests due were not sent (it had {} in \
             flight); offered is what was sent",
            run.unsent,
            2 * options.connections
        );
    }
    println!(
        "  503: {:.1}% ({} of {}, {} without Retry-After), other statuses {:?}, connection errors {}, wrong answers {}",
        100.0 * run.refused_share(),
        run.refused.len(),
        run.sent,
        run.refused_without_retry_after,
        run.other,
        run.errors,
        run.wrong,
    );
    println!(
        "  admitted (200) latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; 503 latency p50 {:.2} ms, p99 {:.2} ms",
        ms(quantile(&run.ok, 0.5)),
        ms(quantile(&run.ok, 0.99)),
        ms(quantile(&run.ok, 1.0)),
        ms(quantile(&run.refused, 0.5)),
        ms(quantile(&run.refused, 0.99)),
    );
    println!(
        "  RSS: {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB); /v2/health/ready after: {after}",
        mib(before),
        mib(peak),
        mib(peak.saturating_sub(before)),
    );
    Ok(())
}
