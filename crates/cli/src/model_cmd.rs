//! `inkstone model summary` and `inkstone model init`.

use anyhow::Result;
use clap::Subcommand;
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
