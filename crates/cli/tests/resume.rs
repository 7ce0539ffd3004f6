//! Crash safety of training: a run killed with SIGKILL at random moments and continued with
//! `train --resume` ends with exactly the weights of an uninterrupted run (CPU backend), and
//! its folder is readable at every moment in between.

mod common;

use common::{assert_fails_with, inkstone, stderr};
use inkstone_model::Bundle;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Conv, batch norm and dropout: weights, running statistics and random masks must all
/// continue exactly.
const SPEC: &str = r#"{"name":"tiny","input":[1,28,28],"classes":10,"layers":[
  {"kind":"conv","out":8,"kernel":5},{"kind":"batch_norm"},{"kind":"relu"},
  {"kind":"max_pool","kernel":2,"stride":2},{"kind":"flatten"},{"kind":"dropout","p":0.3},
  {"kind":"linear","out":10}]}"#;

fn train_args<'a>(
    spec: &'a str,
    out: &'a str,
    optimizer: &'a str,
    precision: &'a str,
) -> Vec<&'a str> {
    vec![
        "train",
        "--precision",
        precision,
        "--model",
        spec,
        "--data",
        "mnist",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--max-steps-per-epoch",
        "24",
        "--checkpoint-every",
        "5",
        "--augment",
        "digits",
        "--optimizer",
        optimizer,
        "--lr",
        "0.01",
        "--seed",
        "7",
        "--out",
        out,
    ]
}

fn weights(run: &Path) -> inkstone_model::WeightMap {
    Bundle::load(&run.join("last.inkstone"))
        .unwrap_or_else(|e| panic!("{e}"))
        .weights
}

/// Every file a reader would open is whole: config.json parses, bundles load, metrics lines
/// other than a torn last one are JSON.
fn assert_readable(run: &Path) {
    let config = std::fs::read_to_string(run.join("config.json")).expect("config.json");
    serde_json::from_str::<serde_json::Value>(&config).expect("config.json is whole");
    for name in ["last.inkstone", "best.inkstone"] {
        if run.join(name).exists() {
            Bundle::load(&run.join(name)).unwrap_or_else(|e| panic!("{name} after a kill: {e}"));
        }
    }
    if let Ok(text) = std::fs::read_to_string(run.join("metrics.jsonl")) {
        let lines: Vec<&str> = text.lines().collect();
        let whole = if text.ends_with('\n') {
            lines.len()
        } else {
            lines.len() - 1
        };
        for line in lines.iter().take(whole).filter(|l| !l.trim().is_empty()) {
            // A line torn by an earlier kill was closed by the resume; only those may be junk.
            if serde_json::from_str::<serde_json::Value>(line).is_err() {
                assert!(
                    !line.ends_with('}'),
                    "a whole-looking line is not JSON: {line}"
                );
            }
        }
    }
}

