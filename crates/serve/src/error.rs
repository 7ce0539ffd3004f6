//! Errors as HTTP answers: a status and a one-line JSON `{"error": "..."}` (the shape KServe v2
//! specifies, used for every route so clients need one parser).

use crate::batcher::BatchError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

/// Seconds a refused client is told to wait before trying again.
pub const RETRY_AFTER_SECONDS: &str = "1";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::QueueFull | BatchError::Unloaded => ApiError::unavailable(e.to_string()),
            BatchError::Failed(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            (
                self.status,
                [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
                body,
            )
                .into_response()
        } else {
            (self.status, body).into_response()
        }
    }
}

/// Why the service could not start or ended badly (errors of single requests are
/// [`ApiError`]s).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}: not a folder of models")]
    NotAFolder(std::path::PathBuf),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the service: {0}")]
    Start(#[from] std::io::Error),
    #[error("the server thread panicked")]
    Panicked,
}

/// Why one bundle of the registry cannot be served (logged, and listed in `/v1/models`).
#[derive(Debug, thiserror::Error)]
pub enum LoadFailure {
    #[error("{0}")]
    Bundle(#[from] inkstone_model::BundleError),
    #[error("{0}")]
    Compile(#[from] inkstone_model::ModelError),
}
