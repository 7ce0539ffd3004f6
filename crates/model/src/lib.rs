//! inkstone models. [`ModelSpec`] describes a network as data; from it we build the Burn
//! module ([`Network`]), print a [`Summary`], and store trained weights in a [`Bundle`], the
//! one file every later stage (eval, predict, export, serve) takes.

mod batch_norm;
pub mod builtin;
pub mod bundle;
pub mod error;
pub mod network;
pub mod onnx;
pub mod parts;
pub mod precision;
pub mod recognizer;
pub mod run_log;
pub mod spec;
pub mod summary;
pub mod weights;

pub use bundle::{Bundle, BundleError, Provenance};
pub use error::ModelError;
pub use network::Network;
pub use precision::Precision;
pub use spec::{Layer, ModelSpec, Shape, SpecError};
pub use summary::Summary;
pub use weights::{NamedTensor, WeightMap};
