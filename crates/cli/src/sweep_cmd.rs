//! `inkstone sweep`: a grid of training runs from one base config, run as child `inkstone
//! train` processes (so one that fails, diverges or is killed cannot take the others down),
//! one or N at a time, then compared on one page.
//!
//! OUT/
//!   <key=value,…>/        one run folder each, as `inkstone train` writes it, + train.log
//!   report.html           all runs side by side (what could not run is listed on the page)
//!   summary.md            the results table
//!
//! Running the same sweep again skips finished runs and resumes interrupted ones.

use crate::device::DeviceChoice;
use crate::progress::CountProgress;
use anyhow::{Context, Result};
use clap::Args;
use inkstone_data::atomic::write_atomically;
use inkstone_train::checkpoint::{self, RunState};
use inkstone_train::plots::read_metrics;
use inkstone_train::report::compare::Comparison;
use inkstone_train::sweep::{known_keys, Grid, PlannedRun};
use inkstone_train::TrainConfig;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Args)]
pub struct SweepArgs {
    /// The config every run starts from (a run's config.json, or one written by hand);
    /// default: the `--model` defaults.
    #[arg(long, value_name = "CONFIG")]
    base: Option<PathBuf>,
    /// Model for the defaults when no --base is given.
    #[arg(long, default_value = "lenet5")]
    model: String,
    /// Settings to vary: `key=v1,v2 key2=…`, every combination is run. Keys: optimizer, lr,
    /// momentum, weight-decay, schedule, warmup-epochs, epochs, batch-size,
    /// max-steps-per-epoch, label-smoothing, augment, seed, model, data.
    #[arg(long)]
    grid: String,
    /// Runs at once (each is its own process; on a CPU they share its cores).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// cpu, cuda or cuda:N, passed to every run.
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Sweep folder (default: sweeps/<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// How one run ended.
enum Outcome {
    Trained { seconds: f64 },
    DoneEarlier,
    Failed { why: String },
}

pub fn run(args: SweepArgs) -> Result<()> {
    let base = match &args.base {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
            serde_json::from_str::<TrainConfig>(&text)
                .with_context(|| format!("{}: not a training config", path.display()))?
        }
        None => TrainConfig::defaults_for(&args.model),
    };
    let grid = Grid::parse(&args.grid).context("--grid")?;
    let mut notes = Vec::new();
    for item in &grid.unknown {
        let note = format!(
            "grid item `{item}` skipped: not a training setting (known: {})",
            known_keys()
        );
        eprintln!("warning: {note}");
        notes.push(note);
    }
    let plan = grid.expand(&base).context("--grid")?;
    let out = args.out.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from("sweeps").join(secs.to_string())
    });
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    eprintln!(
        "sweep: {} runs into {}, {} at a time",
        plan.runs.len(),
        out.display(),
        args.jobs.max(1)
    );

    let outcomes = run_all(&plan.runs, &out, &args)?;
    let mut dirs = Vec::new();
    for (planned, outcome) in plan.runs.iter().zip(&outcomes) {
        let dir = out.join(&planned.name);
        if let Outcome::Failed { why } = outcome {
            notes.push(format!("{}: failed: {why}", planned.name));
        }
        if dir.join("config.json").exists() {
            dirs.push(dir);
        }
    }
    let table = summary_table(&plan.runs, &outcomes, &out);
    write_atomically(&out.join("summary.md"), table.as_bytes())
        .with_context(|| out.join("summary.md").display().to_string())?;
    print!("{table}");
    let report = out.join("report.html");
    if dirs.is_empty() {
        anyhow::bail!(
            "no run of the sweep started; see the train.log files in {}",
            out.display()
        );
    }
    let mut comparison = Comparison::load(&dirs);
    comparison.skipped.extend(notes);
    let html = comparison.render_html().context("drawing the report")?;
    write_atomically(&report, html.as_bytes()).with_context(|| report.display().to_string())?;
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Failed { .. }))
        .count();
    println!(
        "{}: {} runs compared{}",
        report.display(),
        comparison.runs.len(),
        if failed > 0 {
            format!(", {failed} failed (listed on the page)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Runs the plan `jobs` at a time; the outcomes in plan order.
fn run_all(runs: &[PlannedRun], out: &Path, args: &SweepArgs) -> Result<Vec<Outcome>> {
    let exe = std::env::current_exe().context("finding the inkstone binary")?;
    let next = Mutex::new(0usize);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(runs.iter().map(|_| None).collect());
    let progress = Mutex::new(CountProgress::new("runs", Some(runs.len() as u64)));
    let finished = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.clamp(1, runs.len().max(1)) {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap();
                    let index = *next;
                    *next += 1;
                    index
                };
                let Some(planned) = runs.get(index) else {
                    break;
                };
                let outcome = run_one(&exe, planned, out, &args.device);
                let done = {
                    let mut finished = finished.lock().unwrap();
                    *finished += 1;
                    *finished
                };
                let mut progress = progress.lock().unwrap();
                progress.suspend(|| {
                    eprintln!(
                        "[{done}/{}] {}: {}",
                        runs.len(),
                        planned.name,
                        describe(&outcome, &out.join(&planned.name))
                    )
                });
                progress.advance(1);
                outcomes.lock().unwrap()[index] = Some(outcome);
            });
        }
    });
    progress.into_inner().unwrap().finish();
    Ok(outcomes
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|o| o.expect("every run was taken"))
        .collect())
}

