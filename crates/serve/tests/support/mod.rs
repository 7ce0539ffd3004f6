//! Shared by the service tests: registry folders of real (randomly initialised) bundles, and a
//! small HTTP client that returns every status instead of failing on 4xx/5xx.
#![allow(dead_code)]

pub mod load;

use image::{GrayImage, ImageFormat, Luma};
use inkstone_data::{Charset, Recipe};
use inkstone_model::builtin::builtin;
use inkstone_model::Bundle;
use inkstone_serve::{RunningServer, ServeConfig};
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

pub fn lenet_bundle() -> Bundle {
    let spec = builtin("lenet5", 10, 28).unwrap();
    Bundle::untrained(spec, Recipe::mnist(), Charset::digits()).unwrap()
}

/// A network where inference, not HTTP, is most of a request's cost (about 20 M
/// multiply-adds: a few ms on one core), with LeNet's input and charset.
pub fn digitcnn_bundle() -> Bundle {
    let spec = builtin("digitcnn", 10, 28).unwrap();
    Bundle::untrained(spec, Recipe::mnist(), Charset::digits()).unwrap()
}

/// Writes `bundle` as `dir/name/version/model.inkstone`.
pub fn install(dir: &Path, name: &str, version: u64, bundle: &Bundle) {
    let folder = dir.join(name).join(version.to_string());
    std::fs::create_dir_all(&folder).unwrap();
    bundle.save(&folder.join("model.inkstone")).unwrap();
}

pub fn start(dir: &Path, adjust: impl FnOnce(&mut ServeConfig)) -> RunningServer {
    let mut config = ServeConfig::new(dir.to_path_buf());
    config.reload_interval = Duration::from_millis(100);
    adjust(&mut config);
    RunningServer::start(config).unwrap()
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts an error status with a one-line JSON message containing `needle`.
    pub fn assert_error(&self, status: u16, needle: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        let message = self.json()["error"].as_str().unwrap().to_string();
        assert!(message.contains(needle), "`{needle}` not in `{message}`");
        assert!(!message.contains('\n'), "multi-line error: {message}");
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.expect("HTTP exchange");
    Answer {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string()),
        body: response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap(),
    }
}

pub fn get(url: &str) -> Answer {
    answer(agent().get(url).call())
}

pub fn post(url: &str, content_type: &str, body: &[u8]) -> Answer {
    answer(
        agent()
            .post(url)
            .header("content-type", content_type)
            .send(body),
    )
}

pub fn post_json(url: &str, body: &serde_json::Value) -> Answer {
    post(url, "application/json", body.to_string().as_bytes())
}

/// A dark "7" on light paper, as a PNG.
pub fn seven_png() -> Vec<u8> {
    let image = GrayImage::from_fn(60, 80, |x, y| {
        let on_bar = (10..14).contains(&y) && (10..50).contains(&x);
        let on_stem = (14..70).contains(&y) && {
            let stem_x = 48.0 - (y as f32 - 14.0) * 0.4;
            (x as f32 - stem_x).abs() < 2.5
        };
        Luma([if on_bar || on_stem { 30 } else { 230 }])
    });
    png(&image)
}

pub fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// A multipart/form-data body with one file part; returns (content type, body).
pub fn multipart(field: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "inkstone-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"d.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
