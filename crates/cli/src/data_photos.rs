//! `inkstone data photos`: a source's samples photographed as people take photos (see
//! `inkstone_data::photo`), written as JPEG files in one folder per class, so that
//! `inkstone eval BUNDLE --data DIR` gives the photo accuracy beside the clean one.

use crate::dataset;
use crate::progress::CountProgress;
use anyhow::{bail, Context, Result};
use clap::Args;
use inkstone_data::photo::{Conditions, Shot, CAPTIONS_FILE};
use inkstone_data::source::Loaded;
use inkstone_data::Split;
use rand::SeedableRng;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct PhotosArgs {
    /// The clean samples, as for `train --data` (e.g. `../shared/data/mnist:test`); packed
    /// `.inkd` files are already prepared and cannot be photographed.
    source: String,
    /// Output folder (one subfolder per class); must not exist yet.
    #[arg(short, long)]
    out: PathBuf,
    /// Split read from sources that have splits and do not name one.
    #[arg(long, default_value = "test", value_parser = crate::data_pack::parse_split)]
    split: Split,
    /// The same seed gives the same photos.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Photograph at most this many samples (the first ones).
    #[arg(long)]
    limit: Option<usize>,
}

pub fn run(args: PhotosArgs) -> Result<()> {
    if args.out.exists() {
        bail!(
            "{}: already exists; photos go to a new folder",
            args.out.display()
        );
    }
    let labels = dataset::label_options(None, false)?;
    let (loaded, name) = dataset::load(&args.source, args.split, &labels)?;
    let Loaded::Raw(set) = loaded else {
        bail!("{name}: a packed file holds prepared inputs, not photographable samples; use the original source");
    };
    let count = args.limit.map_or(set.len(), |n| n.min(set.len()));
    // Written next to the target and renamed at the end: a stopped run leaves no half set.
    let parent = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".photos-")
        .tempdir_in(parent)
        .with_context(|| format!("{}: cannot create a folder here", parent.display()))?;
    let mut captions = Conditions::captions_header();
    let mut progress = CountProgress::new("photographing", Some(count as u64));
    for (i, sample) in set.samples.iter().take(count).enumerate() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(
            args.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let shot = Shot::take(&sample.image, &mut rng);
        let symbol = set.charset.symbol(sample.label as usize);
        let dir = staging.path().join(symbol);
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let file = format!("{i:06}.jpg");
        let path = dir.join(&file);
        std::fs::write(&path, &shot.jpeg).with_context(|| format!("{}", path.display()))?;
        captions.push_str(&shot.conditions.caption(&format!("{symbol}/{file}")));
        progress.advance(1);
    }
    progress.finish();
    let mut csv = std::fs::File::create(staging.path().join(CAPTIONS_FILE))?;
    csv.write_all(captions.as_bytes())?;
    let staged = staging.keep();
    std::fs::rename(&staged, &args.out)
        .with_context(|| format!("{}: cannot move the photos here", args.out.display()))?;
    println!(
        "{}: {count} photos of {name} ({} classes), seed {}; conditions in conditions.csv",
        args.out.display(),
        set.charset.len(),
        args.seed
    );
    Ok(())
}
