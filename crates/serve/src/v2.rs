//! KServe v2 / Open Inference Protocol (REST): health, metadata and tensor inference, so that
//! standard clients (tritonclient, KServe's SDK) can call inkstone. The tensor is the exported
//! ONNX graph's input, already through the recipe: `FP32 [N, C, H, W]`.

use crate::error::ApiError;
use crate::registry::LoadedModel;
use crate::state::{parse_version, App};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use inkstone_model::recognizer::softmax;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The inference routes (behind the inference limits).
pub fn inference_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(infer_version),
        )
}

/// Health, server and model metadata.
pub fn info_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(version_metadata),
        )
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(version_ready),
        )
}

/// Most inputs in one infer request.
pub const MAX_INFER_BATCH: usize = 256;

async fn server_metadata() -> Json<Value> {
    Json(json!({
        "name": "inkstone",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": [],
    }))
}

async fn live() -> Json<Value> {
    Json(json!({ "live": true }))
}

/// Ready once at least one model is loaded.
async fn ready(State(app): State<Arc<App>>) -> (StatusCode, Json<Value>) {
    let ready = !app.registry.snapshot().is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({ "ready": ready })))
}

async fn model_metadata(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    metadata(&app, app.model(&name, None)?)
}

async fn version_metadata(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    metadata(&app, app.model(&name, Some(parse_version(&version)?))?)
}

async fn model_ready(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.model(&name, None)?;
    Ok(Json(json!({ "name": name, "ready": true })))
}

async fn version_ready(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    app.model(&name, Some(parse_version(&version)?))?;
    Ok(Json(
        json!({ "name": name, "version": version, "ready": true }),
    ))
}

fn metadata(app: &App, model: Arc<LoadedModel>) -> Result<Json<Value>, ApiError> {
    let catalog = app.registry.snapshot();
    let versions: Vec<String> = catalog.models[&model.name]
        .keys()
        .map(u64::to_string)
        .collect();
    let bundle = &model.recognizer.bundle;
    let [c, h, w] = bundle.spec.input;
    Ok(Json(json!({
        "name": model.name,
        "versions": versions,
        "platform": "inkstone_tract",
        "inputs": [{ "name": "input", "datatype": "FP32", "shape": [-1, c, h, w] }],
        "outputs": [
            { "name": "logits", "datatype": "FP32", "shape": [-1, bundle.charset.len()] },
            { "name": "probabilities", "datatype": "FP32", "shape": [-1, bundle.charset.len()] },
        ],
        "parameters": {
            "charset": bundle.charset.symbols,
            "recipe": bundle.recipe,
        },
    })))
}

#[derive(Deserialize)]
pub struct InferRequest {
    id: Option<String>,
    inputs: Vec<InputTensor>,
    #[serde(default)]
    outputs: Vec<RequestedOutput>,
}

#[derive(Deserialize)]
struct InputTensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    data: Value,
}

#[derive(Deserialize)]
struct RequestedOutput {
    name: String,
}

async fn infer(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    run_infer(&app, app.model(&name, None)?, &body).await
}

async fn infer_version(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    run_infer(
        &app,
        app.model(&name, Some(parse_version(&version)?))?,
        &body,
    )
    .await
}

/// A tensor request holds one prepared input per image, where the recognizer takes one per
/// test-time view and reading (`Recipe::views`, `Recipe::readings`): the client's input
/// stands for every one, so the answer is the network's to that input.
fn as_every_input(values: Vec<f32>, n: usize, inputs: usize) -> Vec<f32> {
    if inputs == 1 || n == 0 {
        return values;
    }
    let one = values.len() / n;
    values
        .chunks_exact(one)
        .flat_map(|input| std::iter::repeat_n(input, inputs).flatten().copied())
        .collect()
}

async fn run_infer(
    app: &App,
    model: Arc<LoadedModel>,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let ticket = model.batcher.ticket();
    let ParsedInfer {
        id,
        values,
        batch: n,
        outputs: wanted,
    } = parse_infer(body, model.recognizer.bundle.spec.input)?;
    let values = as_every_input(values, n, model.recognizer.inputs_per_image());
    let inference = ticket.infer(values, n).await?;
    app.metrics
        .observe_batch(&model.name, inference.batch_size, inference.computed);
    let classes = inference.logits.len() / n;
    let mut outputs = Vec::new();
    if wanted.contains(&"logits") {
        outputs.push(json!({
            "name": "logits", "datatype": "FP32", "shape": [n, classes], "data": inference.logits,
        }));
    }
    if wanted.contains(&"probabilities") {
        let probs: Vec<f32> = inference.logits.chunks(classes).flat_map(softmax).collect();
        outputs.push(json!({
            "name": "probabilities", "datatype": "FP32", "shape": [n, classes], "data": probs,
        }));
    }
    let mut response = json!({
        "model_name": model.name,
        "model_version": model.version.to_string(),
        "outputs": outputs,
    });
    if let Some(id) = id {
        response["id"] = json!(id);
    }
    Ok(Json(response))
}

