//! Request bodies are read in full before a request may take an inference slot, so a client
//! that sends its headers and then trickles (or withholds) the body holds a socket, not a
//! slot: `--max-concurrency` counts only requests ready to run. A body must keep up a minimum
//! rate after a short grace (as nginx's body timeout between reads) or it is answered 408 and
//! the connection closed.

use crate::error::ApiError;
use crate::state::App;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How fast a body must arrive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UploadPace {
    /// Time the first bytes may take.
    pub grace: Duration,
    /// Bytes per second the body must average after the grace.
    pub min_rate: u64,
}

impl Default for UploadPace {
    fn default() -> Self {
        UploadPace {
            grace: Duration::from_secs(2),
            min_rate: 4096,
        }
    }
}

impl UploadPace {
    /// When byte `received + 1` is due, for a body that started at `started`.
    fn next_byte_due(&self, started: Instant, received: usize) -> Instant {
        started + self.grace + Duration::from_secs_f64(received as f64 / self.min_rate as f64)
    }
}

/// Middleware: the body read at the configured pace (and size limit), then the request passed
/// on with the whole body in memory.
pub async fn read_body(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match receive(body, app.config.upload, app.config.max_body_bytes).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) => {
            let mut response = error.into_response();
            // What is left of the body is never read: the connection cannot be reused.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

async fn receive(mut body: Body, pace: UploadPace, limit: usize) -> Result<Bytes, ApiError> {
    let started = Instant::now();
    let mut received: Vec<u8> = Vec::new();
    loop {
        let due = pace.next_byte_due(started, received.len());
        let frame = match tokio::time::timeout_at(due, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body arrived slower than {} bytes/s ({} bytes in {:.1}s)",
                        pace.min_rate,
                        received.len(),
                        started.elapsed().as_secs_f64()
                    ),
                ))
            }
            Ok(None) => return Ok(Bytes::from(received)),
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!(
                    "the request body could not be read: {e}"
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if received.len() + data.len() > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is over the limit of {limit} bytes"),
                ));
            }
            received.extend_from_slice(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_byte_is_due_after_the_grace_at_the_minimum_rate() {
        let pace = UploadPace {
            grace: Duration::from_secs(2),
            min_rate: 1000,
        };
        let t = Instant::now();
        assert_eq!(pace.next_byte_due(t, 0), t + Duration::from_secs(2));
        assert_eq!(pace.next_byte_due(t, 3000), t + Duration::from_secs(5));
    }
}
