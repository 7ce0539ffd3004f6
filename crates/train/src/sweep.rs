//! Hyper-parameter grids: `optimizer=sgd,adamw lr=0.5,0.01,0.001` applied to a base
//! [`TrainConfig`], one config per combination, each named after its values
//! (`optimizer=sgd,lr=0.5`) so its run folder says what it tried. A key given one value sets
//! it for every run and stays out of the names.
//!
//! ```
//! use inkstone_train::sweep::Grid;
//! use inkstone_train::TrainConfig;
//! let grid = Grid::parse("optimizer=sgd,adamw lr=0.5,0.01").unwrap();
//! let plan = grid.expand(&TrainConfig::defaults_for("lenet5")).unwrap();
//! assert_eq!(plan.runs.len(), 4);
//! assert_eq!(plan.runs[1].name, "optimizer=sgd,lr=0.01");
//! ```

use crate::TrainConfig;
use inkstone_data::augment::Augment;
use serde_json::Value;

/// The settings a grid may vary, as `(key, where it lives in config.json)`. Keys are the
/// `inkstone train` flag names (`batch-size` and `batch_size` both work).
pub const KEYS: &[(&str, &str)] = &[
    ("optimizer", "/optimizer/kind"),
    ("momentum", "/optimizer/momentum"),
    ("weight_decay", "/optimizer/weight_decay"),
    ("lr", "/lr/max"),
    ("schedule", "/lr/kind"),
    ("warmup_epochs", "/lr/warmup_epochs"),
    ("epochs", "/epochs"),
    ("batch_size", "/batch_size"),
    ("max_steps_per_epoch", "/max_steps_per_epoch"),
    ("label_smoothing", "/label_smoothing"),
    ("augment", "/augment"),
    ("seed", "/seed"),
    ("precision", "/precision"),
    ("model", "/model"),
    ("data", "/data"),
];

/// Most runs one grid may expand to; a typo like `seed=1,...,100000` must not queue a week.
pub const MAX_RUNS: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Known keys with their values, in the order given.
    pub axes: Vec<(String, Vec<String>)>,
    /// `key=values` items whose key is not a training setting: left out, and reported.
    pub unknown: Vec<String>,
}

/// One combination: its name and its full config.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    pub name: String,
    pub config: TrainConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub runs: Vec<PlannedRun>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GridError {
    #[error("grid item `{0}`: write key=value[,value…]")]
    Syntax(String),
    #[error("grid key `{0}` is given twice")]
    Repeated(String),
    #[error("`{key}={value}` is not a valid setting: {reason}")]
    Value {
        key: String,
        value: String,
        reason: String,
    },
    #[error("the grid has no known key (known: {})", known_keys())]
    Empty,
    #[error("the grid expands to {0} runs, over the limit of {MAX_RUNS}")]
    TooLarge(usize),
}

pub fn known_keys() -> String {
    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

impl Grid {
    /// Parses whitespace-separated `key=v1,v2` items. Unknown keys are kept aside in
    /// [`Grid::unknown`] (the sweep runs the rest and says what it left out); malformed items
    /// and repeated keys are errors.
    pub fn parse(text: &str) -> Result<Grid, GridError> {
        let mut grid = Grid {
            axes: Vec::new(),
            unknown: Vec::new(),
        };
        for item in text.split_whitespace() {
            let (key, values) = item
                .split_once('=')
                .ok_or_else(|| GridError::Syntax(item.into()))?;
            let key = key.replace('-', "_");
            let values: Vec<String> = values.split(',').map(str::to_string).collect();
            if key.is_empty() || values.iter().any(String::is_empty) {
                return Err(GridError::Syntax(item.into()));
            }
            if grid.axes.iter().any(|(k, _)| *k == key) {
                return Err(GridError::Repeated(key));
            }
            if KEYS.iter().any(|(k, _)| *k == key) {
                grid.axes.push((key, values));
            } else {
                grid.unknown.push(item.to_string());
            }
        }
        if grid.axes.is_empty() {
            return Err(GridError::Empty);
        }
        Ok(grid)
    }

    /// Every combination applied to `base`, the first key varying slowest. Each value is
    /// checked by building the config it gives, so a bad one fails before any run starts.
    pub fn expand(&self, base: &TrainConfig) -> Result<Plan, GridError> {
        let total = self
            .axes
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
            .unwrap_or(usize::MAX);
        if total > MAX_RUNS {
            return Err(GridError::TooLarge(total));
        }
        let base = serde_json::to_value(base).expect("config serialises");
        let mut runs = Vec::with_capacity(total);
        for index in 0..total {
            let mut config = base.clone();
            let mut name = Vec::with_capacity(self.axes.len());
            let mut rest = index;
            // Mixed-radix digits of `index`, last axis fastest.
            let mut picks = vec![0; self.axes.len()];
            for (i, (_, values)) in self.axes.iter().enumerate().rev() {
                picks[i] = rest % values.len();
                rest /= values.len();
            }
            for ((key, values), pick) in self.axes.iter().zip(picks) {
                let value = &values[pick];
                set(&mut config, key, value)?;
                // A key with one value is a setting of the whole sweep, not a difference.
                if values.len() > 1 {
                    name.push(format!("{key}={}", value.replace(['/', '\\'], "_")));
                }
            }
            if name.is_empty() {
                name.push("run".into());
            }
            let config: TrainConfig =
                serde_json::from_value(config).map_err(|e| GridError::Value {
                    key: self.axes[0].0.clone(),
                    value: name.join(","),
                    reason: e.to_string(),
                })?;
            runs.push(PlannedRun {
                name: name.join(","),
                config,
            });
        }
        Ok(Plan { runs })
    }
}

/// Writes `key=value` into a config's JSON, typed for its field.
fn set(config: &mut Value, key: &str, value: &str) -> Result<(), GridError> {
    let bad = |reason: String| GridError::Value {
        key: key.into(),
        value: value.into(),
        reason,
    };
    let pointer = KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, p)| *p)
        .expect("known key");
    let json = match key {
        "augment" => match value {
            "digits" => serde_json::to_value(Augment::digits()).expect("serialises"),
            "characters" => serde_json::to_value(Augment::characters()).expect("serialises"),
            "off" | "none" => Value::Null,
            _ => return Err(bad("use digits, characters or off".into())),
        },
        "optimizer" | "schedule" | "model" | "data" | "precision" => Value::String(value.into()),
        "max_steps_per_epoch" if value == "all" => Value::Null,
        _ => {
            let number: f64 = value.parse().map_err(|_| bad("not a number".into()))?;
            if !number.is_finite() || number < 0.0 {
                return Err(bad("must be a finite number ≥ 0".into()));
            }
            serde_json::from_str(value).map_err(|e| bad(e.to_string()))?
        }
    };
    // Check this one value now, so the error names it rather than the whole combination.
    let mut probe = config.clone();
    *pointer_mut(&mut probe, pointer) = json.clone();
    serde_json::from_value::<TrainConfig>(probe).map_err(|e| bad(e.to_string()))?;
    *pointer_mut(config, pointer) = json;
    Ok(())
}

