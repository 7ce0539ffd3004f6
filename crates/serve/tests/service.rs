//! The service over real HTTP on 127.0.0.1: every route, what bad requests get back, hot
//! reload, metrics, and that its answers equal the recognizer's own.

mod support;

use inkstone_data::image_file::decode_gray;
use inkstone_model::recognizer::Recognizer;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn v1_predict_takes_raw_multipart_and_strokes_and_matches_the_recognizer() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = lenet_bundle();
    install(dir.path(), "digits", 1, &bundle);
    let server = start(dir.path(), |_| {});
    let recognizer = Recognizer::new(bundle).unwrap();
    let png = seven_png();
    let expected = recognizer.top_k(&decode_gray(&png).unwrap(), 3);

    let raw = post(&server.url("/v1/predict?top_k=3"), "image/png", &png);
    assert_eq!(raw.status, 200, "{}", raw.body);
    let raw = raw.json();
    assert_eq!(raw["model"], "digits");
    assert_eq!(raw["version"], 1);
    let served: Vec<(u64, String, f32)> = raw["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["label"].as_u64().unwrap(),
                p["char"].as_str().unwrap().into(),
                p["prob"].as_f64().unwrap() as f32,
            )
        })
        .collect();
    let direct: Vec<(u64, String, f32)> = expected
        .iter()
        .map(|c| (c.label as u64, c.char.clone(), c.prob))
        .collect();
    assert_eq!(served, direct);
    assert!(raw["timing_ms"]["total"].as_f64().unwrap() > 0.0);

    let (content_type, body) = multipart("image", &png);
    let parts = post(
        &server.url("/v1/models/digits:predict?top_k=3"),
        &content_type,
        &body,
    );
    assert_eq!(parts.json()["predictions"], raw["predictions"]);
    let pinned = post(
        &server.url("/v1/models/digits/versions/1:predict?top_k=3"),
        "image/png",
        &png,
    );
    assert_eq!(pinned.json()["predictions"], raw["predictions"]);

    let strokes = json!({"strokes": [[[0, 0], [40, 0], [15, 60]]], "top_k": 10});
    let drawn = post_json(&server.url("/v1/predict"), &strokes).json();
    let probs: Vec<f64> = drawn["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["prob"].as_f64().unwrap())
        .collect();
    assert_eq!(probs.len(), 10);
    assert!(
        probs.windows(2).all(|w| w[0] >= w[1]),
        "not ranked: {probs:?}"
    );
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-4);
}