/// An infer request checked against its model: what [`parse_infer`] returns.
pub struct ParsedInfer {
    pub id: Option<String>,
    /// The input tensor's values, flattened row-major.
    pub values: Vec<f32>,
    /// N of the `[N, C, H, W]` input.
    pub batch: usize,
    /// The outputs to return (`logits` when the request names none).
    pub outputs: Vec<&'static str>,
}

/// Parses an infer request body and checks it against a model whose input is `[c, h, w]`.
pub fn parse_infer(body: &[u8], input: [usize; 3]) -> Result<ParsedInfer, ApiError> {
    let request: InferRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("infer request: {e}")))?;
    let [tensor] = request.inputs.as_slice() else {
        return Err(ApiError::bad_request(format!(
            "inputs: expected exactly one tensor, got {}",
            request.inputs.len()
        )));
    };
    let (values, batch) = check_input(tensor, input)?;
    let outputs = output_names(&request.outputs)?;
    Ok(ParsedInfer {
        id: request.id,
        values,
        batch,
        outputs,
    })
}

fn output_names(requested: &[RequestedOutput]) -> Result<Vec<&'static str>, ApiError> {
    if requested.is_empty() {
        return Ok(vec!["logits"]);
    }
    requested
        .iter()
        .map(|o| match o.name.as_str() {
            "logits" => Ok("logits"),
            "probabilities" => Ok("probabilities"),
            other => Err(ApiError::bad_request(format!(
                "outputs: unknown output `{other}` (this model has `logits` and `probabilities`)"
            ))),
        })
        .collect()
}

/// Validates name, datatype and shape against the model, and flattens the data (flat or
/// nested row-major arrays, as the protocol allows). Returns the values and the batch size.
fn check_input(input: &InputTensor, [c, h, w]: [usize; 3]) -> Result<(Vec<f32>, usize), ApiError> {
    let bad = |m: String| {
        Err(ApiError::bad_request(format!(
            "input `{}`: {m}",
            input.name
        )))
    };
    if input.name != "input" {
        return bad("unknown input (this model's input is `input`)".into());
    }
    if input.datatype != "FP32" {
        return bad(format!("datatype {} is not FP32", input.datatype));
    }
    let n = match input.shape.as_slice() {
        &[n, sc, sh, sw] if [sc, sh, sw] == [c as i64, h as i64, w as i64] && n >= 1 => n as usize,
        _ => {
            return bad(format!(
                "shape {:?} is not [N, {c}, {h}, {w}] with N ≥ 1",
                input.shape
            ))
        }
    };
    if n > MAX_INFER_BATCH {
        return bad(format!("batch {n} is over the limit of {MAX_INFER_BATCH}"));
    }
    let expected = n * c * h * w;
    let mut values = Vec::with_capacity(expected);
    if let Err(m) = flatten(&input.data, &mut values, expected) {
        return bad(m);
    }
    if values.len() != expected {
        return bad(format!(
            "{} values do not fill shape {:?}",
            values.len(),
            input.shape
        ));
    }
    Ok((values, n))
}

fn flatten(data: &Value, out: &mut Vec<f32>, limit: usize) -> Result<(), String> {
    match data {
        Value::Number(x) => {
            let v = x.as_f64().unwrap_or(f64::NAN) as f32;
            if !v.is_finite() {
                return Err(format!("value {x} is not a finite FP32 number"));
            }
            if out.len() == limit {
                return Err(format!("more than the {limit} values the shape holds"));
            }
            out.push(v);
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|item| flatten(item, out, limit)),
        Value::String(_) => Err("data holds a string, not numbers".into()),
        Value::Object(_) => Err("data holds an object, not numbers".into()),
        Value::Bool(_) | Value::Null => Err(format!("data holds {data}, not numbers")),
    }
}

#[cfg(test)]
mod tests {
    use super::as_every_input;

    #[test]
    fn a_tensor_input_stands_for_every_view_of_its_image() {
        let two_images = vec![1.0, 2.0, 3.0, 4.0];
        assert_eq!(as_every_input(two_images.clone(), 2, 1), two_images);
        assert_eq!(
            as_every_input(two_images, 2, 3),
            [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0]
        );
        assert!(as_every_input(Vec::new(), 0, 3).is_empty());
    }
}
