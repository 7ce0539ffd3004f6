//! The accept loop: HTTP/1.1 connections with a deadline for sending the request headers, a cap
//! on open connections, and a graceful shutdown that finishes the requests in flight.
//!
//! `axum::serve` has neither bound: a client trickling header bytes (or sending none) held its
//! connection for ever, and a flood of idle sockets could use up the process's file descriptors.

use crate::error::RETRY_AFTER_SECONDS;
use crate::state::App;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting and waits
/// for the open connections to finish what they are doing (requests in flight are bounded by
/// the request timeout, requests still sending headers by the header timeout).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    // The deadline runs from the moment hyper waits for a request head: the whole request
    // line and headers must arrive within it, and an idle keep-alive connection is closed
    // after it.
    http.timer(TokioTimer::new())
        .header_read_timeout(app.config.header_timeout);
    let open = Arc::new(Semaphore::new(connection_cap(app.config.max_connections)));
    let refusal = refusal();
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    pause_after(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            // Over the cap: a 503 if the socket takes it at once, then closed. Reading what
            // already arrived first makes a reset (which could swallow the 503) less likely.
            app.metrics.connections_refused.inc();
            let _ = stream.try_read(&mut [0; 4096]);
            let _ = stream.try_write(&refusal);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        ));
        let gauge = app.metrics.connections_open.clone();
        gauge.inc();
        tokio::spawn(async move {
            // Errors here are the client's (reset, header timeout, malformed request): hyper
            // has answered what it could; nothing to report.
            let _ = connection.await;
            gauge.dec();
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// What a connection over the cap is sent before it is closed.
fn refusal() -> Vec<u8> {
    let body = r#"{"error":"the server is at its connection limit; retry shortly"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: {RETRY_AFTER_SECONDS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// After a failed accept: none if the peer merely gave up; otherwise (out of file descriptors,
/// out of memory) a short pause so the loop does not spin while connections finish.
async fn pause_after(error: std::io::Error) {
    use std::io::ErrorKind::*;
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Files the process keeps beyond its sockets: listener, stdio, bundles, registry scans.
#[cfg(unix)]
const SPARE_FILES: u64 = 256;

/// Connections to hold open at once: `wanted`, raising the soft limit on open files towards
/// the hard one if it is too low for that, or fewer (with a warning) if it cannot be raised,
/// so the cap, not the file-descriptor limit, is what refuses connections.
fn connection_cap(wanted: usize) -> usize {
    let wanted = wanted.max(1);
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return wanted;
        }
        // rlim_t is u64 on Linux and macOS.
        let needed = wanted as u64 + SPARE_FILES;
        if limit.rlim_cur < needed {
            let raised = libc::rlimit {
                rlim_cur: needed.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit.rlim_cur = raised.rlim_cur;
            }
        }
        let room =
            usize::try_from(limit.rlim_cur.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
        if room < wanted {
            let room = room.max(1);
            eprintln!(
                "warning: the process may open {} files: accepting at most {room} connections \
                 instead of {wanted} (raise `ulimit -n` for more)",
                limit.rlim_cur
            );
            return room;
        }
    }
    wanted
}
