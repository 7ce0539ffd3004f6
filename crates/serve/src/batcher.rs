//! Dynamic batching: requests for one model wait in a bounded queue; an inference thread takes
//! what is waiting (up to `max_batch` inputs), runs them as one batch and answers each. It
//! waits up to `max_wait` for more only while other requests are on their way (announced with
//! a [`Ticket`] and still decoding), so a lone client pays no batching delay. A full queue is
//! refused at once, not queued without bound.
//!
//! With the tract engine a batch runs image by image (see `Recognizer`: batching measured no
//! faster there), so grouping here saves thread hand-offs and keeps one queue per model; an
//! engine that gains from batching plugs in at `Recognizer::logits` without changing this.

use inkstone_model::recognizer::Recognizer;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// Most inputs run together.
    pub max_batch: usize,
    /// How long the first request of a batch waits for company.
    pub max_wait: Duration,
    /// Requests that may wait for a model before more are refused.
    pub queue: usize,
    /// Inference threads per model: each takes a batch from the queue and runs it.
    pub threads: usize,
    /// Threads one network run spreads its matrix products over (or a bundle's test-time views
    /// run side by side on), per inference thread; `None`: the cores shared out among the
    /// inference threads, for views or a network large enough to gain from them
    /// ([`inkstone_model::recognizer::threads_worth`]), else one.
    pub op_threads: Option<usize>,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_batch: 32,
            max_wait: Duration::from_millis(2),
            queue: 1024,
            threads: 1,
            op_threads: None,
        }
    }
}

/// What one request gets back.
pub struct Inference {
    /// `n · classes` logits, row-major.
    pub logits: Vec<f32>,
    /// Inputs in the batch this request ran in (its own included).
    pub batch_size: usize,
    pub queued: Duration,
    pub computed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("the model's queue is full")]
    QueueFull,
    #[error("the model was unloaded")]
    Unloaded,
    #[error("{0}")]
    Failed(String),
}

struct Job {
    inputs: Vec<f32>,
    n: usize,
    enqueued: Instant,
    reply: oneshot::Sender<Result<Inference, BatchError>>,
}

/// The sending side of a model's queue. Dropping the last clone ends its threads once they
/// have answered what was queued.
#[derive(Clone)]
pub struct Batcher {
    queue: SyncSender<Job>,
    /// Requests that hold a ticket but have not queued their input yet.
    incoming: Arc<AtomicUsize>,
}

/// A request's announcement that it will queue an input soon; see [`Batcher::ticket`].
pub struct Ticket {
    batcher: Batcher,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.batcher.incoming.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Ticket {
    /// Queues `n` inputs laid end to end and waits for their logits.
    pub async fn infer(self, inputs: Vec<f32>, n: usize) -> Result<Inference, BatchError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            inputs,
            n,
            enqueued: Instant::now(),
            reply,
        };
        let sent = self.batcher.queue.try_send(job);
        // Queued (or refused): no longer on its way. Dropped after the send, so the batch
        // thread sees the job as queued or incoming, never neither.
        drop(self);
        sent.map_err(|e| match e {
            TrySendError::Full(_) => BatchError::QueueFull,
            TrySendError::Disconnected(_) => BatchError::Unloaded,
        })?;
        answer.await.map_err(|_| BatchError::Unloaded)?
    }
}

impl Batcher {
    pub fn start(recognizer: Arc<Recognizer>, config: &BatchConfig, label: &str) -> Self {
        let (queue, jobs) = mpsc::sync_channel(config.queue.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        let incoming = Arc::new(AtomicUsize::new(0));
        for i in 0..config.threads.max(1) {
            let (recognizer, jobs, config) = (recognizer.clone(), jobs.clone(), config.clone());
            let incoming = incoming.clone();
            std::thread::Builder::new()
                .name(format!("infer {label} #{i}"))
                .spawn(move || run_batches(&recognizer, &jobs, &incoming, &config))
                .expect("spawn an inference thread");
        }
        Batcher { queue, incoming }
    }

    /// Announces a request that will queue its input once it is decoded.
    pub fn ticket(&self) -> Ticket {
        self.incoming.fetch_add(1, Ordering::SeqCst);
        Ticket {
            batcher: self.clone(),
        }
    }
}

fn run_batches(
    recognizer: &Recognizer,
    jobs: &Mutex<Receiver<Job>>,
    incoming: &AtomicUsize,
    config: &BatchConfig,
) {
    while let Some(batch) = next_batch(jobs, incoming, config) {
        let n: usize = batch.iter().map(|j| j.n).sum();
        let started = Instant::now();
        let mut inputs = Vec::with_capacity(n * recognizer.input_len());
        for job in &batch {
            inputs.extend_from_slice(&job.inputs);
        }
        let result = recognizer.logits(inputs, n);
        let computed = started.elapsed();
        match result {
            Ok(logits) => {
                let classes = logits.len() / n;
                let mut rows = logits.chunks(classes);
                for job in batch {
                    let mine: Vec<f32> = rows.by_ref().take(job.n).flatten().copied().collect();
                    let _ = job.reply.send(Ok(Inference {
                        logits: mine,
                        batch_size: n,
                        queued: started - job.enqueued,
                        computed,
                    }));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(BatchError::Failed(message.clone())));
                }
            }
        }
    }
}

/// Blocks for the first job, then takes what is queued, waiting (until `max_wait` after the
/// first job) only while more requests are on their way. `None` once the queue is closed.
fn next_batch(
    jobs: &Mutex<Receiver<Job>>,
    incoming: &AtomicUsize,
    config: &BatchConfig,
) -> Option<Vec<Job>> {
    let jobs = jobs.lock().expect("queue lock");
    let first = jobs.recv().ok()?;
    let deadline = first.enqueued + config.max_wait;
    let mut n = first.n;
    let mut batch = vec![first];
    while n < config.max_batch {
        let mut wait = deadline.saturating_duration_since(Instant::now());
        if incoming.load(Ordering::SeqCst) == 0 {
            wait = Duration::ZERO;
        }
        let next = if wait.is_zero() {
            jobs.try_recv().map_err(|_| RecvTimeoutError::Timeout)
        } else {
            jobs.recv_timeout(wait)
        };
        match next {
            Ok(job) => {
                n += job.n;
                batch.push(job);
            }
            Err(_) => break,
        }
    }
    Some(batch)
}
