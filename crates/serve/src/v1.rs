//! The `/v1` REST routes: list models, and predict from an image or strokes.

use crate::error::ApiError;
use crate::input::Payload;
use crate::registry::LoadedModel;
use crate::state::{parse_version, App};
use axum::extract::{Path, Query, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use inkstone_model::recognizer::Candidate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The prediction routes (behind the inference limits).
pub fn inference_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/predict", post(predict_default))
        .route("/v1/models/{target}", post(predict_named))
        .route("/v1/models/{name}/versions/{target}", post(predict_version))
}

/// The model list.
pub fn info_routes() -> Router<Arc<App>> {
    Router::new().route("/v1/models", get(list_models))
}

#[derive(Deserialize)]
pub struct PredictQuery {
    top_k: Option<usize>,
}

#[derive(Serialize)]
pub struct PredictResponse {
    model: String,
    version: u64,
    predictions: Vec<Candidate>,
    batch_size: usize,
    timing_ms: Timing,
}

#[derive(Serialize)]
struct Timing {
    /// Reading, decoding and the recipe.
    prepare: f64,
    /// Waiting for a batch.
    queue: f64,
    /// The network, for the whole batch.
    inference: f64,
    total: f64,
}

/// `POST /v1/predict`: the default model, newest version.
async fn predict_default(
    State(app): State<Arc<App>>,
    Query(query): Query<PredictQuery>,
    request: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let catalog = app.registry.snapshot();
    let name = catalog
        .default_name(app.config.default_model.as_deref())
        .ok_or_else(|| ApiError::unavailable("no model is loaded"))?;
    let model = app.model(name, None)?;
    predict(&app, model, query, request).await
}

/// `POST /v1/models/{name}:predict`.
async fn predict_named(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    Query(query): Query<PredictQuery>,
    request: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let name = strip_verb(&target)?;
    let model = app.model(name, None)?;
    predict(&app, model, query, request).await
}

/// `POST /v1/models/{name}/versions/{version}:predict`.
async fn predict_version(
    State(app): State<Arc<App>>,
    Path((name, target)): Path<(String, String)>,
    Query(query): Query<PredictQuery>,
    request: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let version = parse_version(strip_verb(&target)?)?;
    let model = app.model(&name, Some(version))?;
    predict(&app, model, query, request).await
}

/// Google-style custom method: `{thing}:predict`.
fn strip_verb(target: &str) -> Result<&str, ApiError> {
    target
        .strip_suffix(":predict")
        .ok_or_else(|| ApiError::not_found(format!("no route `{target}`: append `:predict`")))
}

async fn predict(
    app: &App,
    model: Arc<LoadedModel>,
    query: PredictQuery,
    request: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let started = Instant::now();
    let ticket = model.batcher.ticket();
    let payload = Payload::read(request).await?;
    let classes = model.recognizer.bundle.charset.len();
    let top_k = query.top_k.or(payload.top_k()).unwrap_or(5);
    if top_k == 0 || top_k > classes {
        return Err(ApiError::bad_request(format!(
            "top_k: {top_k} is outside 1..={classes}"
        )));
    }
    let max_pixels = app.config.max_pixels;
    let recognizer = model.recognizer.clone();
    let input = tokio::task::spawn_blocking(move || {
        payload
            .into_image(max_pixels, recognizer.bundle.recipe.stroke_pen)
            .map(|image| recognizer.input_for(&image))
    })
    .await
    .map_err(|e| ApiError::unavailable(format!("preparing the input failed: {e}")))??;
    let prepared = started.elapsed();
    let inference = ticket.infer(input, 1).await?;
    app.metrics
        .observe_batch(&model.name, inference.batch_size, inference.computed);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    Ok(Json(PredictResponse {
        model: model.name.clone(),
        version: model.version,
        predictions: model.recognizer.rank(&inference.logits, top_k),
        batch_size: inference.batch_size,
        timing_ms: Timing {
            prepare: ms(prepared),
            queue: ms(inference.queued),
            inference: ms(inference.computed),
            total: ms(started.elapsed()),
        },
    }))
}

/// `GET /v1/models`: what is served, and what failed to load.
async fn list_models(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let catalog = app.registry.snapshot();
    let models: Vec<serde_json::Value> = catalog
        .models
        .iter()
        .map(|(name, versions)| {
            let newest = versions
                .values()
                .next_back()
                .expect("a listed model has a version");
            let bundle = &newest.recognizer.bundle;
            serde_json::json!({
                "name": name,
                "versions": versions.keys().collect::<Vec<_>>(),
                "default_version": newest.version,
                "architecture": bundle.spec.name,
                "input": bundle.spec.input,
                "classes": bundle.charset.len(),
                "charset": bundle.charset.name,
                "metrics": bundle.metrics,
            })
        })
        .collect();
    Json(serde_json::json!({
        "default": catalog.default_name(app.config.default_model.as_deref()),
        "models": models,
        "errors": catalog.errors,
    }))
}