/// Trains one combination in a child process, or resumes it, or sees it is already done.
fn run_one(exe: &Path, planned: &PlannedRun, out: &Path, device: &DeviceChoice) -> Outcome {
    let dir = out.join(&planned.name);
    let failed = |why: String| Outcome::Failed { why };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return failed(format!("{}: {e}", dir.display()));
    }
    let mut command = Command::new(exe);
    command.arg("train");
    if dir.join("config.json").exists() {
        match checkpoint::state(&dir, planned.config.epochs) {
            Ok(RunState::Finished) => return Outcome::DoneEarlier,
            Ok(_) => {}
            Err(e) => return failed(e.to_string()),
        }
        command.arg("--resume").arg(&dir);
    } else {
        let config_file = out.join(format!(".{}.config.json", planned.name));
        let text = serde_json::to_string_pretty(&planned.config).expect("config serialises");
        if let Err(e) = write_atomically(&config_file, text.as_bytes()) {
            return failed(format!("{}: {e}", config_file.display()));
        }
        command
            .arg("--config")
            .arg(&config_file)
            .arg("--out")
            .arg(&dir);
    }
    command.arg("--device").arg(device.to_string());
    let log_path = dir.join("train.log");
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
    {
        Ok(log) => log,
        Err(e) => return failed(format!("{}: {e}", log_path.display())),
    };
    let stderr_log = match log.try_clone() {
        Ok(l) => l,
        Err(e) => return failed(format!("{}: {e}", log_path.display())),
    };
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr_log)
        .status();
    match status {
        Ok(s) if s.success() => Outcome::Trained {
            seconds: started.elapsed().as_secs_f64(),
        },
        Ok(s) => failed(format!(
            "{} ({}; log: {})",
            last_error_line(&log_path),
            s,
            log_path.display()
        )),
        Err(e) => failed(format!("could not start {}: {e}", exe.display())),
    }
}

/// The reason a child gave: its last `error:` line, else its last line.
fn last_error_line(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("error:"))
        .or(lines.last())
        .map_or_else(|| "no output".to_string(), |l| l.trim().to_string())
}

/// Best and last test top-1 of a run folder, from its metrics.
fn results(dir: &Path) -> Option<(f64, f64, usize)> {
    let (epochs, _) = read_metrics(&dir.join("metrics.jsonl")).ok()?;
    let last = epochs.last()?;
    let best = epochs
        .iter()
        .map(|e| e.test_top1)
        .filter(|v| v.is_finite())
        .fold(f64::NAN, f64::max);
    Some((best, last.test_top1, epochs.len()))
}

fn describe(outcome: &Outcome, dir: &Path) -> String {
    let scores = results(dir).map_or(String::new(), |(best, _, _)| {
        format!("best test top-1 {:.2}%", 100.0 * best)
    });
    match outcome {
        Outcome::Trained { seconds } => format!("{scores} in {seconds:.1}s"),
        Outcome::DoneEarlier => format!("{scores} (finished earlier)"),
        Outcome::Failed { why } => format!("FAILED: {why}"),
    }
}

/// A Markdown table of the sweep, one row per run, for the terminal and for a README.
fn summary_table(runs: &[PlannedRun], outcomes: &[Outcome], out: &Path) -> String {
    let mut table =
        String::from("| run | test top-1 (best) | test top-1 (last) | epochs | status |\n");
    table.push_str("|---|---:|---:|---:|---|\n");
    for (planned, outcome) in runs.iter().zip(outcomes) {
        let (best, last, epochs) = match results(&out.join(&planned.name)) {
            Some((best, last, n)) => (
                format!("{:.2}%", 100.0 * best),
                format!("{:.2}%", 100.0 * last),
                n.to_string(),
            ),
            None => ("–".into(), "–".into(), "0".into()),
        };
        let status = match outcome {
            Outcome::Trained { seconds } => format!("trained, {seconds:.0}s"),
            Outcome::DoneEarlier => "finished earlier".into(),
            Outcome::Failed { why } => format!("failed: {}", why.replace('|', "/")),
        };
        table.push_str(&format!(
            "| {} | {best} | {last} | {epochs} | {status} |\n",
            planned.name
        ));
    }
    table
}
