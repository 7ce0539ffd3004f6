//! `inkstone serve` through the binary: a bundle trained by `inkstone train` answers over HTTP
//! exactly as `inkstone predict` does, the page recognises digits drawn with a mouse in real
//! headless Chromium, and SIGTERM shuts the service down cleanly.

mod common;
use common::*;
use inkstone_data::embedded;
use inkstone_data::Split;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Trains LeNet-5 on the embedded digits (3 epochs: about 96% on its test split) and installs
/// the bundle as `models/digits/1`.
fn registry_with_trained_digits(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    train_lenet5(&run, 3, None, 1, &[]);
    let version = dir.join("models/digits/1");
    std::fs::create_dir_all(&version).unwrap();
    std::fs::copy(run.join("best.inkstone"), version.join("model.inkstone")).unwrap();
    dir.join("models")
}

struct Service {
    child: Child,
    base: String,
}

impl Service {
    /// Starts `inkstone serve` on a free port and waits for the line naming its address.
    fn start(models: &Path) -> Self {
        Self::spawn(&["--models", models.to_str().unwrap()], None).0
    }

    /// `inkstone serve ARGS` on a free port, with `cache` as the user's cache folder; the
    /// service and what it printed before it listened.
    fn spawn(args: &[&str], cache: Option<&Path>) -> (Self, Vec<String>) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_inkstone"));
        command
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"]);
        if let Some(cache) = cache {
            command.env("XDG_CACHE_HOME", cache);
        }
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut before = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("serve exited before listening")
                .unwrap();
            if let Some(url) = line
                .split("on ")
                .nth(1)
                .filter(|_| line.starts_with("serving"))
            {
                break url.trim().to_string();
            }
            before.push(line);
        };
        // Keep draining stderr so the service never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        (Service { child, base }, before)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post_image(url: &str, png: &[u8]) -> serde_json::Value {
    let mut response = ureq::post(url)
        .header("content-type", "image/png")
        .send(png)
        .unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn candidates(list: &serde_json::Value) -> Vec<(u64, String, f32)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let label = c["label"].as_u64().unwrap();
            (
                label,
                c["char"].as_str().unwrap().to_string(),
                c["prob"].as_f64().unwrap() as f32,
            )
        })
        .collect()
}

#[test]
fn service_matches_predict_the_page_reads_drawn_digits_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let models = registry_with_trained_digits(dir.path());
    let bundle = models.join("digits/1/model.inkstone");
    let service = Service::start(&models);

    // The same photos through `inkstone predict` and through the service: the same top-5.
    let test = embedded::load(Split::Test);
    for (i, sample) in test.samples.iter().take(4).enumerate() {
        let path = write_png(
            dir.path(),
            &format!("photo{i}.png"),
            &photo_of(&sample.image, 200),
        );
        let out = inkstone(&[
            "predict",
            bundle.to_str().unwrap(),
            path.to_str().unwrap(),
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let local: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let served = post_image(&service.url("/v1/predict"), &std::fs::read(&path).unwrap());
        assert_eq!(
            candidates(&served["predictions"]),
            candidates(&local["top"]),
            "photo {i}"
        );
    }

    draw_in_chromium(&service);

    // SIGTERM: the service finishes and exits with success.
    let status = Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut service = service;
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = service.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "serve exited with {exit}");
}

/// Runs `tests/browser/draw.mjs` (Playwright driving Debian's Chromium) against the page, when
/// both are installed (`.ci/run` installs them); otherwise says it skipped.
fn draw_in_chromium(service: &Service) {
    let browser_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists()
        || !browser_tests.join("node_modules/playwright-core").exists()
    {
        eprintln!(
            "SKIPPED: the browser test needs {chromium} and `npm install` in {} (.ci/run does both)",
            browser_tests.display()
        );
        return;
    }
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let screenshot = shots.join("draw-page.png");
    let out = Command::new("node")
        .current_dir(&browser_tests)
        .args(["draw.mjs", &service.url("/"), screenshot.to_str().unwrap()])
        .output()
        .expect("run node");
    assert!(out.status.success(), "draw.mjs failed: {}", stderr(&out));
    eprintln!("{}", stdout(&out));
    let drawings: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(drawings.len(), 4, "{}", stdout(&out));
    for d in &drawings {
        assert_eq!(
            d["top1"], d["expected"],
            "drawing {}: page showed {}",
            d["drawing"], d["candidates"]
        );
        assert_eq!(d["candidates"].as_array().unwrap().len(), 5);
    }
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
    eprintln!("screenshot of the page: {}", screenshot.display());
}

#[test]
fn serve_demo_trains_once_then_reuses_its_model_and_reads_a_digit() {
    let cache = tempfile::tempdir().unwrap();
    let (first, said) = Service::spawn(&["--demo"], Some(cache.path()));
    assert!(
        said.iter().any(|l| l.contains("training LeNet-5")),
        "{said:?}"
    );
    let bundle = cache
        .path()
        .join("inkstone/demo/models/digits/1/model.inkstone");
    assert!(bundle.is_file(), "{said:?}");
    let page = ureq::get(&first.url("/")).call().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(ureq::get(&first.url("/runs")).call().unwrap().status(), 200);
    // The first test digit of each class the demo model reads right, as predict does.
    let test = embedded::load(Split::Test);
    let mut right = 0;
    for digit in 0..10u32 {
        let sample = test.samples.iter().find(|s| s.label == digit).unwrap();
        let png = std::fs::read(write_png(cache.path(), "digit.png", &sample.image)).unwrap();
        let answer = post_image(&first.url("/v1/predict"), &png);
        right += (answer["predictions"][0]["label"].as_u64() == Some(digit as u64)) as u32;
    }
    assert!(right >= 8, "{right} of 10 digits read");
    drop(first);
    let trained = std::fs::metadata(&bundle).unwrap().modified().unwrap();
    let (second, said) = Service::spawn(&["--demo"], Some(cache.path()));
    assert!(
        said.iter().any(|l| l.contains("trained before")),
        "{said:?}"
    );
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().modified().unwrap(),
        trained
    );
    assert_eq!(
        ureq::get(&second.url("/v2/health/ready"))
            .call()
            .unwrap()
            .status(),
        200
    );
}
