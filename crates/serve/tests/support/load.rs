//! A small HTTP/1.1 load generator for the overload test and the `overload` example:
//! keep-alive connections on a one-thread tokio runtime, either closed-loop (a few clients,
//! each sending its next request when answered: what the service can serve) or open-loop
//! (requests start on a fixed schedule whether or not earlier ones were answered: offered load
//! that does not slow down when the service does). Also the process's resident memory, read
//! from /proc (the service runs in-process).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// No exchange may take longer than this; one that does counts as a connection error.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(30);

/// Judges the body of a 200 answer (true: correct).
pub type Check = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// One request, sent as is on every exchange.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub request: Arc<Vec<u8>>,
    pub check: Check,
}

impl Target {
    /// `POST path` with `body`, its content type and length.
    pub fn post(
        addr: SocketAddr,
        path: &str,
        content_type: &str,
        body: &[u8],
        check: Check,
    ) -> Self {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        Target {
            addr,
            request: Arc::new(request),
            check,
        }
    }
}

/// What a run got back.
#[derive(Default, Debug)]
pub struct Report {
    /// Requests started.
    pub sent: usize,
    /// Requests due (open loop) that the generator did not start because it already had
    /// twice as many requests in flight as connections: then the generator, not the service,
    /// is what is saturated, and these are not counted as offered.
    pub unsent: usize,
    /// From the first request's start to the last answer.
    pub elapsed: Duration,
    /// Latencies of 200 answers, sorted.
    pub ok: Vec<Duration>,
    /// Latencies of 503 answers, sorted.
    pub refused: Vec<Duration>,
    /// 503 answers without a Retry-After header.
    pub refused_without_retry_after: usize,
    /// 200 answers whose body failed the check.
    pub wrong: usize,
    /// Any other status, by status.
    pub other: BTreeMap<u16, usize>,
    /// Exchanges that failed below HTTP (connect, reset, EOF, malformed answer, time-out).
    pub errors: usize,
    /// The first few of those, for the failure message.
    pub error_sample: Vec<String>,
}

