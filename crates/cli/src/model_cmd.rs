//! `inkstone model summary`.

use anyhow::Result;
use clap::Subcommand;
use inkstone_model::builtin::default_side;
use inkstone_model::Summary;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Layers, output shapes, parameters and FLOPs of a built-in model or a spec file.
    Summary {
        /// lenet5, digitcnn, resnet18, or a ModelSpec JSON file.
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
            let spec = crate::train_cmd::resolve_spec(&model, classes, side)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&spec)?);
            } else {
                print!("{}", Summary::of(&spec)?);
            }
            Ok(())
        }
    }
}
