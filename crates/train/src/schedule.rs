//! Learning-rate schedules, per step. `steps`, `poly` and `linear` follow the seeds'
//! MindSpore `lr_generator.py` (`get_lr`) exactly; `cosine` is the usual warmup + half cosine.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// `max` throughout.
    Constant,
    /// `max`, then ×0.1 at 30%, ×0.01 at 60%, ×0.001 at 80% of all steps (no warmup).
    Steps,
    /// Linear warmup `init`→`max`, then `max·(1 − progress)²`.
    Poly,
    /// Linear warmup `init`→`max`, then linear `max`→`end`.
    Linear,
    /// Linear warmup `init`→`max`, then a half cosine `max`→`end`.
    Cosine,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub kind: ScheduleKind,
    /// Peak learning rate.
    pub max: f64,
    /// Rate at the first warmup step.
    #[serde(default)]
    pub init: f64,
    /// Rate at the last step (linear, cosine).
    #[serde(default)]
    pub end: f64,
    #[serde(default)]
    pub warmup_epochs: usize,
}

impl LrSchedule {
    pub fn constant(lr: f64) -> Self {
        LrSchedule {
            kind: ScheduleKind::Constant,
            max: lr,
            init: 0.0,
            end: 0.0,
            warmup_epochs: 0,
        }
    }

    /// The learning rate at step `i` (0-based) of `total` steps, `per_epoch` steps an epoch.
    pub fn at(&self, i: usize, total: usize, per_epoch: usize) -> f64 {
        let warmup = (self.warmup_epochs * per_epoch).min(total);
        let (i_f, total_f, warm_f) = (i as f64, total as f64, warmup as f64);
        let in_warmup = i < warmup && self.kind != ScheduleKind::Steps;
        if in_warmup {
            return self.init + (self.max - self.init) * i_f / warm_f;
        }
        let progress = if total > warmup {
            (i_f - warm_f) / (total_f - warm_f)
        } else {
            1.0
        };
        match self.kind {
            ScheduleKind::Constant => self.max,
            ScheduleKind::Steps => {
                let factor = if i_f < 0.3 * total_f {
                    1.0
                } else if i_f < 0.6 * total_f {
                    0.1
                } else if i_f < 0.8 * total_f {
                    0.01
                } else {
                    0.001
                };
                self.max * factor
            }
            ScheduleKind::Poly => (self.max * (1.0 - progress).powi(2)).max(0.0),
            ScheduleKind::Linear => self.max - (self.max - self.end) * progress,
            ScheduleKind::Cosine => {
                self.end
                    + (self.max - self.end) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(kind: ScheduleKind, warmup_epochs: usize) -> LrSchedule {
        LrSchedule {
            kind,
            max: 0.1,
            init: 0.01,
            end: 0.0001,
            warmup_epochs,
        }
    }

    #[test]
    fn steps_decays_at_30_60_80_percent() {
        let s = schedule(ScheduleKind::Steps, 3);
        let lr: Vec<f64> = [0, 29, 30, 59, 60, 79, 80, 99]
            .iter()
            .map(|&i| s.at(i, 100, 10))
            .collect();
        let want = [0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001];
        for (a, b) in lr.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{lr:?}");
        }
    }

    #[test]
    fn poly_matches_lr_generator() {
        // lr_generator.py, poly, lr_init=0.01 lr_max=0.1, warmup 2 epochs of 10 steps, 100 steps:
        // i < 20: 0.01 + 0.0045·i; else 0.1·(1 − (i − 20)/80)².
        let s = schedule(ScheduleKind::Poly, 2);
        assert!((s.at(0, 100, 10) - 0.01).abs() < 1e-12);
        assert!((s.at(10, 100, 10) - 0.055).abs() < 1e-12);
        assert!((s.at(20, 100, 10) - 0.1).abs() < 1e-12);
        assert!((s.at(60, 100, 10) - 0.1 * 0.25).abs() < 1e-12);
        assert!(s.at(99, 100, 10) < 1e-4);
    }

    #[test]
    fn linear_and_cosine_end_at_end() {
        for kind in [ScheduleKind::Linear, ScheduleKind::Cosine] {
            let s = schedule(kind, 1);
            assert!(
                (s.at(10, 1010, 10) - 0.1).abs() < 1e-12,
                "{kind:?} peaks after warmup"
            );
            assert!(
                (s.at(1010, 1010, 10) - 0.0001).abs() < 1e-9,
                "{kind:?} ends at end"
            );
            let mid = s.at(510, 1010, 10);
            assert!((mid - 0.05005).abs() < 1e-9, "{kind:?} midpoint {mid}");
        }
    }
}
