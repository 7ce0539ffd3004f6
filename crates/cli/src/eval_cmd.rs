//! `inkstone eval`.

use crate::dataset;
use crate::device::DeviceChoice;
use crate::progress::CountProgress;
use anyhow::{Context, Result};
use clap::Args;
use inkstone_data::image_folder::scan_class_folders;
use inkstone_data::packed::PackedSet;
use inkstone_data::photo::{read_captions, ConditionTally, CAPTIONS_FILE};
use inkstone_data::source::{DataSource, Loaded};
use inkstone_data::{Charset, Recipe, Split};
use inkstone_model::Bundle;
use inkstone_train::evaluate::{evaluate_with_errors, Evaluation, EvaluationReport, Misrecognised};
use inkstone_train::report::{write_report, ReportInput};
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Args)]
pub struct EvalArgs {
    /// A model bundle (`.inkstone`).
    bundle: PathBuf,
    /// `mnist[:test|:train]`, a data folder or file as for `train` (default split: test).
    #[arg(long, default_value = "mnist:test")]
    data: String,
    /// Skip and count records whose label is not one of the model's classes.
    #[arg(long)]
    skip_unknown: bool,
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Print the evaluation as JSON.
    #[arg(long)]
    json: bool,
    /// Also write a report into this folder: confusion heatmap, per-class accuracy (CSV), a
    /// gallery of misrecognised samples (PNG) and an index.html over them.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)?;
    // File labels map through the model's own classes.
    let labels = inkstone_data::source::LabelOptions {
        charset: Some(bundle.charset.clone()),
        skip_unknown: args.skip_unknown,
    };
    let (loaded, name) = dataset::load(&args.data, Split::Test, &labels)?;
    let data_charset = loaded.charset();
    if data_charset.symbols != bundle.charset.symbols {
        anyhow::bail!(
            "{}: model classes ({}) differ from the data's ({})",
            args.bundle.display(),
            bundle.charset.name,
            data_charset.name
        );
    }
    let views = prepare_views(loaded, &bundle.recipe, &name)?;
    let set = &views[0];
    let mut progress = CountProgress::new("evaluating", Some(set.len() as u64));
    let (evaluation, errors) = crate::with_backend!(args.device, |B, device| {
        let network = bundle.network::<B>(&device)?;
        evaluate_with_errors::<B>(
            &network,
            &views,
            &bundle.recipe,
            args.batch_size,
            &device,
            &mut |n| progress.advance(n as u64),
        )
    });
    progress.finish();
    let by_condition = photo_conditions(&args.data, &bundle.charset, evaluation.samples, &errors)?;
    // The report first: a reader that closes stdout early (`| head`) must not cost it.
    if let Some(dir) = &args.report {
        let title = format!("{} on {name}", args.bundle.display());
        let input = ReportInput {
            title: &title,
            evaluation: &evaluation,
            errors: &errors,
            set,
            charset: &bundle.charset,
            conditions: &by_condition,
        };
        let summary = write_report(dir, &input)
            .with_context(|| format!("writing the report into {}", dir.display()))?;
        eprintln!(
            "report: {} ({} misrecognised, {} shown)",
            dir.join("index.html").display(),
            summary.errors,
            summary.shown
        );
    }
    if args.json {
        let output = JsonOutput {
            evaluation: &evaluation,
            by_condition: &by_condition,
        };
        println!("{}", serde_json::to_string(&output)?);
    } else {
        println!("{} on {name}", args.bundle.display());
        print!(
            "{}",
            EvaluationReport {
                evaluation: &evaluation,
                charset: &bundle.charset
            }
        );
        print_conditions(&by_condition);
    }
    Ok(())
}

/// `eval --json`: the evaluation, and for photos with captions their accuracy by condition.
#[derive(Serialize)]
struct JsonOutput<'a> {
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    by_condition: &'a [ConditionTally],
}

/// Accuracy by photo condition when `data` is a folder of photos that `data photos` made (its
/// captions say how each was taken); empty for any other data. `samples` photos were read,
/// in the folder reader's order; `errors` are the ones read wrong.
fn photo_conditions(
    data: &str,
    charset: &Charset,
    samples: usize,
    errors: &[Misrecognised],
) -> Result<Vec<ConditionTally>> {
    let (DataSource::ImageFolder(dir), _) = DataSource::parse(data) else {
        return Ok(Vec::new());
    };
    let Some(captions) = read_captions(&dir)? else {
        return Ok(Vec::new());
    };
    // The photos the reader kept (labels outside the model's classes are skipped), in its order.
    let files: Vec<_> = scan_class_folders(&dir)?
        .into_iter()
        .filter(|f| charset.index_of(&f.label).is_some())
        .collect();
    anyhow::ensure!(
        files.len() == samples,
        "{}: {} photos of the model's classes, but {samples} were read",
        dir.display(),
        files.len()
    );
    let wrong: HashSet<usize> = errors.iter().map(|e| e.index).collect();
    let mut photos = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let relative = file.path.strip_prefix(&dir).unwrap_or(&file.path);
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let conditions = captions
            .get(&key)
            .with_context(|| format!("{}: not in {CAPTIONS_FILE}", file.path.display()))?;
        photos.push((conditions, !wrong.contains(&i)));
    }
    Ok(ConditionTally::over(photos))
}

fn print_conditions(tallies: &[ConditionTally]) {
    if tallies.is_empty() {
        return;
    }
    println!("by photo condition ({CAPTIONS_FILE}):");
    for t in tallies {
        println!(
            "  {:<9} {:<24} {:6.2}%  ({}/{})",
            t.factor,
            t.level,
            t.percent_right(),
            t.right,
            t.total
        );
    }
}

/// The set prepared once per test-time view and reading of `recipe` (its own first, see
/// `Recipe::prepare_views`). A packed file holds inputs already prepared with the recipe's
/// own view and reading, so it is evaluated with that one alone.
fn prepare_views(loaded: Loaded, recipe: &Recipe, name: &str) -> Result<Vec<PackedSet>> {
    match loaded {
        Loaded::Raw(data) if recipe.inputs_per_image() > 1 && !data.is_empty() => {
            Ok(PackedSet::prepare_views(&data, recipe, name))
        }
        loaded => {
            let own = Recipe {
                views: Vec::new(),
                readings: Vec::new(),
                ..recipe.clone()
            };
            Ok(vec![dataset::prepare(loaded, &own, name)?])
        }
    }
}
