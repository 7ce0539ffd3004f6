//! `inkstone eval`.

use crate::device::DeviceChoice;
use anyhow::Result;
use clap::Args;
use inkstone_data::mnist::{DataSource, Split};
use inkstone_model::Bundle;
use inkstone_train::evaluate::EvaluationReport;
use inkstone_train::prepare::PreparedSet;
use std::path::PathBuf;

#[derive(Args)]
pub struct EvalArgs {
    /// A model bundle (`.inkstone`).
    bundle: PathBuf,
    /// `mnist[:test|:train]` or `DIR[:test|:train]` (default split: test).
    #[arg(long, default_value = "mnist:test")]
    data: String,
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Print the evaluation as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)?;
    let (source, split) = DataSource::parse(&args.data);
    let split = split.unwrap_or(Split::Test);
    let dataset = source.load(split)?;
    if dataset.charset.symbols != bundle.charset.symbols {
        anyhow::bail!(
            "{}: model classes ({}) differ from the data's ({})",
            args.bundle.display(),
            bundle.charset.name,
            dataset.charset.name
        );
    }
    let set = PreparedSet::new(&dataset, &bundle.recipe);
    let evaluation = crate::with_backend!(args.device, |B, device| {
        let network = bundle.network::<B>(&device)?;
        inkstone_train::evaluate::<B>(&network, &set, &bundle.recipe, args.batch_size, &device)
    });
    if args.json {
        println!("{}", serde_json::to_string(&evaluation)?);
    } else {
        println!("{} on {}", args.bundle.display(), dataset.name);
        print!(
            "{}",
            EvaluationReport {
                evaluation: &evaluation,
                charset: &bundle.charset
            }
        );
    }
    Ok(())
}
