//! `inkstone model`: summary, init, views, readings, average.

use anyhow::Result;
use clap::Subcommand;
use inkstone_data::recipe::{Reading, View};
use inkstone_data::{Charset, Recipe};
use inkstone_model::builtin::default_side;
use inkstone_model::{Bundle, Summary};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Layers, output shapes, parameters and FLOPs of a built-in model or a spec file.
    Summary {
        /// lenet5, digitcnn, charcnn, resnet18, or a ModelSpec JSON file.
        model: String,
        /// Number of classes (built-ins only).
        #[arg(long, default_value_t = 10)]
        classes: usize,
        /// Input side in pixels (built-ins only; default: the model's own).
        #[arg(long)]
        input: Option<usize>,
        /// Print the spec itself as JSON (a starting point for your own).
        #[arg(long)]
        json: bool,
    },
    /// Write an untrained bundle (fresh random weights): for trying the service, export and
    /// benchmarks before a model is trained, as torchvision's `weights=None`.
    Init {
        /// lenet5, digitcnn, charcnn, resnet18, or a ModelSpec JSON file.
        model: String,
        #[arg(long, default_value_t = 10)]
        classes: usize,
        #[arg(long)]
        input: Option<usize>,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Set a bundle's test-time views (test-time augmentation): `predict`, `eval` and the
    /// service average the network's probabilities over the recipe's own view and these
    /// (training uses its own view only). No `--view` removes them.
    Views {
        bundle: PathBuf,
        /// FIT:PEN[:ASPECT[:SLANT]] — the ink stretched ASPECT times wider (under 1: taller;
        /// default 1), slanted (each row moved right by SLANT times its height above the
        /// bottom; under 0 to the left; default 0), its larger side fitted to FIT pixels,
        /// redrawn with a pen PEN times the recipe's (e.g. for a 32 px charcnn, whose own fit
        /// is 28: `--view 31:1 --view 28:1:1.4:0.15`); repeatable.
        #[arg(long, value_parser = parse_view)]
        view: Vec<View>,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Set a bundle's test-time readings of photos: `predict`, `eval` and the service also
    /// tell a photo's ink from its paper these other ways, each in every view, and average
    /// the network's probabilities over all of them. A clean image (no paper) reads one way
    /// and runs as before. No `--reading` removes them.
    Readings {
        bundle: PathBuf,
        /// even-light (the ink divided by the light it lies in: a shadow's ink keeps its
        /// contrast), local-grain (the paper's grain taken off block by block), faint (ink
        /// down to 0.6 of the split kept where it joins ink above it); repeatable.
        #[arg(long, value_parser = parse_reading)]
        reading: Vec<Reading>,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Average the weights of bundles of one model and class list (a "model soup": runs
    /// fine-tuned from one start, e.g. with `--init`), into one bundle; then `eval` it.
    Average {
        /// Two or more bundles.
        #[arg(required = true, num_args = 2..)]
        bundles: Vec<PathBuf>,
        #[arg(short, long)]
        out: PathBuf,
    },
}

pub fn run(cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Summary {
            model,
            classes,
            input,
            json,
        } => {
            let side = input.unwrap_or_else(|| default_side(&model));
            let spec = inkstone_model::builtin::resolve(&model, classes, side)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&spec)?);
            } else {
                print!("{}", Summary::of(&spec)?);
            }
            Ok(())
        }
        ModelCommand::Init {
            model,
            classes,
            input,
            out,
        } => {
            let side = input.unwrap_or_else(|| default_side(&model));
            let spec = inkstone_model::builtin::resolve(&model, classes, side)?;
            let charset = if classes == 10 {
                Charset::digits()
            } else {
                Charset::numbered(classes)
            };
            let mut recipe = Recipe::mnist();
            recipe.input_size = side as u32;
            recipe.fit = (side as u32 * 20).div_ceil(28);
            Bundle::untrained(spec, recipe, charset)?.save(&out)?;
            println!(
                "wrote untrained {model} ({classes} classes, {side}×{side}) to {}",
                out.display()
            );
            Ok(())
        }
        ModelCommand::Views { bundle, view, out } => {
            let mut bundle = Bundle::load(&bundle)?;
            let side = bundle.recipe.input_size;
            if let Some(v) = view.iter().find(|v| v.fit > side) {
                anyhow::bail!(
                    "--view {}:{}:{}: a fit of {} px does not fit the model's {side} px input",
                    v.fit,
                    v.pen_scale,
                    v.aspect,
                    v.fit
                );
            }
            bundle.recipe.views = view;
            bundle.save(&out)?;
            println!(
                "wrote {} with {} test-time views besides its own to {}",
                bundle.spec.name,
                bundle.recipe.views.len(),
                out.display()
            );
            Ok(())
        }
        ModelCommand::Readings {
            bundle,
            reading,
            out,
        } => {
            if let Some(twice) = reading
                .iter()
                .enumerate()
                .find_map(|(i, r)| reading[..i].contains(r).then_some(r))
            {
                anyhow::bail!("--reading {}: given twice", twice.name());
            }
            let mut bundle = Bundle::load(&bundle)?;
            bundle.recipe.readings = reading;
            bundle.save(&out)?;
            println!(
                "wrote {} with {} test-time readings of photos besides its own ({} network runs a photo) to {}",
                bundle.spec.name,
                bundle.recipe.readings.len(),
                bundle.recipe.inputs_per_image(),
                out.display()
            );
            Ok(())
        }
        ModelCommand::Average { bundles, out } => {
            let loaded = bundles
                .iter()
                .map(|path| Bundle::load(path))
                .collect::<Result<Vec<_>, _>>()?;
            Bundle::average(&loaded)?.save(&out)?;
            println!(
                "wrote the average of {} bundles to {} (run `inkstone eval` on it)",
                loaded.len(),
                out.display()
            );
            Ok(())
        }
    }
}

