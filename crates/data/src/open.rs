//! `--data` arguments → loaded and prepared sets: what `train`, `eval`, the data verbs, the
//! benchmarks and the library's own job setup share.

use crate::charset::UnknownLabels;
use crate::packed::PackedSet;
use crate::source::{DataSource, LabelOptions, Loaded};
use crate::synth::set::SynthConfig;
use crate::synth::{SynthSet, SynthStyle, Synthesizer};
use crate::{Charset, DataError, Recipe, Split};
use std::path::Path;

/// A source read for one split: its samples, the name it is shown by (`arg:split` for a
/// source with splits) and the records skipped for labels outside the charset.
pub struct Opened {
    pub loaded: Loaded,
    pub name: String,
    pub unknown: UnknownLabels,
}

impl Opened {
    /// A line for the user when records were skipped, e.g. `chinese-mnist: skipped 3 records
    /// with labels outside the charset (e.g. 〇)`.
    pub fn skipped_note(&self) -> Option<String> {
        (self.unknown.skipped > 0).then(|| {
            format!(
                "{}: skipped {} records with labels outside the charset (e.g. {})",
                self.name,
                self.unknown.skipped,
                self.unknown.examples.join(" ")
            )
        })
    }
}

/// Label options from `--charset` / `--skip-unknown`.
pub fn label_options(charset: Option<&str>, skip_unknown: bool) -> Result<LabelOptions, DataError> {
    Ok(LabelOptions {
        charset: charset.map(Charset::resolve).transpose()?,
        skip_unknown,
    })
}

/// Reads `arg` (its own `:split`, else `split`).
pub fn load(arg: &str, split: Split, labels: &LabelOptions) -> Result<Opened, DataError> {
    let (source, named) = DataSource::parse(arg);
    let split = named.unwrap_or(split);
    let mut unknown = UnknownLabels::new(labels.skip_unknown);
    let loaded = source.load(split, labels, &mut unknown)?;
    let name = if source.has_splits() && named.is_none() {
        format!("{arg}:{split}")
    } else {
        arg.to_string()
    };
    Ok(Opened {
        loaded,
        name,
        unknown,
    })
}

/// The recipe a raw set gets when none is given: MNIST's construction for digits, the
/// character recipe at the model's input side otherwise.
pub fn default_recipe(charset: &Charset, side: u32) -> Recipe {
    if charset.name == "digits" && side == 28 {
        Recipe::mnist()
    } else {
        Recipe::characters(side)
    }
}

/// Prepares a loaded set with `recipe`; a packed set must have been packed with it.
pub fn prepare(loaded: Loaded, recipe: &Recipe, name: &str) -> Result<PackedSet, DataError> {
    match loaded {
        Loaded::Raw(dataset) => {
            if dataset.is_empty() {
                return Err(DataError::invalid(Path::new(name), "no samples"));
            }
            Ok(PackedSet::prepare(&dataset, recipe, name))
        }
        Loaded::Packed(set) if set.meta.recipe != *recipe => Err(DataError::invalid(
            Path::new(name),
            format!(
                "packed with recipe {} but the model uses {}; repack it with `inkstone data pack`",
                recipe_json(&set.meta.recipe),
                recipe_json(recipe)
            ),
        )),
        Loaded::Packed(set) => Ok(set),
    }
}

fn recipe_json(recipe: &Recipe) -> String {
    serde_json::to_string(recipe).expect("a recipe serialises")
}

/// The held-out source: `test_data` (`--test-data`), else the data's own test split.
pub fn test_source(data: &str, test_data: Option<&str>) -> Result<String, DataError> {
    if let Some(t) = test_data {
        return Ok(t.to_string());
    }
    let (source, _) = DataSource::parse(data);
    if !source.has_splits() {
        return Err(DataError::invalid(
            Path::new(data),
            "this source has no test split of its own; name one with --test-data",
        ));
    }
    let base = data
        .strip_suffix(":train")
        .or_else(|| data.strip_suffix(":test"))
        .unwrap_or(data);
    Ok(format!("{base}:test"))
}

/// The charset of a `synth:<charset>` source (e.g. `synth:gb2312-1`), or `None` for any
/// other source.
pub fn synth_charset(data: &str) -> Option<&str> {
    data.strip_prefix("synth:")
}

/// The synthetic training source `data` (`synth:<charset>`) as `synth` configures it: the
/// embedded stroke library, the configured fonts, every class checked writable.
pub fn synth_set(
    data: &str,
    synth: &SynthConfig,
    charset: Charset,
    recipe: &Recipe,
    seed: u64,
) -> Result<SynthSet, DataError> {
    let synthesizer = Synthesizer::embedded(synth.style.clone()).with_fonts(&synth.fonts)?;
    let set = SynthSet::new(synthesizer, charset, recipe.clone(), synth.per_class, seed);
    set.check_complete(data)?;
    Ok(set)
}

/// A synthetic writers' style from `--style`/`--synth-style`: JSON text (`{"cursive": [0.2,
/// 0.8]}`, every field optional, the rest as the default writer) or a JSON file holding it.
pub fn synth_style(arg: &str) -> Result<SynthStyle, DataError> {
    let (text, origin) = if arg.trim_start().starts_with('{') {
        (arg.to_string(), "the style")
    } else {
        let text = std::fs::read_to_string(arg).map_err(|e| DataError::io(Path::new(arg), e))?;
        (text, arg)
    };
    let style: SynthStyle = serde_json::from_str(&text).map_err(|e| {
        DataError::invalid(Path::new(origin), format!("not a synthetic style: {e}"))
    })?;
    style
        .validate()
        .map_err(|e| DataError::invalid(Path::new(origin), e.to_string()))?;
    Ok(style)
}
