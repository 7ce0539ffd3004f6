//! Reading `metrics.jsonl` back: the plots and reports draw what the run recorded, and a run
//! that crashed mid-write leaves a torn last line that must not stop them.

pub use inkstone_model::run_log::{EpochRecord, StepRecord};
use serde::Deserialize;
use std::path::Path;

/// Epoch records of a `metrics.jsonl`, and how many lines were skipped because they are not
/// valid records (a torn last line after a crash, junk). Lines of other kinds (per-step
/// records) and blank lines are neither kept nor counted.
///
/// ```no_run
/// let (epochs, skipped) = inkstone_train::plots::read_metrics("runs/a/metrics.jsonl".as_ref())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_metrics(path: &Path) -> std::io::Result<(Vec<EpochRecord>, usize)> {
    let bytes = std::fs::read(path)?;
    // A write torn inside a multi-byte character must spoil only its own line.
    Ok(parse_metrics(&String::from_utf8_lossy(&bytes)))
}

/// The step records of a `metrics.jsonl`'s text, in step order; where a resumed run repeated
/// steps, the later records. Anything else is ignored (the epoch reader counts junk).
pub fn parse_steps(text: &str) -> Vec<StepRecord> {
    let mut steps: Vec<StepRecord> = text
        .lines()
        .filter(|l| l.contains("\"step\""))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
        .filter(|v| v.get("kind").and_then(|k| k.as_str()) == Some("step"))
        .filter_map(|v| StepRecord::deserialize(v).ok())
        .collect();
    // Stable: among equal steps the later line stays last, and is the one kept.
    steps.sort_by_key(|s| s.step);
    let mut kept: Vec<StepRecord> = Vec::with_capacity(steps.len());
    for s in steps {
        match kept.last_mut() {
            Some(last) if last.step == s.step => *last = s,
            _ => kept.push(s),
        }
    }
    kept
}

/// [`read_metrics`] on text already read.
pub fn parse_metrics(text: &str) -> (Vec<EpochRecord>, usize) {
    let (mut records, mut skipped) = (Vec::new(), 0);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            skipped += 1;
            continue;
        };
        if value.get("kind").and_then(|k| k.as_str()) != Some("epoch") {
            skipped += !value.is_object() as usize;
            continue;
        }
        match EpochRecord::deserialize(value) {
            Ok(record) => records.push(record),
            Err(_) => skipped += 1,
        }
    }
    (records, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"kind":"epoch","epoch":1,"train_loss":0.5,"train_accuracy":0.8,"test_loss":0.4,"test_top1":0.85,"test_top5":0.99,"test_top10":1.0,"images_per_sec":900.0,"seconds":2.5}"#;

    #[test]
    fn step_records_in_step_order_the_rerun_wins() {
        let text = concat!(
            r#"{"kind":"step","epoch":1,"step":10,"loss":2.0,"accuracy":0.1,"lr":0.1}"#,
            "\n",
            r#"{"kind":"step","epoch":1,"step":20,"loss":1.5,"accuracy":0.3,"lr":0.1}"#,
            "\n",
            r#"{"kind":"step","epoch":1,"step":20,"loss":1.4,"accuracy":0.3,"lr":0.1}"#,
            "\n",
            r#"{"kind":"step","epoch":1,"step":30,"loss":null,"lr":0.1}"#,
            "\n",
            r#"{"kind":"step","epoch":1,"st"#,
        );
        let steps = parse_steps(text);
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[1],
            StepRecord {
                step: 20,
                epoch: 1,
                lr: 0.1,
                loss: 1.4,
                accuracy: 0.3,
                loss_scale: None,
                skipped_steps: None,
            }
        );
        assert!(steps[2].loss.is_nan());
    }

    #[test]
    fn keeps_records_skips_and_counts_torn_and_junk_lines() {
        let second = LINE.replace("\"epoch\":1", "\"epoch\":2");
        let torn = &LINE[..LINE.len() / 2];
        let text = format!("{LINE}\nnot json\n[1,2]\n{{\"kind\":\"epoch\",\"epoch\":\"x\"}}\n\n{{\"kind\":\"step\",\"step\":3}}\n{second}\n{torn}");
        let (records, skipped) = parse_metrics(&text);
        assert_eq!(records.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(skipped, 4, "junk, array, bad epoch, torn line");
        assert_eq!(records[0].test_top1, 0.85);
    }

    #[test]
    fn null_reads_as_nan_and_missing_optional_fields_too() {
        let line = r#"{"kind":"epoch","epoch":1,"train_loss":null,"train_accuracy":0.1,"test_loss":null,"test_top1":0.1,"test_top5":0.5}"#;
        let (records, skipped) = parse_metrics(line);
        assert_eq!(skipped, 0);
        assert!(records[0].train_loss.is_nan() && records[0].test_top10.is_nan());
    }
}
