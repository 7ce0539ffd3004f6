//! What can go wrong between a bundle and a prediction: its spec, its weights, compiling its
//! network, running it. Callers add the bundle's path.

use crate::spec::SpecError;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A tensor missing, of the wrong shape, or belonging to no layer of the spec.
    #[error("weights do not match the spec: {0}")]
    Weights(String),
    #[error("cannot compile the network for inference: {0}")]
    Compile(String),
    #[error("inference failed: {0}")]
    Inference(String),
}