/// A `--reading` by its name.
fn parse_reading(arg: &str) -> Result<Reading, String> {
    Reading::ALL
        .into_iter()
        .find(|r| r.name() == arg.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = Reading::ALL.iter().map(|r| r.name()).collect();
            format!("`{arg}`: expected one of {}", names.join(", "))
        })
}

/// `FIT:PEN[:ASPECT[:SLANT]]` of `--view`: a fit in pixels (1 or more), a pen scale and a
/// stretch (each over 0, at most 4; the stretch 1 when left out), a slant in [-1, 1] (0 when
/// left out).
fn parse_view(arg: &str) -> Result<View, String> {
    let bad = || {
        format!("`{arg}`: expected FIT:PEN[:ASPECT[:SLANT]], e.g. 25:1, 28:1:1.4 or 28:1:1.4:0.15")
    };
    let parts: Vec<&str> = arg.split(':').map(str::trim).collect();
    let (fit, pen, aspect, slant) = match parts[..] {
        [fit, pen] => (fit, pen, "1", "0"),
        [fit, pen, aspect] => (fit, pen, aspect, "0"),
        [fit, pen, aspect, slant] => (fit, pen, aspect, slant),
        _ => return Err(bad()),
    };
    let fit: u32 = fit.parse().map_err(|_| bad())?;
    let pen_scale: f32 = pen.parse().map_err(|_| bad())?;
    let aspect: f32 = aspect.parse().map_err(|_| bad())?;
    let slant: f32 = slant.parse().map_err(|_| bad())?;
    let sensible = |v: f32| v > 0.0 && v <= 4.0;
    if fit == 0 || !sensible(pen_scale) || !sensible(aspect) || !(-1.0..=1.0).contains(&slant) {
        return Err(format!(
            "`{arg}`: the fit must be 1 or more pixels, the pen scale and the stretch in (0, 4], the slant in [-1, 1]"
        ));
    }
    Ok(View {
        fit,
        pen_scale,
        aspect,
        slant,
    })
}