/// The value at a JSON pointer into a config, created as null if absent (optional fields).
fn pointer_mut<'a>(config: &'a mut Value, pointer: &str) -> &'a mut Value {
    let mut here = config;
    for part in pointer.split('/').skip(1) {
        let object = here.as_object_mut().expect("config sections are objects");
        here = object.entry(part).or_insert(Value::Null);
    }
    here
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::OptimizerKind;

    #[test]
    fn expands_every_combination_first_key_slowest() {
        let grid = Grid::parse("optimizer=sgd,adamw  lr=0.5,0.01,0.001 batch-size=64").unwrap();
        let plan = grid.expand(&TrainConfig::defaults_for("lenet5")).unwrap();
        let names: Vec<&str> = plan.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names.len(), 6);
        assert_eq!(names[0], "optimizer=sgd,lr=0.5");
        assert_eq!(names[5], "optimizer=adamw,lr=0.001");
        let last = &plan.runs[5].config;
        assert_eq!(last.optimizer.kind, OptimizerKind::Adamw);
        assert_eq!(last.lr.max, 0.001);
        assert_eq!(last.batch_size, 64);
        // What the grid does not name stays as the base has it.
        assert_eq!(last.epochs, TrainConfig::defaults_for("lenet5").epochs);
        assert_eq!(plan.runs[0].config.optimizer.kind, OptimizerKind::Sgd);
    }

    #[test]
    fn unknown_keys_are_set_aside_bad_values_and_syntax_are_errors() {
        let grid = Grid::parse("lr=0.1 dropout=0.5").unwrap();
        assert_eq!(grid.unknown, ["dropout=0.5"]);
        assert_eq!(grid.axes.len(), 1);
        assert_eq!(Grid::parse("dropout=0.5"), Err(GridError::Empty));
        assert!(matches!(Grid::parse("lr"), Err(GridError::Syntax(_))));
        assert!(matches!(Grid::parse("lr=0.1,"), Err(GridError::Syntax(_))));
        assert!(matches!(
            Grid::parse("lr=1 lr=2"),
            Err(GridError::Repeated(_))
        ));
        let base = TrainConfig::defaults_for("lenet5");
        for bad in [
            "lr=fast",
            "optimizer=rmsprop",
            "epochs=2.5",
            "lr=-1",
            "augment=heavy",
        ] {
            let err = Grid::parse(bad).unwrap().expand(&base).unwrap_err();
            assert!(matches!(err, GridError::Value { .. }), "{bad}: {err:?}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        let huge = Grid::parse(&format!(
            "seed={} lr={}",
            (0..100)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
            (1..=20)
                .map(|i| format!("0.{i}"))
                .collect::<Vec<_>>()
                .join(",")
        ))
        .unwrap();
        assert_eq!(huge.expand(&base), Err(GridError::TooLarge(2000)));
    }

    #[test]
    fn single_values_set_the_whole_sweep_and_names_stay_one_folder_deep() {
        let base = TrainConfig::defaults_for("lenet5");
        let plan = Grid::parse("data=../data/mnist lr=0.1,0.2")
            .unwrap()
            .expand(&base)
            .unwrap();
        assert_eq!(plan.runs[0].name, "lr=0.1");
        assert_eq!(plan.runs[1].config.data, "../data/mnist");
        let plan = Grid::parse("model=a/b.json,c.json")
            .unwrap()
            .expand(&base)
            .unwrap();
        assert_eq!(plan.runs[0].name, "model=a_b.json");
        let plan = Grid::parse("seed=3").unwrap().expand(&base).unwrap();
        assert_eq!(plan.runs[0].name, "run");
    }

    #[test]
    fn augment_and_step_caps_take_their_presets() {
        let base = TrainConfig::defaults_for("lenet5");
        let plan = Grid::parse("augment=digits,off max-steps-per-epoch=10,all")
            .unwrap()
            .expand(&base)
            .unwrap();
        assert_eq!(plan.runs[0].config.augment, Some(Augment::digits()));
        assert_eq!(plan.runs[0].config.max_steps_per_epoch, Some(10));
        assert_eq!(plan.runs[3].config.augment, None);
        assert_eq!(plan.runs[3].config.max_steps_per_epoch, None);
    }
}
