//! `inkstone model summary` and `inkstone model init`.

use anyhow::Result;
use clap::Subcommand;
use inkstone_data::recipe::View;
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
        /// FIT:PEN — the ink's larger side fitted to FIT pixels, redrawn with a pen PEN times
        /// the recipe's (e.g. for a 32 px charcnn, whose own fit is 28: `--view 25:1 --view
        /// 31:1 --view 28:1.3`); repeatable.
        #[arg(long, value_parser = parse_view)]
        view: Vec<View>,
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
                    "--view {}:{}: a fit of {} px does not fit the model's {side} px input",
                    v.fit,
                    v.pen_scale,
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

/// `FIT:PEN` of `--view`: a fit in pixels (1 or more) and a pen scale (over 0, at most 4).
fn parse_view(arg: &str) -> Result<View, String> {
    let bad = || format!("`{arg}`: expected FIT:PEN, e.g. 25:1 or 28:1.3");
    let (fit, pen) = arg.split_once(':').ok_or_else(bad)?;
    let fit: u32 = fit.trim().parse().map_err(|_| bad())?;
    let pen_scale: f32 = pen.trim().parse().map_err(|_| bad())?;
    if fit == 0 || !(pen_scale > 0.0 && pen_scale <= 4.0) {
        return Err(format!(
            "`{arg}`: the fit must be 1 or more pixels and the pen scale in (0, 4]"
        ));
    }
    Ok(View { fit, pen_scale })
}