impl Report {
    pub fn served_per_s(&self) -> f64 {
        self.ok.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn refused_share(&self) -> f64 {
        self.refused.len() as f64 / self.sent.max(1) as f64
    }

    pub fn error_share(&self) -> f64 {
        self.errors as f64 / self.sent.max(1) as f64
    }

    fn record(&mut self, started: Instant, outcome: Result<Answer, String>, check: &Check) {
        let latency = started.elapsed();
        match outcome {
            Ok(answer) if answer.status == 200 => {
                if !check(&answer.body) {
                    self.wrong += 1;
                }
                self.ok.push(latency);
            }
            Ok(answer) if answer.status == 503 => {
                if !answer.retry_after {
                    self.refused_without_retry_after += 1;
                }
                self.refused.push(latency);
            }
            Ok(answer) => *self.other.entry(answer.status).or_default() += 1,
            Err(error) => {
                self.errors += 1;
                if self.error_sample.len() < 5 {
                    self.error_sample.push(error);
                }
            }
        }
    }

    fn finish(mut self, elapsed: Duration) -> Self {
        self.elapsed = elapsed;
        self.ok.sort();
        self.refused.sort();
        self
    }
}

/// The value at quantile `q` (0..=1) of sorted `values` (nearest rank); zero when empty.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `clients` clients, each on its own connection, sending one request after the other for
/// `duration`.
pub fn closed_loop(target: &Target, clients: usize, duration: Duration) -> Report {
    runtime().block_on(async {
        let pool = Pool::new(target.addr, clients);
        let report = Arc::new(Mutex::new(Report::default()));
        let start = Instant::now();
        let until = start + duration;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let (pool, target, report) = (pool.clone(), target.clone(), report.clone());
            tasks.spawn(async move {
                while Instant::now() < until {
                    let started = Instant::now();
                    let outcome = pool.exchange(&target.request).await;
                    let mut report = report.lock().unwrap();
                    report.sent += 1;
                    report.record(started, outcome, &target.check);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        take(report).finish(start.elapsed())
    })
}

/// Starts `rate` requests a second for `duration` on a fixed schedule (checked every
/// millisecond), over at most `connections` keep-alive connections (opened before the clock
/// starts), and waits for every answer. A latency runs from the moment its request's task
/// starts, waiting for a free connection included. A request that falls due while
/// `2 × connections` are in flight is not sent (counted in `unsent`), which keeps the
/// generator's own backlog, and so its memory, bounded.
pub fn open_loop(target: &Target, rate: f64, duration: Duration, connections: usize) -> Report {
    runtime().block_on(async {
        let pool = Pool::new(target.addr, connections);
        pool.prefill(connections).await;
        let report = Arc::new(Mutex::new(Report::default()));
        let total = (rate * duration.as_secs_f64()).round() as usize;
        let most_in_flight = 2 * connections.max(1);
        let mut tasks = tokio::task::JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let start = Instant::now();
        let (mut due_so_far, mut sent, mut unsent) = (0, 0, 0);
        while due_so_far < total {
            tick.tick().await;
            while tasks.try_join_next().is_some() {}
            let due = ((start.elapsed().as_secs_f64() * rate) as usize).min(total);
            for _ in due_so_far..due {
                if tasks.len() >= most_in_flight {
                    unsent += 1;
                    continue;
                }
                let (pool, target, report) = (pool.clone(), target.clone(), report.clone());
                tasks.spawn(async move {
                    let begun = Instant::now();
                    let outcome = pool.exchange(&target.request).await;
                    report.lock().unwrap().record(begun, outcome, &target.check);
                });
                sent += 1;
            }
            due_so_far = due;
        }
        while tasks.join_next().await.is_some() {}
        let mut report = take(report);
        report.sent = sent;
        report.unsent = unsent;
        report.finish(start.elapsed())
    })
}

fn take(report: Arc<Mutex<Report>>) -> Report {
    std::mem::take(&mut *report.lock().unwrap())
}

struct Answer {
    status: u16,
    retry_after: bool,
    body: Vec<u8>,
}

/// Idle keep-alive connections, and a bound on connections in use.
#[derive(Clone)]
struct Pool {
    addr: SocketAddr,
    idle: Arc<Mutex<Vec<TcpStream>>>,
    slots: Arc<Semaphore>,
}

impl Pool {
    fn new(addr: SocketAddr, connections: usize) -> Self {
        Pool {
            addr,
            idle: Default::default(),
            slots: Arc::new(Semaphore::new(connections.max(1))),
        }
    }

    async fn prefill(&self, connections: usize) {
        for _ in 0..connections {
            if let Ok(stream) = connect(self.addr).await {
                self.idle.lock().unwrap().push(stream);
            }
        }
    }

    /// One request and its answer, on an idle connection or a new one. A reused connection
    /// that the server closed before answering (an idle keep-alive one past its deadline) is
    /// retried once on a new connection, as HTTP clients do.
    async fn exchange(&self, request: &[u8]) -> Result<Answer, String> {
        let _slot = self.slots.acquire().await.unwrap();
        let reused = self.idle.lock().unwrap().pop();
        let attempt = |stream: Option<TcpStream>| async move {
            let mut stream = match stream {
                Some(stream) => stream,
                None => connect(self.addr).await?,
            };
            let answer = tokio::time::timeout(EXCHANGE_LIMIT, roundtrip(&mut stream, request))
                .await
                .map_err(|_| Failure::Broken("no answer in 30 s".into()))??;
            if answer.1 {
                self.idle.lock().unwrap().push(stream);
            }
            Ok::<Answer, Failure>(answer.0)
        };
        let was_reused = reused.is_some();
        match attempt(reused).await {
            Err(Failure::Unanswered(_)) if was_reused => attempt(None).await,
            other => other,
        }
        .map_err(|failure| match failure {
            Failure::Unanswered(e) | Failure::Broken(e) => e,
        })
    }
}

enum Failure {
    /// Nothing of an answer arrived.
    Unanswered(String),
    Broken(String),
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, Failure> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| Failure::Broken(format!("connect: {e}")))?;
    stream.set_nodelay(true).ok();
    Ok(stream)
}

/// Sends `request` and reads the answer; also says whether the connection may be reused.
async fn roundtrip(stream: &mut TcpStream, request: &[u8]) -> Result<(Answer, bool), Failure> {
    if let Err(e) = stream.write_all(request).await {
        return Err(Failure::Unanswered(format!("write: {e}")));
    }
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let before = buf.len();
        match read_more(stream, &mut buf).await {
            Ok(0) if before == 0 => {
                return Err(Failure::Unanswered("closed before answering".into()))
            }
            Ok(0) => return Err(Failure::Broken("closed in the middle of a head".into())),
            Ok(_) => {}
            Err(e) if before == 0 => return Err(Failure::Unanswered(format!("read: {e}"))),
            Err(e) => return Err(Failure::Broken(format!("read: {e}"))),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.strip_prefix("http/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Failure::Broken(format!("not an HTTP/1.1 answer: {head:?}")))?;
    let header = |name: &str| {
        head.split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim() == name)
            .map(|(_, value)| value.trim().to_string())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Failure::Broken(format!("no content-length: {head:?}")))?;
    while buf.len() < head_end + length {
        match read_more(stream, &mut buf).await {
            Ok(0) => return Err(Failure::Broken("closed in the middle of a body".into())),
            Ok(_) => {}
            Err(e) => return Err(Failure::Broken(format!("read: {e}"))),
        }
    }
    let keep = header("connection").as_deref() != Some("close");
    let answer = Answer {
        status,
        retry_after: header("retry-after").is_some(),
        body: buf[head_end..head_end + length].to_vec(),
    };
    Ok((answer, keep))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`); `None` off Linux.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS; false where that is refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Samples `VmRSS` every 10 ms on a thread until stopped; gives the largest sample in KiB.
pub struct RssWatch {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssWatch {
    pub fn start() -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(proc_status_kib("VmRSS").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        RssWatch { stop, thread }
    }

    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}
