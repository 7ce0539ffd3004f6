//! What every handler shares: the configuration, the model registry and the metrics, and the
//! lookup of a model by name and version.

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, Registry};
use crate::ServeConfig;
use std::sync::Arc;

/// Shared by every handler.
pub struct App {
    pub config: ServeConfig,
    pub registry: Registry,
    pub metrics: Metrics,
}

impl App {
    /// A model by name and optional version, or a 404 that says what exists.
    pub fn model(&self, name: &str, version: Option<u64>) -> Result<Arc<LoadedModel>, ApiError> {
        let catalog = self.registry.snapshot();
        catalog.get(name, version).ok_or_else(|| {
            let known: Vec<&str> = catalog.models.keys().map(String::as_str).collect();
            match (catalog.models.get(name), version) {
                (Some(versions), Some(v)) => ApiError::not_found(format!(
                    "model `{name}` has no version {v} (it has {:?})",
                    versions.keys().collect::<Vec<_>>()
                )),
                _ => ApiError::not_found(format!("no model `{name}` (serving: {known:?})")),
            }
        })
    }
}

pub fn parse_version(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("version `{text}` is not a whole number")))
}
