//! The router: the protocols' routes merged, the limits that guard inference, request metrics,
//! static documents.

use crate::error::ApiError;
use crate::state::App;
use crate::{v1, v2};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Router};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;

const PAGE: &str = include_str!("../assets/index.html");
const OPENAPI: &str = include_str!("../assets/openapi.json");

pub fn router(app: Arc<App>) -> Router {
    let config = &app.config;
    // Inference routes share one concurrency limit; what is over it is refused with 503 at once
    // (load shedding) rather than queued, and every request has a deadline. Bodies are read
    // before the limit is asked (`upload`), so slow uploads hold no slot.
    let guard = ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(refuse))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
            Arc::new(Semaphore::new(config.max_concurrency)),
        ))
        .timeout(config.request_timeout);
    let inference = v1::inference_routes()
        .merge(v2::inference_routes())
        .route_layer(guard)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            crate::upload::read_body,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            refuse_long_bodies,
        ));
    let mut router = Router::new().merge(inference);
    router = match &config.runs_dir {
        Some(dir) => router.merge(crate::runs::router(dir.clone())),
        None => router,
    };
    // Without models the draw page has nothing to ask: the front page is the training view.
    router = if config.models_dir.is_none() && config.runs_dir.is_some() {
        router.route("/", get(|| async { axum::response::Redirect::to("/runs") }))
    } else {
        router.route("/", get(|| async { Html(PAGE) }))
    };
    router
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .merge(v1::info_routes())
        .merge(v2::info_routes())
        .fallback(|| async { ApiError::not_found("no such route (see /openapi.json)") })
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .with_state(app)
}

/// Refuses a body whose declared length is over the limit before any of it is read (chunked
/// bodies are cut off at the limit while they are read).
async fn refuse_long_bodies(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = app.config.max_body_bytes;
    match declared {
        Some(length) if length > limit as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a body of {length} bytes is over the limit of {limit} bytes"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

async fn refuse(error: BoxError) -> ApiError {
    if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::unavailable("the server is at its concurrency limit; retry shortly")
    } else if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::unavailable("the request did not complete within the server's time limit")
    } else {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

/// Counts and times every request by its route pattern (not its path: bounded label values).
async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics
        .observe_request(&route, response.status().as_u16(), started.elapsed());
    response
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let catalog = app.registry.snapshot();
    let loaded: usize = catalog.models.values().map(|v| v.len()).sum();
    app.metrics.models_loaded.set(loaded as i64);
    app.metrics.load_errors.set(catalog.errors.len() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
