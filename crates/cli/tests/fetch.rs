//! `inkstone data fetch mnist` against a real HTTP server on 127.0.0.1 serving the files of
//! `../shared/data/mnist`, with HTTP Range support so resuming is exercised for real.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Serves `root/good/<file>` from the MNIST folder and `root/bad/<file>` as corrupt bytes.
/// Returns the base URL and a counter of requests that carried a Range header.
fn serve(mnist: PathBuf) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let ranged = Arc::new(AtomicUsize::new(0));
    let counter = ranged.clone();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let url = request.url().to_string();
            let (mirror, name) = url
                .trim_start_matches('/')
                .split_once('/')
                .unwrap_or(("", ""));
            let known_mirror = mirror == "good" || mirror == "bad";
            let Some(mut bytes) = known_mirror
                .then(|| std::fs::read(mnist.join(name)).ok())
                .flatten()
            else {
                let _ = request.respond(tiny_http::Response::empty(404));
                continue;
            };
            if mirror == "bad" {
                bytes
                    .iter_mut()
                    .skip(100)
                    .step_by(50)
                    .for_each(|b| *b ^= 0x5a);
            }
            let range = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Range"))
                .and_then(|h| {
                    h.value
                        .as_str()
                        .strip_prefix("bytes=")?
                        .strip_suffix('-')?
                        .parse::<usize>()
                        .ok()
                });
            let response = match range {
                Some(start) if start >= bytes.len() => {
                    tiny_http::Response::from_data(Vec::new()).with_status_code(416)
                }
                Some(start) => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let header = format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len());
                    tiny_http::Response::from_data(bytes[start..].to_vec())
                        .with_status_code(206)
                        .with_header(
                            tiny_http::Header::from_bytes("Content-Range", header).unwrap(),
                        )
                }
                None => tiny_http::Response::from_data(bytes),
            };
            let _ = request.respond(response);
        }
    });
    (base, ranged)
}

fn fetch(to: &Path, mirrors: &[String]) -> std::process::Output {
    let mut args = vec![
        "data".to_string(),
        "fetch".into(),
        "mnist".into(),
        "--to".into(),
        to.display().to_string(),
    ];
    for m in mirrors {
        args.extend(["--mirror".to_string(), m.clone()]);
    }
    inkstone(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn downloads_verifies_resumes_and_falls_back_to_the_next_mirror() {
    let Some(mnist) = shared_data("mnist") else {
        return;
    };
    let (base, ranged) = serve(mnist.clone());
    let to = tempfile::tempdir().unwrap();
    // Half of one file is already there from an interrupted download.
    let original = std::fs::read(mnist.join(FILES[1])).unwrap();
    std::fs::write(
        to.path().join(format!("{}.part", FILES[1])),
        &original[..original.len() / 2],
    )
    .unwrap();
    // The first mirror serves corrupt files; every file must come from the second.
    let out = fetch(to.path(), &[format!("{base}/bad"), format!("{base}/good")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("checksum mismatch"),
        "{}",
        stderr(&out)
    );
    assert!(
        ranged.load(Ordering::SeqCst) >= 1,
        "the partial file was resumed with a Range request"
    );
    for name in FILES {
        assert_eq!(
            std::fs::read(to.path().join(name)).unwrap(),
            std::fs::read(mnist.join(name)).unwrap(),
            "{name}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(to.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The fetched folder is usable as --data.
    let eval_dir = to.path().display().to_string();
    let again = fetch(to.path(), &[format!("{base}/good")]);
    assert!(
        stderr(&again).matches("present, checksum ok").count() == 4,
        "{}",
        stderr(&again)
    );
    assert!(
        inkstone_data::mnist::load_dir(Path::new(&eval_dir), inkstone_data::Split::Test).is_ok()
    );
}

#[test]
fn only_bad_mirrors_is_an_error_and_leaves_no_file() {
    let Some(mnist) = shared_data("mnist") else {
        return;
    };
    let (base, _) = serve(mnist);
    let to = tempfile::tempdir().unwrap();
    let out = fetch(
        to.path(),
        &[format!("{base}/bad"), format!("{base}/missing")],
    );
    assert_fails_with(&out, &["train-images-idx3-ubyte.gz"]);
    assert!(!to.path().join(FILES[0]).exists());
}
