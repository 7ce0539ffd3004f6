//! A training run's parts, read and checked from its config once: the data (a packed set or
//! the synthesiser), the recipe, the classes, the model checked against both, the held-out
//! and real-handwriting sets, and the `--init` weights. `train`, `serve --demo`, the tests
//! and the examples all start here.

use crate::trainer::{check_init, TrainError, TrainJob};
use crate::TrainConfig;
use inkstone_data::open::{self, Opened};
use inkstone_data::packed::{PackedSet, PreparedSet};
use inkstone_data::source::{LabelOptions, Loaded};
use inkstone_data::synth::SynthSet;
use inkstone_data::{Charset, Recipe, Split};
use inkstone_model::{Bundle, ModelSpec};
use std::path::Path;

/// Writers per class in the held-out test set of a synthetic run without `--test-data`.
pub const SYNTH_TEST_PER_CLASS: usize = 2;

/// The training samples: a prepared (packed) set, or a synthesiser writing afresh per epoch.
pub enum TrainSet {
    Packed(PackedSet),
    Synth(SynthSet),
}

impl TrainSet {
    pub fn as_prepared(&self) -> &dyn PreparedSet {
        match self {
            TrainSet::Packed(set) => set,
            TrainSet::Synth(set) => set,
        }
    }
}

/// Everything [`TrainJob`] borrows, owned.
pub struct PreparedJob {
    pub config: TrainConfig,
    pub spec: ModelSpec,
    pub recipe: Recipe,
    pub charset: Charset,
    pub train: TrainSet,
    pub train_name: String,
    pub test: PackedSet,
    pub test_name: String,
    /// Real handwriting evaluated after every epoch (`real_test`): its name and samples.
    pub real: Option<(String, PackedSet)>,
    pub init: Option<Bundle>,
    /// Lines for the user: records skipped for labels outside the charset.
    pub notes: Vec<String>,
}

impl PreparedJob {
    /// Reads the data `config` names and checks the model against it. `has_checkpoint`: the
    /// run resumes from a checkpoint, so `config.init` is not loaded (the checkpoint has the
    /// weights). Nothing is written: a job that cannot run fails here, before a run folder.
    pub fn from_config(config: &TrainConfig, has_checkpoint: bool) -> Result<Self, TrainError> {
        let labels = open::label_options(config.charset.as_deref(), config.skip_unknown)?;
        let side = inkstone_model::builtin::default_side(&config.model) as u32;
        let mut notes = Vec::new();
        let data = match open::synth_charset(&config.data) {
            Some(name) => synth_data(config, name, side, &labels, &mut notes)?,
            None => file_data(config, side, &labels, &mut notes)?,
        };
        let Data {
            train,
            train_name,
            test,
            test_name,
            recipe,
            charset,
        } = data;
        if test.meta.charset.symbols != charset.symbols {
            return Err(TrainError::ClassesDiffer {
                set: test_name,
                classes: test.meta.charset.name.clone(),
                training: charset.name.clone(),
            });
        }
        let real = match &config.real_test {
            Some(arg) => Some(real_data(arg, &charset, &recipe, &mut notes)?),
            None => None,
        };
        let side = recipe.input_size as usize;
        let spec = inkstone_model::builtin::resolve_for_input(&config.model, charset.len(), side)?;
        if spec.input != [1, side, side] || spec.classes != charset.len() {
            return Err(TrainError::ModelMismatch {
                model: config.model.clone(),
                input: spec.input,
                classes: spec.classes,
                side,
                data_classes: charset.len(),
            });
        }
        let init = match &config.init {
            Some(path) if !has_checkpoint => Some(check_init(Path::new(path), &spec, &charset)?),
            _ => None,
        };
        Ok(PreparedJob {
            config: config.clone(),
            spec,
            recipe,
            charset,
            train,
            train_name,
            test,
            test_name,
            real,
            init,
            notes,
        })
    }

    /// The job, as the training loop takes it.
    pub fn job(&self) -> TrainJob<'_> {
        TrainJob {
            config: &self.config,
            spec: &self.spec,
            recipe: &self.recipe,
            charset: &self.charset,
            train: self.train.as_prepared(),
            test: &self.test,
            real: self.real.as_ref().map(|(name, set)| (name.as_str(), set)),
            init: self.init.as_ref(),
        }
    }
}

/// The data half of a job.
struct Data {
    train: TrainSet,
    train_name: String,
    test: PackedSet,
    test_name: String,
    recipe: Recipe,
    charset: Charset,
}

/// Reads `arg`, noting skipped records.
fn load(
    arg: &str,
    split: Split,
    labels: &LabelOptions,
    notes: &mut Vec<String>,
) -> Result<(Loaded, String), TrainError> {
    let opened: Opened = open::load(arg, split, labels)?;
    notes.extend(opened.skipped_note());
    Ok((opened.loaded, opened.name))
}

/// `synth:<charset>`: the synthesiser, and held-out writers (or `test_data`) to test on.
fn synth_data(
    config: &TrainConfig,
    charset_name: &str,
    side: u32,
    labels: &LabelOptions,
    notes: &mut Vec<String>,
) -> Result<Data, TrainError> {
    let synth = config.synth.clone().unwrap_or_default();
    let charset = Charset::resolve(charset_name)?;
    let recipe = config
        .recipe
        .clone()
        .unwrap_or_else(|| open::default_recipe(&charset, side));
    let set = open::synth_set(&config.data, &synth, charset.clone(), &recipe, config.seed)?;
    let (test, test_name) = match &config.test_data {
        Some(arg) => {
            let (loaded, name) = load(arg, Split::Test, labels, notes)?;
            (open::prepare(loaded, &recipe, &name)?, name)
        }
        None => {
            let name = format!("{} (held-out writers)", config.data);
            (set.held_out(SYNTH_TEST_PER_CLASS, &name), name)
        }
    };
    Ok(Data {
        train: TrainSet::Synth(set),
        train_name: config.data.clone(),
        test,
        test_name,
        recipe,
        charset,
    })
}

/// Files: the training split, and the test split (`test_data` or the source's own).
fn file_data(
    config: &TrainConfig,
    side: u32,
    labels: &LabelOptions,
    notes: &mut Vec<String>,
) -> Result<Data, TrainError> {
    let (train_loaded, train_name) = load(&config.data, Split::Train, labels, notes)?;
    let test_arg = open::test_source(&config.data, config.test_data.as_deref())?;
    let (test_loaded, test_name) = load(&test_arg, Split::Test, labels, notes)?;
    let charset = train_loaded.charset().clone();
    let recipe = match (&config.recipe, &train_loaded) {
        (Some(r), _) => r.clone(),
        (None, Loaded::Packed(p)) => p.meta.recipe.clone(),
        (None, Loaded::Raw(_)) => open::default_recipe(&charset, side),
    };
    let train = open::prepare(train_loaded, &recipe, &train_name)?;
    let test = open::prepare(test_loaded, &recipe, &test_name)?;
    Ok(Data {
        train: TrainSet::Packed(train),
        train_name,
        test,
        test_name,
        recipe,
        charset,
    })
}

/// Real handwriting, read with the run's classes: its own labels map onto them.
fn real_data(
    arg: &str,
    charset: &Charset,
    recipe: &Recipe,
    notes: &mut Vec<String>,
) -> Result<(String, PackedSet), TrainError> {
    let labels = LabelOptions {
        charset: Some(charset.clone()),
        skip_unknown: false,
    };
    let (loaded, name) = load(arg, Split::Test, &labels, notes)?;
    let set = open::prepare(loaded, recipe, &name)?;
    Ok((name, set))
}
