//! `inkstone serve`: bundles from a registry folder behind REST (`/v1`), KServe v2 (`/v2`),
//! Prometheus `/metrics`, an OpenAPI document, a page to draw on (`/`) and, with a runs folder,
//! a live view of training (`/runs`).
//!
//! Request path: body → [`input`] (image bytes, multipart or strokes) → recipe → [`batcher`]
//! (requests grouped for a few ms) → the tract plan of the bundle's exported graph → top-k.

pub mod app;
pub mod batcher;
pub mod error;
pub mod input;
mod listen;
pub mod metrics;
pub mod registry;
pub mod runs;
pub mod state;
pub mod upload;
pub mod v1;
pub mod v2;

use batcher::BatchConfig;
use error::ServeError;
use registry::Registry;
use state::App;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The registry folder; `None` serves only the training view (`runs_dir`).
    pub models_dir: Option<PathBuf>,
    /// Training runs shown live at `/runs` (`inkstone serve --runs DIR`).
    pub runs_dir: Option<PathBuf>,
    /// Name of the model `/v1/predict` uses (default: the first by name).
    pub default_model: Option<String>,
    pub max_body_bytes: usize,
    /// Largest image (width × height) a request may carry, checked before decoding.
    pub max_pixels: u64,
    /// Inference requests handled at once; more are answered 503 with Retry-After.
    pub max_concurrency: usize,
    /// Time limit for running a request whose body has arrived (then 503).
    pub request_timeout: Duration,
    /// How fast a request body must arrive before the request may run (else 408).
    pub upload: upload::UploadPace,
    /// Time a client has to send a request line and headers; an idle keep-alive connection is
    /// closed after it too.
    pub header_timeout: Duration,
    /// Connections open at once; more are sent a 503 and closed as soon as they are accepted.
    pub max_connections: usize,
    pub batch: BatchConfig,
    /// How often the registry folder is rescanned for added, changed or removed bundles.
    pub reload_interval: Duration,
}

impl Default for ServeConfig {
    /// Nothing to serve yet (set `models_dir` or `runs_dir`); the documented limits.
    fn default() -> Self {
        ServeConfig {
            models_dir: None,
            runs_dir: None,
            default_model: None,
            max_body_bytes: 16 << 20,
            max_pixels: 40_000_000,
            max_concurrency: 512,
            request_timeout: Duration::from_secs(10),
            upload: Default::default(),
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            batch: BatchConfig::default(),
            reload_interval: Duration::from_secs(2),
        }
    }
}

impl ServeConfig {
    /// The defaults, serving the registry folder `models_dir`.
    pub fn new(models_dir: PathBuf) -> Self {
        ServeConfig {
            models_dir: Some(models_dir),
            ..Default::default()
        }
    }
}

/// Loads the registry and serves on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let dir = config.models_dir.clone();
    let batch = config.batch.clone();
    let registry = match dir {
        Some(dir) => tokio::task::spawn_blocking(move || Registry::open(&dir, batch))
            .await
            .map_err(|_| ServeError::Panicked)??,
        None => Registry::empty(batch),
    };
    let watch = config.models_dir.is_some();
    let app = Arc::new(App {
        config,
        registry,
        metrics: Default::default(),
    });
    if watch {
        tokio::spawn(watch_registry(app.clone()));
    }
    let router = app::router(app.clone());
    listen::accept_loop(listener, app, router, shutdown).await;
    Ok(())
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
pub fn run(addr: SocketAddr, config: ServeConfig) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Listen {
                addr: addr.to_string(),
                source,
            })?;
        let what: Vec<String> = [
            config.models_dir.as_ref().map(|d| d.display().to_string()),
            config
                .runs_dir
                .as_ref()
                .map(|d| format!("runs in {} at /runs", d.display())),
        ]
        .into_iter()
        .flatten()
        .collect();
        eprintln!(
            "serving {} on http://{}",
            what.join(" and "),
            listener.local_addr()?
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
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl RunningServer {
    /// Starts serving on 127.0.0.1 on a free port and returns once it accepts connections.
    pub fn start(config: ServeConfig) -> Result<Self, ServeError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
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
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| ServeError::Panicked)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
