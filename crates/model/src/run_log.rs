//! One line of a run's `metrics.jsonl`: what the trainer writes after every few steps and
//! every epoch, and what the plots, the run reports and the service's run page read back. One
//! type for both sides, so a field the trainer writes is a field every reader knows.
//!
//! Rates are fractions (0.97, not 97). A value that is not a number (a diverged loss is NaN)
//! is written as `null` and read back as NaN, so the rest of the line is kept.

use serde::{Deserialize, Deserializer, Serialize};

/// A `metrics.jsonl` line, tagged by its `"kind"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RunLine {
    Epoch(EpochRecord),
    Step(StepRecord),
}

/// A `{"kind":"epoch",…}` line: the epoch's training figures and its evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    #[serde(deserialize_with = "number_or_nan")]
    pub train_loss: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub train_accuracy: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub test_loss: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub test_top1: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub test_top5: f64,
    #[serde(default = "nan", deserialize_with = "number_or_nan")]
    pub test_top10: f64,
    #[serde(default = "nan", deserialize_with = "number_or_nan")]
    pub images_per_sec: f64,
    #[serde(default = "nan", deserialize_with = "number_or_nan")]
    pub seconds: f64,
    /// The run's real-handwriting set (`--real-test`), when it has one, and the figures on it
    /// (NaN, and not written, without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_data: Option<String>,
    #[serde(
        default = "nan",
        deserialize_with = "number_or_nan",
        skip_serializing_if = "is_nan"
    )]
    pub real_top1: f64,
    #[serde(
        default = "nan",
        deserialize_with = "number_or_nan",
        skip_serializing_if = "is_nan"
    )]
    pub real_top5: f64,
    #[serde(
        default = "nan",
        deserialize_with = "number_or_nan",
        skip_serializing_if = "is_nan"
    )]
    pub real_top10: f64,
}

/// A `{"kind":"step",…}` line: the loss and accuracy of the steps since the previous one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Global step (1-based, counted over the whole run).
    pub step: usize,
    #[serde(default)]
    pub epoch: usize,
    #[serde(default = "nan", deserialize_with = "number_or_nan")]
    pub lr: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub loss: f64,
    #[serde(default = "nan", deserialize_with = "number_or_nan")]
    pub accuracy: f64,
    /// fp16 only: the loss scale and the overflowed steps so far, as one would watch
    /// PyTorch's GradScaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_steps: Option<u64>,
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

fn number_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_back_as_written_with_nan_as_null() {
        let epoch = RunLine::Epoch(EpochRecord {
            epoch: 2,
            train_loss: f64::NAN,
            train_accuracy: 0.5,
            test_loss: 0.4,
            test_top1: 0.9,
            test_top5: 0.99,
            test_top10: 1.0,
            images_per_sec: 900.0,
            seconds: 3.0,
            real_data: None,
            real_top1: f64::NAN,
            real_top5: f64::NAN,
            real_top10: f64::NAN,
        });
        let text = serde_json::to_string(&epoch).unwrap();
        assert!(
            text.starts_with(r#"{"kind":"epoch","epoch":2,"train_loss":null,"#),
            "{text}"
        );
        assert!(
            !text.contains("real"),
            "no real set, no real fields: {text}"
        );
        let RunLine::Epoch(back) = serde_json::from_str(&text).unwrap() else {
            panic!("an epoch line reads as an epoch");
        };
        assert!(back.train_loss.is_nan());
        assert_eq!((back.epoch, back.test_top1), (2, 0.9));

        let step = RunLine::Step(StepRecord {
            step: 7,
            epoch: 1,
            lr: 0.01,
            loss: 1.5,
            accuracy: 0.25,
            loss_scale: Some(1024.0),
            skipped_steps: Some(1),
        });
        let text = serde_json::to_string(&step).unwrap();
        assert_eq!(serde_json::from_str::<RunLine>(&text).unwrap(), step);
    }
}
