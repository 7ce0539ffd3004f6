//! What a `/v1` predict request carries, turned into a gray image: raw image bytes, a multipart
//! upload, or JSON pen strokes.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use image::GrayImage;
use inkstone_data::image_file::decode_gray_within;
use inkstone_data::strokes::{self, Stroke};
use serde::Deserialize;

/// Side of the canvas strokes are drawn on before the recipe (which shrinks them further).
const STROKE_CANVAS: u32 = 128;

/// A request's payload, read but not yet decoded.
pub enum Payload {
    Image(Bytes),
    Strokes(StrokesBody),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrokesBody {
    /// `[[[x, y], ...], ...]`: strokes of points.
    pub strokes: Vec<Stroke>,
    /// Pen radius as a fraction of the drawing's larger side.
    pub pen: Option<f32>,
    pub top_k: Option<usize>,
}

impl StrokesBody {
    /// Parses a JSON strokes body (not yet validated: [`Payload::into_image`] does that).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("strokes JSON: {e}")))
    }
}

impl Payload {
    /// Reads the body according to its content type.
    pub async fn read(request: Request) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let multipart = Multipart::from_request(request, &())
                .await
                .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
            return first_file(multipart).await.map(Payload::Image);
        }
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if content_type.starts_with("application/json") {
            return StrokesBody::parse(&body).map(Payload::Strokes);
        }
        Ok(Payload::Image(body))
    }

    /// The `top_k` the body asks for, if any.
    pub fn top_k(&self) -> Option<usize> {
        match self {
            Payload::Strokes(s) => s.top_k,
            Payload::Image(_) => None,
        }
    }

    /// Decodes the payload to gray (blocking work: run it off the async threads). Strokes are
    /// drawn with the body's `pen`, else with `default_pen` (the model recipe's stroke pen).
    pub fn into_image(self, max_pixels: u64, default_pen: f32) -> Result<GrayImage, ApiError> {
        match self {
            Payload::Image(bytes) => decode_gray_within(&bytes, max_pixels)
                .map_err(|e| ApiError::bad_request(format!("image: {e}"))),
            Payload::Strokes(body) => {
                strokes::validate(&body.strokes)
                    .map_err(|e| ApiError::bad_request(format!("strokes: {e}")))?;
                let pen = body.pen.unwrap_or(default_pen);
                if !(0.001..=0.5).contains(&pen) {
                    return Err(ApiError::bad_request(format!(
                        "pen: {pen} is outside 0.001..0.5 (a fraction of the drawing's size)"
                    )));
                }
                Ok(strokes::render(&body.strokes, STROKE_CANVAS, pen))
            }
        }
    }
}

/// The first part of a multipart body that carries a file (or, failing that, any bytes).
async fn first_file(mut multipart: Multipart) -> Result<Bytes, ApiError> {
    let bad =
        |e: axum::extract::multipart::MultipartError| ApiError::new(e.status(), e.body_text());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let is_file = field.file_name().is_some() || matches!(field.name(), Some("image" | "file"));
        let bytes = field.bytes().await.map_err(bad)?;
        if is_file && !bytes.is_empty() {
            return Ok(bytes);
        }
    }
    Err(ApiError::bad_request(
        "multipart body has no file part (send the image as a field named `image`)",
    ))
}