#[test]
fn killed_runs_resume_to_the_same_weights_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("tiny.json");
    std::fs::write(&spec, SPEC).unwrap();
    let spec = spec.to_str().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (mut trials, mut kills) = (0, 0);
    // fp16 also carries its loss scale across the kills.
    for (optimizer, precision) in [("adamw", "fp32"), ("sgd", "fp32"), ("adamw", "fp16")] {
        let reference = dir
            .path()
            .join(format!("reference-{optimizer}-{precision}"));
        let started = Instant::now();
        let out = inkstone(&train_args(
            spec,
            reference.to_str().unwrap(),
            optimizer,
            precision,
        ));
        assert!(out.status.success(), "{}", stderr(&out));
        let full_run = started.elapsed();
        let expected = weights(&reference);
        for trial in 0..3 {
            let run = dir
                .path()
                .join(format!("killed-{optimizer}-{precision}-{trial}"));
            let run_arg = run.to_str().unwrap().to_string();
            let mut args: Vec<String> = train_args(spec, &run_arg, optimizer, precision)
                .into_iter()
                .map(String::from)
                .collect();
            // Kill it up to three times at random moments, resuming after each.
            for _ in 0..3 {
                let mut child = Command::new(env!("CARGO_BIN_EXE_inkstone"))
                    .args(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                let wait = full_run.mul_f64(rng.random_range(0.05..0.9));
                std::thread::sleep(wait);
                let finished = child.try_wait().unwrap().is_some();
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += usize::from(!finished);
                if run.join("config.json").exists() {
                    assert_readable(&run);
                    args = vec!["train".into(), "--resume".into(), run_arg.clone()];
                }
            }
            let out = inkstone(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(out.status.success(), "{}", stderr(&out));
            assert_readable(&run);
            assert!(
                weights(&run) == expected,
                "{optimizer} {precision} trial {trial}: resumed weights differ from the \
                 uninterrupted run's"
            );
            trials += 1;
        }
    }
    eprintln!("{trials} killed runs ({kills} kills) all resumed to identical weights");
    assert!(
        kills >= 6,
        "only {kills} kills landed mid-run; the test proved little"
    );
}

#[test]
fn resume_refuses_other_flags_a_missing_run_and_says_when_a_run_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    let out = inkstone(&["train", "--resume", run, "--lr", "0.1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--lr"), "{}", stderr(&out));
    assert_fails_with(&inkstone(&["train", "--resume", run]), &["config.json"]);

    let args = [
        "train",
        "--data",
        "mnist",
        "--epochs",
        "1",
        "--max-steps-per-epoch",
        "3",
        "--out",
        run,
    ];
    assert!(inkstone(&args).status.success());
    let out = inkstone(&["train", "--resume", run]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(common::stdout(&out).contains("nothing to resume"));

    // A checkpoint that is not one is named, and nothing else in the run is touched.
    let last = std::fs::read(Path::new(run).join("last.inkstone")).unwrap();
    std::fs::write(Path::new(run).join("checkpoint.bin"), b"INKCKPT\x01\x05").unwrap();
    assert_fails_with(
        &inkstone(&["train", "--resume", run]),
        &["checkpoint.bin", "truncated"],
    );
    assert_eq!(
        std::fs::read(Path::new(run).join("last.inkstone")).unwrap(),
        last
    );
}

/// Starts a LeNet-5 run with AdamW in `run` and kills it once its first checkpoint exists;
/// returns that checkpoint's bytes.
fn killed_run_with_a_checkpoint(run: &Path) -> Vec<u8> {
    let checkpoint = run.join("checkpoint.bin");
    let mut child = Command::new(env!("CARGO_BIN_EXE_inkstone"))
        .args([
            "train",
            "--data",
            "mnist",
            "--epochs",
            "4",
            "--max-steps-per-epoch",
            "40",
            "--checkpoint-every",
            "10",
            "--optimizer",
            "adamw",
            "--out",
            run.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !checkpoint.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::read(&checkpoint).expect("a checkpoint was written")
}

/// After a failed write: `run`'s checkpoint holds `before`, and no temporary file is left.
fn assert_checkpoint_kept(run: &Path, before: &[u8]) {
    let now = std::fs::read(run.join("checkpoint.bin")).unwrap();
    assert!(now == before, "the previous checkpoint changed");
    let leftovers: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// A full disk, simulated with a file-size limit (RLIMIT_FSIZE) on the process: writes past it
/// fail with EFBIG as they would with ENOSPC. The checkpoint of LeNet-5 with AdamW state
/// (about 0.75 MB) no longer fits, its bundles (0.25 MB) still do.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_a_clear_error_and_the_previous_checkpoint_survives() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_arg = run.to_str().unwrap();
    let before = killed_run_with_a_checkpoint(&run);

    let mut resume = Command::new(env!("CARGO_BIN_EXE_inkstone"));
    resume.args(["train", "--resume", run_arg]);
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        resume.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 400_000,
                rlim_max: 400_000,
            };
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = resume.output().unwrap();
    assert_fails_with(&out, &["checkpoint.bin", "too large"]);
    assert_checkpoint_kept(&run, &before);
    // With room again, the run goes on from that same checkpoint and finishes.
    let out = inkstone(&["train", "--resume", run_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(Bundle::load(&run.join("last.inkstone")).is_ok());
}

/// A run folder that became read-only (permissions taken away; as root, which ignores them,
/// the resume runs as user `nobody` from a copy of the binary it can execute): resuming is a
/// one-line error naming the file it could not write, and the checkpoint is as it was.
/// A fresh run asked to write into a read-only folder fails the same way, before training.
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_run_folder_is_a_clear_error_and_the_checkpoint_survives() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set_mode(dir.path(), 0o755);
    let run = dir.path().join("run");
    let before = killed_run_with_a_checkpoint(&run);
    let binary = dir.path().join("inkstone");
    std::fs::copy(env!("CARGO_BIN_EXE_inkstone"), &binary).unwrap();
    set_mode(&binary, 0o755);
    for entry in std::fs::read_dir(&run).unwrap() {
        set_mode(&entry.unwrap().path(), 0o444);
    }
    set_mode(&run, 0o555);
    let as_unprivileged = |args: &[&str]| {
        let mut command = Command::new(&binary);
        command.args(args).env("HOME", dir.path());
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            command.uid(65534).gid(65534);
        }
        command.output()
    };

    // Where the test may not change its user (a container without CAP_SETUID), there is no
    // way to make a folder read-only to it: say so rather than pass.
    let out = match as_unprivileged(&["train", "--resume", run.to_str().unwrap()]) {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("SKIPPED: cannot run as an unprivileged user here ({e})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_fails_with(&out, &[run.to_str().unwrap(), "ermission denied"]);
    assert_checkpoint_kept(&run, &before);

    let read_only = dir.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    set_mode(&read_only, 0o555);
    let fresh = read_only.join("run");
    let out = as_unprivileged(&[
        "train",
        "--data",
        "mnist",
        "--epochs",
        "1",
        "--max-steps-per-epoch",
        "2",
        "--out",
        fresh.to_str().unwrap(),
    ])
    .unwrap();
    assert_fails_with(&out, &[fresh.to_str().unwrap(), "ermission denied"]);
    assert!(!fresh.exists());
    // Writable again, the run goes on from that same checkpoint.
    set_mode(&run, 0o755);
    for entry in std::fs::read_dir(&run).unwrap() {
        set_mode(&entry.unwrap().path(), 0o644);
    }
    let out = inkstone(&["train", "--resume", run.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}
