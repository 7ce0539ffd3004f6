//! Training progress: a live bar on a terminal, plain periodic lines otherwise (CI logs).

use indicatif::{ProgressBar, ProgressStyle};
use inkstone_train::{EpochReport, Observer, StepReport};
use std::io::IsTerminal;

pub struct TrainProgress {
    bar: Option<ProgressBar>,
    interactive: bool,
    last_line: std::time::Instant,
    epoch_started: std::time::Instant,
}

impl TrainProgress {
    pub fn new() -> Self {
        TrainProgress {
            bar: None,
            interactive: std::io::stderr().is_terminal(),
            last_line: std::time::Instant::now(),
            epoch_started: std::time::Instant::now(),
        }
    }
}

impl Observer for TrainProgress {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.epoch_started = std::time::Instant::now();
        if self.interactive {
            let bar = ProgressBar::new(steps as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} {bar:30} {pos}/{len} {msg} [{elapsed_precise}<{eta_precise}]",
                )
                .expect("valid template"),
            );
            bar.set_prefix(format!("{epoch}/{epochs}"));
            self.bar = Some(bar);
        }
    }

    fn step(&mut self, r: &StepReport) {
        let msg = format!(
            "loss {:.4} acc {:.2}% lr {:.2e} {:.0} img/s",
            r.loss,
            100.0 * r.accuracy,
            r.lr,
            r.images_per_sec
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(r.step as u64);
                bar.set_message(msg);
            }
            None if self.last_line.elapsed().as_secs() >= 10 => {
                // Steps done since this process started the epoch (a resumed one starts late).
                let elapsed = self.epoch_started.elapsed().as_secs_f64();
                let eta = r.images_per_sec.is_finite().then(|| {
                    let per_step = elapsed / r.step.max(1) as f64;
                    per_step * r.steps.saturating_sub(r.step) as f64
                });
                let eta = eta.map_or(String::new(), |s| format!(", epoch ETA {s:.0}s"));
                eprintln!("epoch {} step {}/{} {msg}{eta}", r.epoch, r.step, r.steps);
                self.last_line = std::time::Instant::now();
            }
            None => {}
        }
    }

    fn epoch_finished(&mut self, r: &EpochReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let real = r.real.as_ref().map_or(String::new(), |(name, e)| {
            format!(
                " | real {name}: top-1 {:.2}% top-10 {:.2}%",
                100.0 * e.top1,
                100.0 * e.top10
            )
        });
        eprintln!(
            "epoch {}/{}: train loss {:.4} acc {:.2}% | test top-1 {:.2}% top-5 {:.2}% loss {:.4}{real} | {:.0} img/s, {:.1}s{}",
            r.epoch,
            r.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            100.0 * r.test.top1,
            100.0 * r.test.top5,
            r.test.loss,
            r.images_per_sec,
            r.seconds,
            if r.best { " (best)" } else { "" }
        );
    }
}

/// Progress of a count of items (samples packed, synthesised, …): a bar with rate and ETA on
/// a terminal, a plain line every 10 s otherwise.
pub struct CountProgress {
    bar: Option<ProgressBar>,
    what: String,
    total: Option<u64>,
    done: u64,
    started: std::time::Instant,
    last_line: std::time::Instant,
}

impl CountProgress {
    pub fn new(what: &str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(n) => (
                    ProgressBar::new(n),
                    "{prefix} {bar:30} {pos}/{len} {per_sec} [{elapsed_precise}<{eta_precise}]",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{prefix} {spinner} {pos} {per_sec} [{elapsed_precise}]",
                ),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
            bar.set_prefix(what.to_string());
            bar
        });
        let now = std::time::Instant::now();
        CountProgress {
            bar,
            what: what.to_string(),
            total,
            done: 0,
            started: now,
            last_line: now,
        }
    }

    pub fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.last_line.elapsed().as_secs() >= 10 => {
                let rate = self.done as f64 / self.started.elapsed().as_secs_f64();
                let of = self.total.map_or(String::new(), |t| format!("/{t}"));
                let eta = match self.total {
                    Some(t) if rate > 0.0 => {
                        format!(", ETA {:.0}s", t.saturating_sub(self.done) as f64 / rate)
                    }
                    _ => String::new(),
                };
                let rate = if rate >= 10.0 {
                    format!("{rate:.0}/s")
                } else {
                    format!("{:.1}/min", rate * 60.0)
                };
                eprintln!("{} {}{of} ({rate}{eta})", self.what, self.done);
                self.last_line = std::time::Instant::now();
            }
            None => {}
        }
    }

    /// Prints with the bar hidden, so a line of output does not tear it.
    pub fn suspend(&self, print: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
