//! `inkstone serve`: bundles from a registry folder behind REST (`/v1`), KServe v2 (`/v2`),
//! Prometheus `/metrics`, an OpenAPI document and a page to draw on (`/`).
//!
//! Request path: body → [`input`] (image bytes, multipart or strokes) → recipe → [`batcher`]
//! (requests grouped for a few ms) → the tract plan of the bundle's exported graph → top-k.

pub mod app;
pub mod batcher;
pub mod error;
pub mod input;
pub mod metrics;
pub mod registry;
pub mod v1;
pub mod v2;

use app::App;
use batcher::BatchConfig;
use registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub models_dir: PathBuf,
    /// Name of the model `/v1/predict` uses (default: the first by name).
    pub default_model: Option<String>,
    pub max_body_bytes: usize,
    /// Largest image (width × height) a request may carry, checked before decoding.
    pub max_pixels: u64,
    /// Inference requests handled at once; more are answered 503 with Retry-After.
    pub max_concurrency: usize,
    pub request_timeout: Duration,
    pub batch: BatchConfig,
    /// How often the registry folder is rescanned for added, changed or removed bundles.
    pub reload_interval: Duration,
}

impl ServeConfig {
    pub fn new(models_dir: PathBuf) -> Self {
        ServeConfig {
            models_dir,
            default_model: None,
            max_body_bytes: 16 << 20,
            max_pixels: 40_000_000,
            max_concurrency: 512,
            request_timeout: Duration::from_secs(10),
            batch: BatchConfig::default(),
            reload_interval: Duration::from_secs(2),
        }
    }
}

/// Loads the registry and serves on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let dir = config.models_dir.clone();
    let batch = config.batch.clone();
    let registry = tokio::task::spawn_blocking(move || Registry::open(&dir, batch))
        .await
        .map_err(|e| e.to_string())??;
    let app = Arc::new(App {
        config,
        registry,
        metrics: Default::default(),
    });
    tokio::spawn(watch_registry(app.clone()));
    axum::serve(listener, app::router(app))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("server failed: {e}"))
}

async fn watch_registry(app: Arc<App>) {
    let mut tick = tokio::time::interval(app.config.reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let app = app.clone();
        // Loading compiles networks: keep it off the threads that answer requests.
        let _ = tokio::task::spawn_blocking(move || app.registry.rescan()).await;
    }
}

/// Runs the service on `addr` until Ctrl-C or SIGTERM.
pub fn run(addr: SocketAddr, config: ServeConfig) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        eprintln!(
            "serving {} on http://{}",
            config.models_dir.display(),
            listener.local_addr().map_err(|e| e.to_string())?
        );
        serve(listener, config, shutdown_signal()).await
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    eprintln!("shutting down: finishing requests in flight");
}

/// A service running on its own threads (for tests and embedding); stops when dropped.
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl RunningServer {
    /// Starts serving on 127.0.0.1 on a free port and returns once it accepts connections.
    pub fn start(config: ServeConfig) -> Result<Self, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
                serve(listener, config, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Ok(RunningServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops accepting, finishes what is in flight, and reports how serving ended.
    pub fn stop(mut self) -> Result<(), String> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| "server thread panicked".to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
