//! `--data` arguments → prepared sets, shared by train, eval and the data verbs.

use anyhow::{bail, Context, Result};
use inkstone_data::charset::UnknownLabels;
use inkstone_data::packed::PackedSet;
use inkstone_data::source::{DataSource, LabelOptions, Loaded};
use inkstone_data::synth::set::SynthConfig;
use inkstone_data::synth::{font, SynthSet, SynthStyle, Synthesizer};
use inkstone_data::Split;
use inkstone_data::{Charset, Recipe};
use std::path::{Path, PathBuf};

/// Label options from the `--charset` / `--skip-unknown` flags.
pub fn label_options(charset: Option<&str>, skip_unknown: bool) -> Result<LabelOptions> {
    Ok(LabelOptions {
        charset: charset.map(Charset::resolve).transpose()?,
        skip_unknown,
    })
}

/// Reads `arg` (its own `:split`, else `split`), reporting skipped labels on stderr.
pub fn load(arg: &str, split: Split, labels: &LabelOptions) -> Result<(Loaded, String)> {
    let (source, named) = DataSource::parse(arg);
    let split = named.unwrap_or(split);
    let mut unknown = UnknownLabels::new(labels.skip_unknown);
    let loaded = source.load(split, labels, &mut unknown)?;
    if unknown.skipped > 0 {
        eprintln!(
            "{source}: skipped {} records with labels outside the charset (e.g. {})",
            unknown.skipped,
            unknown.examples.join(" ")
        );
    }
    let name = if source.has_splits() {
        format!(
            "{arg}{}",
            if named.is_some() {
                String::new()
            } else {
                format!(":{split}")
            }
        )
    } else {
        arg.to_string()
    };
    Ok((loaded, name))
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

pub fn charset_of(loaded: &Loaded) -> &Charset {
    match loaded {
        Loaded::Raw(d) => &d.charset,
        Loaded::Packed(p) => &p.meta.charset,
    }
}

/// Prepares a loaded set with `recipe`; a packed set must have been packed with it.
pub fn prepare(loaded: Loaded, recipe: &Recipe, name: &str) -> Result<PackedSet> {
    match loaded {
        Loaded::Raw(dataset) => {
            if dataset.is_empty() {
                bail!("{name}: no samples");
            }
            Ok(PackedSet::prepare(&dataset, recipe, name))
        }
        Loaded::Packed(set) => {
            if set.meta.recipe != *recipe {
                bail!(
                    "{name}: packed with recipe {} but the model uses {}; repack it with `inkstone data pack`",
                    serde_json::to_string(&set.meta.recipe)?,
                    serde_json::to_string(recipe)?
                );
            }
            Ok(set)
        }
    }
}

/// The held-out source: `--test-data`, else the data's own test split.
pub fn test_source(data: &str, test_data: Option<&str>) -> Result<String> {
    if let Some(t) = test_data {
        return Ok(t.to_string());
    }
    let (source, _) = DataSource::parse(data);
    if !source.has_splits() {
        bail!("{data}: this source has no test split of its own; name one with --test-data");
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
) -> Result<SynthSet> {
    let fonts = font_paths(&synth.fonts)?;
    let synthesizer = Synthesizer::embedded(synth.style.clone()).with_fonts(&fonts)?;
    let set = SynthSet::new(synthesizer, charset, recipe.clone(), synth.per_class, seed);
    set.check_complete(data)?;
    Ok(set)
}

/// A synthetic writers' style from `--style`/`--synth-style`: JSON text (`{"cursive": [0.2,
/// 0.8]}`, every field optional, the rest as the default writer) or a JSON file holding it.
pub fn synth_style(arg: &str) -> Result<SynthStyle> {
    let (text, origin) = if arg.trim_start().starts_with('{') {
        (arg.to_string(), "the style".to_string())
    } else {
        let text = std::fs::read_to_string(arg)
            .with_context(|| format!("{arg}: cannot read the style file"))?;
        (text, arg.to_string())
    };
    let style: SynthStyle =
        serde_json::from_str(&text).with_context(|| format!("{origin}: not a synthetic style"))?;
    style
        .validate()
        .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    Ok(style)
}

/// The font files of `paths`: files as they are, folders as the fonts in them (see
/// [`font_files`]).
pub fn font_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<PathBuf>> {
    Ok(paths
        .iter()
        .map(|p| font_files(p.as_ref()))
        .collect::<Result<Vec<_>>>()?
        .concat())
}

/// A font file, or every font in a folder (.ttf .otf .ttc .woff .woff2; sorted, so runs are
/// repeatable).
pub fn font_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}: cannot list the font folder", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| font::EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "{}: no fonts ({}) in this folder",
            path.display(),
            font::EXTENSIONS.join(", ")
        );
    }
    Ok(files)
}
