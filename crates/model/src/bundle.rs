//! The bundle: one `.inkstone` file that is a trained model. It is a safetensors file whose
//! tensors are the weights and whose metadata holds the spec, recipe, charset, provenance and
//! metrics as JSON, so nothing else is needed to use the model, and any safetensors reader can
//! open it.

use crate::network::Network;
use crate::parts::TensorSlot;
use crate::spec::ModelSpec;
use crate::weights::{NamedTensor, WeightMap};
use burn::tensor::backend::Backend;
use inkstone_data::{Charset, Recipe};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Written into every bundle's metadata as `format`.
pub const FORMAT: &str = "inkstone-bundle/1";

/// Where a model came from: enough to retrain it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub inkstone_version: String,
    /// Seconds since the Unix epoch when the bundle was written.
    pub created_unix: u64,
    /// The data it was trained on, as given to `--data`.
    pub data: String,
    pub epochs_trained: usize,
    /// The full training configuration.
    pub training: serde_json::Value,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub spec: ModelSpec,
    pub recipe: Recipe,
    pub charset: Charset,
    pub provenance: Provenance,
    /// Free-form evaluation results (accuracy, loss, …) at the time of writing.
    pub metrics: serde_json::Value,
    pub weights: WeightMap,
    /// Where it was loaded from, for error messages; empty for a bundle made in memory.
    pub origin: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an inkstone bundle: {detail}")]
    Format { path: PathBuf, detail: String },
    #[error("{path}: bundle is inconsistent: {detail}")]
    Mismatch { path: PathBuf, detail: String },
    /// A spec that does not describe a valid network (before any file is involved).
    #[error(transparent)]
    Spec(#[from] crate::SpecError),
}

impl Bundle {
    /// Makes a bundle from a trained network, checking that the parts fit together.
    pub fn new<B: Backend>(
        network: &Network<B>,
        spec: ModelSpec,
        recipe: Recipe,
        charset: Charset,
        provenance: Provenance,
        metrics: serde_json::Value,
    ) -> Result<Self, BundleError> {
        let bundle = Bundle {
            spec,
            recipe,
            charset,
            provenance,
            metrics,
            weights: network.weights(),
            origin: PathBuf::new(),
        };
        bundle.check()?;
        Ok(bundle)
    }

    /// A bundle of freshly initialised weights (as torchvision's `weights=None`): for trying the
    /// service, export and benchmarks before a model is trained. Metrics say `trained: false`.
    pub fn untrained(
        spec: ModelSpec,
        recipe: Recipe,
        charset: Charset,
    ) -> Result<Self, BundleError> {
        let network = Network::<burn::backend::Flex>::new(&spec, &Default::default())?;
        Bundle::new(
            &network,
            spec,
            recipe,
            charset,
            Provenance::default(),
            serde_json::json!({ "trained": false }),
        )
    }

    pub fn network<B: Backend>(&self, device: &B::Device) -> Result<Network<B>, BundleError> {
        self.network_as(&self.spec, device)
    }

    /// The network `spec` describes, with this bundle's weights: `spec` may differ from the
    /// bundle's own where no weight depends on the difference (another input side for a
    /// network that ends in global pooling, see [`ModelSpec::same_weights`]).
    pub fn network_as<B: Backend>(
        &self,
        spec: &ModelSpec,
        device: &B::Device,
    ) -> Result<Network<B>, BundleError> {
        let mismatch = |detail: String| BundleError::Mismatch {
            path: self.origin.clone(),
            detail,
        };
        Network::new(spec, device)
            .map_err(|e| mismatch(e.to_string()))?
            .with_weights(self.weights.clone())
            .map_err(|e| {
                mismatch(format!(
                    "weights do not match the spec `{}`: {e}",
                    self.spec.name
                ))
            })
    }

    /// Checks spec, recipe, charset and weights against each other.
    pub fn check(&self) -> Result<(), BundleError> {
        let mismatch = |detail: String| BundleError::Mismatch {
            path: self.origin.clone(),
            detail,
        };
        let expected = self.spec.tensors().map_err(|e| mismatch(e.to_string()))?;
        self.check_tensors(&expected).map_err(|detail| {
            mismatch(format!(
                "weights do not match the spec `{}`: {detail}",
                self.spec.name
            ))
        })?;
        if self.charset.len() != self.spec.classes {
            return Err(mismatch(format!(
                "charset `{}` has {} classes, the model {}",
                self.charset.name,
                self.charset.len(),
                self.spec.classes
            )));
        }
        let [_, h, w] = self.spec.input;
        let side = self.recipe.input_size as usize;
        if (h, w) != (side, side) {
            return Err(mismatch(format!(
                "recipe makes {side}×{side} inputs, the model takes {h}×{w}"
            )));
        }
        let pen = self.recipe.stroke_pen;
        if !(0.001..=0.5).contains(&pen) {
            return Err(mismatch(format!(
                "recipe's stroke_pen {pen} is outside 0.001..0.5 (a fraction of a drawing's size)"
            )));
        }
        Ok(())
    }