#[test]
fn v2_protocol_health_metadata_and_infer() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = lenet_bundle();
    install(dir.path(), "digits", 3, &bundle);
    let server = start(dir.path(), |_| {});
    assert_eq!(get(&server.url("/v2/health/live")).status, 200);
    assert_eq!(get(&server.url("/v2/health/ready")).json()["ready"], true);
    assert_eq!(get(&server.url("/v2")).json()["name"], "inkstone");
    let meta = get(&server.url("/v2/models/digits")).json();
    assert_eq!(meta["versions"], json!(["3"]));
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 1, 28, 28]));
    assert_eq!(meta["outputs"][0]["shape"], json!([-1, 10]));
    assert_eq!(
        get(&server.url("/v2/models/digits/versions/3/ready")).status,
        200
    );
    get(&server.url("/v2/models/digits/versions/4")).assert_error(404, "no version 4");
    get(&server.url("/v2/models/nope")).assert_error(404, "no model `nope`");

    // Two inputs, nested data for one request and flat for the other: same logits as tract.
    let recognizer = Recognizer::new(bundle).unwrap();
    let values: Vec<f32> = (0..2 * 784)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let expected = recognizer.logits(values.clone(), 2).unwrap();
    let nested: Vec<Vec<f32>> = values.chunks(28).map(<[f32]>::to_vec).collect();
    for data in [json!(values), json!(nested)] {
        let request = json!({
            "id": "r1",
            "inputs": [{"name": "input", "shape": [2, 1, 28, 28], "datatype": "FP32", "data": data}],
            "outputs": [{"name": "logits"}, {"name": "probabilities"}],
        });
        let answer = post_json(&server.url("/v2/models/digits/versions/3/infer"), &request);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = answer.json();
        assert_eq!(answer["id"], "r1");
        assert_eq!(answer["model_version"], "3");
        assert_eq!(answer["outputs"][0]["shape"], json!([2, 10]));
        let logits: Vec<f32> =
            serde_json::from_value(answer["outputs"][0]["data"].clone()).unwrap();
        let diff = logits
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-5, "max diff {diff}");
        let probs: Vec<f32> = serde_json::from_value(answer["outputs"][1]["data"].clone()).unwrap();
        assert!((probs[..10].iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }

    let infer = |input: serde_json::Value| {
        post_json(
            &server.url("/v2/models/digits/infer"),
            &json!({"inputs": [input]}),
        )
    };
    let zeros = vec![0.0; 784];
    infer(json!({"name": "input", "shape": [1, 1, 28, 27], "datatype": "FP32", "data": zeros}))
        .assert_error(400, "is not [N, 1, 28, 28]");
    infer(json!({"name": "input", "shape": [1, 1, 28, 28], "datatype": "INT64", "data": zeros}))
        .assert_error(400, "INT64 is not FP32");
    infer(json!({"name": "x", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": zeros}))
        .assert_error(400, "unknown input");
    infer(
        json!({"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [1.0, 2.0]}),
    )
    .assert_error(400, "2 values do not fill");
    infer(json!({"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": ["a"]}))
        .assert_error(400, "string");
    let too_many = vec![0.0; 785];
    infer(json!({"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": too_many}))
        .assert_error(400, "more than the 784 values");
    infer(json!({"name": "input", "shape": [0, 1, 28, 28], "datatype": "FP32", "data": []}))
        .assert_error(400, "N ≥ 1");
    post(
        &server.url("/v2/models/digits/infer"),
        "application/json",
        b"{",
    )
    .assert_error(400, "infer request");
}

#[test]
fn bad_requests_get_a_one_line_reason_and_the_service_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |c| {
        c.max_pixels = 1_000_000;
        c.max_body_bytes = 8 << 20;
    });
    let predict = server.url("/v1/predict");
    post(&predict, "image/png", b"").assert_error(400, "empty");
    post(&predict, "image/png", b"hello, not an image").assert_error(400, "unknown image format");
    post(&predict, "image/png", &[0x89]).assert_error(400, "image");
    let png = seven_png();
    post(&predict, "image/png", &png[..png.len() / 2]).assert_error(400, "image");

    // A header that claims 30000×30000, and a real 2000×2000 image that compresses to a few
    // kB (a decompression bomb as far as a 1 Mpx limit is concerned): refused before decoding.
    let mut header = support::png(&image::GrayImage::new(1, 1));
    header[16..20].copy_from_slice(&30000u32.to_be_bytes());
    header[20..24].copy_from_slice(&30000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&header[12..29]);
    let crc = crc.sum();
    header[29..33].copy_from_slice(&crc.to_be_bytes());
    post(&predict, "image/png", &header).assert_error(400, "30000×30000");
    let bomb = support::png(&image::GrayImage::new(2000, 2000));
    assert!(bomb.len() < 64 << 10);
    post(&predict, "image/png", &bomb).assert_error(400, "over the limit of 1000000 pixels");
    // Too long a body is refused from its Content-Length, before it is sent.
    let mut big = std::net::TcpStream::connect(server.addr).unwrap();
    std::io::Write::write_all(
        &mut big,
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 9437184\r\n\r\n",
    )
    .unwrap();
    let mut reply = [0u8; 12];
    std::io::Read::read_exact(&mut big, &mut reply).unwrap();
    assert_eq!(&reply, b"HTTP/1.1 413");

    post(&predict, "application/json", b"{\"strokes\": [[[0, NaN]]]}")
        .assert_error(400, "strokes JSON");
    post_json(&predict, &json!({"strokes": []})).assert_error(400, "no points");
    post_json(&predict, &json!({"strokes": [[[0, 0]]], "brush": 2}))
        .assert_error(400, "unknown field");
    post_json(&predict, &json!({"strokes": [[[0, 1e30]]]})).assert_error(400, "stroke 0 point 0");
    let many: Vec<[u8; 2]> = vec![[1, 2]; 1_000_000];
    post_json(&predict, &json!({ "strokes": [many] }))
        .assert_error(400, "points is over the limit");
    post(&server.url("/v1/predict?top_k=11"), "image/png", &png).assert_error(400, "top_k: 11");
    let (content_type, body) = multipart("", b"");
    post(&predict, &content_type, &body).assert_error(400, "no file part");

    post(&server.url("/v1/models/nope:predict"), "image/png", &png)
        .assert_error(404, "no model `nope`");
    post(&server.url("/v1/models/digits"), "image/png", &png).assert_error(404, ":predict");
    post(
        &server.url("/v1/models/digits/versions/9:predict"),
        "image/png",
        &png,
    )
    .assert_error(404, "no version 9");
    get(&server.url("/no/such/route")).assert_error(404, "no such route");

    assert_eq!(post(&predict, "image/png", &png).status, 200);
}

#[test]
fn versions_come_and_go_while_serving_and_a_corrupt_bundle_leaves_the_old_one_serving() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |_| {});
    let versions = |server: &inkstone_serve::RunningServer| {
        get(&server.url("/v1/models")).json()["models"][0]["versions"].clone()
    };
    let wait_for = |what: serde_json::Value| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while versions(&server) != what {
            assert!(Instant::now() < deadline, "registry never showed {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!(versions(&server), json!([1]));

    // Requests run all through the changes; none may fail.
    let url = server.url("/v1/models/digits:predict");
    let hammer = std::thread::spawn(move || {
        let png = seven_png();
        let mut statuses = Vec::new();
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            statuses.push(post(&url, "image/png", &png).status);
        }
        statuses
    });

    install(dir.path(), "digits", 2, &lenet_bundle());
    wait_for(json!([1, 2]));
    let served = post(
        &server.url("/v1/models/digits:predict"),
        "image/png",
        &seven_png(),
    )
    .json();
    assert_eq!(served["version"], 2, "the newest version is the default");

    // Replace version 2 with garbage: reported, and the loaded copy keeps serving.
    std::fs::write(dir.path().join("digits/2/model.inkstone"), b"not a bundle").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing = get(&server.url("/v1/models")).json();
        if let Some(error) = listing["errors"].as_array().unwrap().first() {
            assert!(error["path"]
                .as_str()
                .unwrap()
                .ends_with("2/model.inkstone"));
            break;
        }
        assert!(Instant::now() < deadline, "corrupt bundle never reported");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(versions(&server), json!([1, 2]));
    let still = post(
        &server.url("/v1/models/digits/versions/2:predict"),
        "image/png",
        &seven_png(),
    );
    assert_eq!(still.status, 200, "{}", still.body);

    std::fs::remove_dir_all(dir.path().join("digits/1")).unwrap();
    wait_for(json!([2]));
    let statuses = hammer.join().unwrap();
    assert!(statuses.len() > 10, "only {} requests ran", statuses.len());
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let metrics = get(&server.url("/metrics")).body;
    assert!(
        metrics.contains("inkstone_model_load_errors 1"),
        "{metrics}"
    );
}

#[test]
fn a_slow_upload_holds_no_slot_and_is_answered_408_after_the_grace() {
    // Shedding with 503 and Retry-After when the slots are full: overload.rs.
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |c| {
        c.max_concurrency = 1;
        c.upload.grace = Duration::from_millis(1500);
    });
    // A client that promises a body and sends two bytes of it...
    let mut slow = std::net::TcpStream::connect(server.addr).unwrap();
    write!(slow, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\nab").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // ...does not hold the only slot.
    assert_eq!(
        post(&server.url("/v1/predict"), "image/png", &seven_png()).status,
        200
    );
    assert_eq!(get(&server.url("/v2/health/live")).status, 200);
    // After the grace it is told its body is too slow, and the connection is closed.
    let mut reply = String::new();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = std::io::Read::read_to_string(&mut slow, &mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("slower than 4096 bytes/s"), "{reply}");
    assert!(reply.contains("connection: close"), "{reply}");
}

#[test]
fn metrics_openapi_and_page() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |_| {});
    for _ in 0..3 {
        assert_eq!(
            post(&server.url("/v1/predict"), "image/png", &seven_png()).status,
            200
        );
    }
    post(&server.url("/v1/predict"), "image/png", b"x").assert_error(400, "image");
    let metrics = get(&server.url("/metrics")).body;
    for line in [
        "inkstone_http_requests_total{route=\"/v1/predict\",status=\"200\"} 3",
        "inkstone_http_requests_total{route=\"/v1/predict\",status=\"400\"} 1",
        "inkstone_http_request_duration_seconds_count{route=\"/v1/predict\"} 4",
        "inkstone_request_batch_size_count{model=\"digits\"} 3",
        "inkstone_models_loaded 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }

    let openapi = get(&server.url("/openapi.json")).json();
    let paths = openapi["paths"].as_object().unwrap();
    for path in [
        "/v1/predict",
        "/v1/models/{target}",
        "/v2/models/{name}/infer",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    let page = get(&server.url("/"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<canvas id=\"pad\""));
}

#[test]
fn an_empty_registry_is_live_but_not_ready_and_a_missing_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |_| {});
    assert_eq!(get(&server.url("/v2/health/live")).status, 200);
    let ready = get(&server.url("/v2/health/ready"));
    assert_eq!(ready.status, 503);
    post(&server.url("/v1/predict"), "image/png", &seven_png())
        .assert_error(503, "no model is loaded");
    server.stop().unwrap();

    let missing = start(&dir.path().join("absent"), |_| {});
    let err = missing.stop().unwrap_err().to_string();
    assert!(err.contains("absent: not a folder of models"), "{err}");
}
