//! `inkstone data fetch`.

use anyhow::{bail, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use inkstone_data::fetch::{fetch_mnist, FetchEvent, MNIST_MIRRORS};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Pack any readable source into one `.inkd` file of recipe-prepared samples.
    Pack(crate::data_pack::PackArgs),
    /// What a source holds: counts per class, image sizes, a PNG grid of samples.
    Info(crate::data_info::InfoArgs),
    /// Render a charset as synthetic handwriting into an `.inkd` file.
    Synth(crate::data_synth::SynthArgs),
    /// Photograph a source's samples as phones do (uneven light, shadow, tinted or ruled
    /// paper, coloured ink or pencil, small in a big frame, clutter, blur, noise, JPEG) into
    /// a folder per class, for `eval`.
    Photos(crate::data_photos::PhotosArgs),
    /// Download a dataset (checksums verified, resumable, written atomically).
    Fetch {
        /// Dataset name: mnist.
        name: String,
        #[arg(long)]
        to: PathBuf,
        /// Base URL to try instead of the public mirrors (repeatable).
        #[arg(long)]
        mirror: Vec<String>,
    },
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Pack(args) => crate::data_pack::run(args),
        DataCommand::Info(args) => crate::data_info::run(args),
        DataCommand::Synth(args) => crate::data_synth::run(args),
        DataCommand::Photos(args) => crate::data_photos::run(args),
        DataCommand::Fetch { name, to, mirror } => {
            if name != "mnist" {
                bail!("unknown dataset `{name}`: inkstone can fetch `mnist`");
            }
            let mirrors = if mirror.is_empty() {
                MNIST_MIRRORS.iter().map(|m| m.to_string()).collect()
            } else {
                mirror
            };
            let interactive = std::io::stderr().is_terminal();
            let mut bar: Option<(String, ProgressBar)> = None;
            let files = fetch_mnist(&to, &mirrors, &mut |event| match event {
                FetchEvent::Verified { file } => eprintln!("{file}: present, checksum ok"),
                FetchEvent::Progress { file, done, total } if interactive => {
                    if bar.as_ref().is_none_or(|(f, _)| f != file) {
                        let b = ProgressBar::new(total.unwrap_or(0));
                        b.set_style(
                            ProgressStyle::with_template(
                                "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                            )
                            .expect("valid template"),
                        );
                        b.set_prefix(file.to_string());
                        bar = Some((file.to_string(), b));
                    }
                    if let Some((_, b)) = &bar {
                        b.set_position(done);
                    }
                }
                FetchEvent::Progress { file, done, total } => {
                    if total == Some(done) {
                        eprintln!("{file}: {done} bytes downloaded");
                    }
                }
                FetchEvent::MirrorFailed { file, error } => {
                    eprintln!("{file}: {error}; trying the next mirror")
                }
            })?;
            if let Some((_, b)) = bar {
                b.finish_and_clear();
            }
            for f in files {
                println!("{}", f.display());
            }
            Ok(())
        }
    }
}