    /// Every tensor the spec needs is present with its shape and values, and no other.
    fn check_tensors(&self, expected: &[TensorSlot]) -> Result<(), String> {
        for slot in expected {
            let t = self
                .weights
                .get(&slot.name)
                .ok_or_else(|| format!("tensor `{}` is missing", slot.name))?;
            if t.shape != slot.shape {
                return Err(format!(
                    "tensor `{}` has shape {:?}, the spec needs {:?}",
                    slot.name, t.shape, slot.shape
                ));
            }
            if Some(t.values.len()) != slot.elements() {
                return Err(format!(
                    "tensor `{}` holds {} values for shape {:?}",
                    slot.name,
                    t.values.len(),
                    t.shape
                ));
            }
        }
        if expected.len() != self.weights.len() {
            let names: std::collections::HashSet<&str> =
                expected.iter().map(|t| t.name.as_str()).collect();
            if let Some(extra) = self.weights.keys().find(|k| !names.contains(k.as_str())) {
                return Err(format!("tensor `{extra}` does not belong to this spec"));
            }
        }
        Ok(())
    }

    /// The bundle whose weights are the element-wise mean of `bundles`' (a "model soup", as
    /// timm's `avg_checkpoints`): runs fine-tuned from one start land near each other, and
    /// their mean reads better than each. Every bundle must hold the same model, classes and
    /// recipe; the first names the file that does not. Provenance is the first's, with the
    /// files averaged; metrics are left to the next `eval`.
    pub fn average(bundles: &[Bundle]) -> Result<Bundle, BundleError> {
        let (first, rest) = bundles.split_first().ok_or_else(|| BundleError::Mismatch {
            path: PathBuf::new(),
            detail: "no bundles to average".into(),
        })?;
        for other in rest {
            let differs = |what: &str| BundleError::Mismatch {
                path: other.origin.clone(),
                detail: format!("its {what} differs from {}'s", first.origin.display()),
            };
            if other.spec != first.spec {
                return Err(differs("model"));
            }
            if other.charset != first.charset {
                return Err(differs("classes"));
            }
            if other.recipe != first.recipe {
                return Err(differs("input recipe"));
            }
            let same_tensors = other.weights.len() == first.weights.len()
                && first
                    .weights
                    .iter()
                    .all(|(name, t)| other.weights.get(name).is_some_and(|o| o.shape == t.shape));
            if !same_tensors {
                return Err(differs("weights' names or shapes"));
            }
        }
        let share = 1.0 / bundles.len() as f64;
        let weights = first
            .weights
            .iter()
            .map(|(name, tensor)| {
                let mut sum = vec![0f64; tensor.values.len()];
                for bundle in bundles {
                    for (s, &v) in sum.iter_mut().zip(&bundle.weights[name].values) {
                        *s += v as f64;
                    }
                }
                let values = sum.into_iter().map(|s| (s * share) as f32).collect();
                let averaged = NamedTensor {
                    shape: tensor.shape.clone(),
                    values,
                };
                (name.clone(), averaged)
            })
            .collect();
        let files: Vec<String> = bundles
            .iter()
            .map(|b| b.origin.display().to_string())
            .collect();
        let mut provenance = first.provenance.clone();
        provenance.training = serde_json::json!({
            "average_of": files,
            "first": first.provenance.training,
        });
        Ok(Bundle {
            spec: first.spec.clone(),
            recipe: first.recipe.clone(),
            charset: first.charset.clone(),
            provenance,
            metrics: serde_json::json!({ "average_of": bundles.len() }),
            weights,
            origin: PathBuf::new(),
        })
    }

    /// Writes the bundle atomically: a temporary file in the same folder, synced, then renamed
    /// over `path`, so a crash leaves either the old file or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<(), BundleError> {
        let io = |source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        };
        let json = |v: serde_json::Result<String>| v.expect("bundle parts serialise to JSON");
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("spec".to_string(), json(serde_json::to_string(&self.spec))),
            (
                "recipe".to_string(),
                json(serde_json::to_string(&self.recipe)),
            ),
            (
                "charset".to_string(),
                json(serde_json::to_string(&self.charset)),
            ),
            (
                "provenance".to_string(),
                json(serde_json::to_string(&self.provenance)),
            ),
            (
                "metrics".to_string(),
                json(serde_json::to_string(&self.metrics)),
            ),
        ]);
        let bytes: Vec<(String, Vec<u8>)> = self
            .weights
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                )
            })
            .collect();
        let views = bytes
            .iter()
            .zip(self.weights.values())
            .map(|((name, data), t)| {
                let view =
                    TensorView::new(Dtype::F32, t.shape.clone(), data).expect("shape matches data");
                (name.clone(), view)
            });
        let encoded =
            safetensors::serialize(views, Some(metadata)).map_err(|e| BundleError::Format {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        inkstone_data::atomic::write_atomically(path, &encoded).map_err(io)
    }

    /// Reads and checks a bundle.
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let bytes = std::fs::read(path).map_err(|source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses and checks a bundle's bytes; `path` is what errors call it (and its `origin`).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, BundleError> {
        let format = |detail: String| BundleError::Format {
            path: path.to_path_buf(),
            detail,
        };
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| format(format!("not a safetensors file ({e})")))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(format(format!("metadata `format` is not `{FORMAT}`")));
        }
        fn field<T: serde::de::DeserializeOwned>(
            meta: &HashMap<String, String>,
            key: &str,
        ) -> Result<T, String> {
            let text = meta
                .get(key)
                .ok_or_else(|| format!("metadata `{key}` is missing"))?;
            serde_json::from_str(text).map_err(|e| format!("metadata `{key}`: {e}"))
        }
        let mut weights = WeightMap::new();
        for (name, view) in tensors.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(format(format!(
                    "tensor `{name}` is {:?}, expected F32",
                    view.dtype()
                )));
            }
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            weights.insert(
                name,
                NamedTensor {
                    shape: view.shape().to_vec(),
                    values,
                },
            );
        }
        let bundle = Bundle {
            spec: field(&meta, "spec").map_err(format)?,
            recipe: field(&meta, "recipe").map_err(format)?,
            charset: field(&meta, "charset").map_err(format)?,
            provenance: field(&meta, "provenance").map_err(format)?,
            metrics: field(&meta, "metrics").map_err(format)?,
            weights,
            origin: path.to_path_buf(),
        };
        bundle.check()?;
        Ok(bundle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::builtin;
    use burn::backend::Flex;

    fn lenet_bundle() -> Bundle {
        let spec = builtin("lenet5", 10, 28).unwrap();
        let net = Network::<Flex>::new(&spec, &Default::default()).unwrap();
        Bundle::new(
            &net,
            spec,
            Recipe::mnist(),
            Charset::digits(),
            Provenance::default(),
            serde_json::json!({"acc": 0.5}),
        )
        .unwrap()
    }

    #[test]
    fn an_average_is_the_mean_of_the_weights_and_refuses_another_model() {
        let (a, b) = (lenet_bundle(), lenet_bundle());
        let mean = Bundle::average(&[a.clone(), b.clone()]).unwrap();
        mean.check().unwrap();
        let name = "layers.0.weight";
        let (x, y, m) = (&a.weights[name], &b.weights[name], &mean.weights[name]);
        assert_ne!(x.values, y.values, "two initialisations differ");
        for ((x, y), m) in x.values.iter().zip(&y.values).zip(&m.values) {
            assert!((m - (x + y) / 2.0).abs() < 1e-6);
        }
        let mut other = lenet_bundle();
        other.charset = Charset::numbered(10);
        other.origin = PathBuf::from("other.inkstone");
        let err = Bundle::average(&[a, other]).unwrap_err().to_string();
        assert!(
            err.contains("other.inkstone") && err.contains("classes"),
            "{err}"
        );
    }

    #[test]
    fn save_load_round_trip_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.inkstone");
        let bundle = lenet_bundle();
        bundle.save(&path).unwrap();
        let back = Bundle::load(&path).unwrap();
        assert_eq!(back.spec, bundle.spec);
        assert_eq!(back.recipe, bundle.recipe);
        assert_eq!(back.charset, bundle.charset);
        assert_eq!(back.metrics, bundle.metrics);
        assert_eq!(back.weights, bundle.weights);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn spec_that_disagrees_with_weights_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.inkstone");
        let mut bundle = lenet_bundle();
        bundle.spec = builtin("digitcnn", 10, 28).unwrap();
        let err = bundle
            .save(&path)
            .and_then(|_| Bundle::load(&path).map(|_| ()))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("m.inkstone") && text.contains("do not match the spec `digitcnn`"),
            "{text}"
        );
    }

    #[test]
    fn other_files_are_rejected_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.inkstone");
        std::fs::write(&path, b"\x02\x00\x00\x00\x00\x00\x00\x00{}").unwrap();
        let err = Bundle::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("x.inkstone") && err.contains("format"),
            "{err}"
        );
        std::fs::write(&path, b"garbage").unwrap();
        assert!(Bundle::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not a safetensors file"));
        assert!(matches!(
            Bundle::load(&dir.path().join("none")),
            Err(BundleError::Io { .. })
        ));
    }
}
