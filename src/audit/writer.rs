//! Group commit, and the spool that keeps the promise while the database is away.
//!
//! Each request hands its event to the writer task and waits for it to be durable. While one
//! batch is being committed the next one fills up, so the fsync cost is shared by every request
//! that arrived meanwhile — throughput grows with concurrency instead of collapsing on the
//! database lock. Ordering inside a batch is arrival order; across daemons the database's chain
//! lock serializes batches.
//!
//! When the database cannot take a batch (unreachable, or its commit was cut off), the writer
//! switches to the local spool (`spool.rs`): the batch and every one after it are fsync'd there
//! before their requests are answered. Once the database is back the writer replays the spool
//! into it, oldest first, chunk by chunk between incoming batches — which keep going to the
//! spool until it is drained, so the chain holds the events in the order they were accepted —
//! and then commits to the database directly again. With the spool disabled (`[audit] spool =
//! false`) or failing (disk full), the batch is refused and its requests get 503.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::event::AuditEvent;
use super::spool::Spool;
use crate::store::{Store, StoreError};

type Reply = oneshot::Sender<Result<Receipt, AppendError>>;

/// How long a spooling writer waits for the database between replay attempts when no event
/// arrives.
const REPLAY_POLL: Duration = Duration::from_millis(250);

/// Why an event could not be recorded. The caller must then refuse to answer 2xx.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    #[error("audit trail unavailable: {0}")]
    Unavailable(String),
}

/// Where a recorded event is durable when `append` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// Committed in the database at this chain position.
    Database { seq: u64 },
    /// Fsync'd in the local spool; it gets its chain position when replayed.
    Spool,
}

/// What `append` hands back: the event's id and where it is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub audit_id: String,
    pub durable: Durable,
}

impl Receipt {
    /// The chain position, when already known.
    pub fn seq(&self) -> Option<u64> {
        match self.durable {
            Durable::Database { seq } => Some(seq),
            Durable::Spool => None,
        }
    }
}

/// The spool's state, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpoolState {
    /// No spool (`[audit] spool = false`): a database outage refuses requests.
    Off,
    /// Events go to the database; nothing waits.
    Idle,
    /// Events go to the spool and wait there for the database.
    Spooling,
}

/// The spool's counters since start, for admins (`/health` details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SpoolCounters {
    /// Bytes waiting for replay.
    pub bytes_waiting: u64,
    /// Events written to the spool.
    pub spooled_total: u64,
    /// Spooled events appended to the database (skipped duplicates not counted).
    pub replayed_total: u64,
    /// Spooled lines that could not be read back.
    pub damaged_total: u64,
}

/// The spool as the writer task leaves it for others to read.
#[derive(Debug, Default)]
struct SpoolGauge {
    enabled: AtomicBool,
    spooling: AtomicBool,
    bytes: AtomicU64,
    spooled_total: AtomicU64,
    replayed_total: AtomicU64,
    damaged_total: AtomicU64,
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<(AuditEvent, Reply)>,
    gauge: Arc<SpoolGauge>,
    store: Store,
}

impl AuditWriter {
    /// Starts the writer task on the current runtime, without a spool: while the database is
    /// unavailable every append fails.
    pub fn spawn(store: Store, batch_max: usize) -> AuditWriter {
        Self::spawn_with(store, batch_max, None)
    }

    /// Starts the writer task; `spool` takes the batches the database cannot.
    pub fn spawn_with(store: Store, batch_max: usize, spool: Option<Spool>) -> AuditWriter {
        let batch_max = batch_max.max(1);
        let (tx, rx) = mpsc::channel(batch_max * 4);
        let gauge = Arc::new(SpoolGauge::default());
        if let Some(s) = &spool {
            gauge.enabled.store(true, Ordering::Relaxed);
            gauge.bytes.store(s.bytes(), Ordering::Relaxed);
        }
        let task = Task {
            store: store.clone(),
            spool,
            spooling: false,
            gauge: gauge.clone(),
            batch_max,
            refusing: None,
        };
        tokio::spawn(task.run(rx));
        AuditWriter { tx, gauge, store }
    }

    /// Records `event` durably (database or spool); returns where once it is.
    pub async fn append(&self, event: AuditEvent) -> Result<Receipt, AppendError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((event, reply))
            .await
            .map_err(|_| AppendError::Unavailable("audit writer stopped".into()))?;
        wait.await
            .map_err(|_| AppendError::Unavailable("audit writer stopped".into()))?
    }

    /// Whether an event can be made durable now: the database is ready, or a spool takes it.
    pub fn accepts(&self) -> bool {
        self.store.is_ready() || self.gauge.enabled.load(Ordering::Relaxed)
    }

    /// Whether a spool takes events while the database is away.
    pub fn spools(&self) -> bool {
        self.gauge.enabled.load(Ordering::Relaxed)
    }

    pub fn spool_state(&self) -> SpoolState {
        match (self.spools(), self.gauge.spooling.load(Ordering::Relaxed)) {
            (false, _) => SpoolState::Off,
            (true, false) => SpoolState::Idle,
            (true, true) => SpoolState::Spooling,
        }
    }

    pub fn spool_counters(&self) -> SpoolCounters {
        let g = &self.gauge;
        SpoolCounters {
            bytes_waiting: g.bytes.load(Ordering::Relaxed),
            spooled_total: g.spooled_total.load(Ordering::Relaxed),
            replayed_total: g.replayed_total.load(Ordering::Relaxed),
            damaged_total: g.damaged_total.load(Ordering::Relaxed),
        }
    }
}

struct Task {
    store: Store,
    spool: Option<Spool>,
    /// Batches go to the spool (set on a database failure, or with segments to replay).
    spooling: bool,
    gauge: Arc<SpoolGauge>,
    batch_max: usize,
    /// Set while appends fail: a failure that lasts (a full disk, an outage without a spool)
    /// is logged when it starts and when it ends, not once per refused batch, so the journal
    /// keeps the cause instead of thousands of copies of it.
    refusing: Option<Refusing>,
}

/// An episode of refused appends.
struct Refusing {
    since: Instant,
    events: u64,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<(AuditEvent, Reply)>) {
        // Segments a previous run left must reach the database before anything newer.
        self.set_spooling(self.spool.as_ref().is_some_and(|s| !s.is_empty()));
        let mut batch: Vec<(AuditEvent, Reply)> = Vec::with_capacity(self.batch_max);
        loop {
            let replay_now = self.spooling && self.store.is_ready();
            let wait = if replay_now {
                Duration::ZERO
            } else {
                REPLAY_POLL
            };
            tokio::select! {
                biased;
                n = rx.recv_many(&mut batch, self.batch_max) => {
                    if n == 0 {
                        break;
                    }
                    self.record(&mut batch).await;
                }
                _ = tokio::time::sleep(wait), if self.spooling => {}
            }
            if self.spooling && self.store.is_ready() {
                self.replay_chunk().await;
            }
        }
    }

    fn set_spooling(&mut self, on: bool) {
        self.spooling = on;
        self.gauge.spooling.store(on, Ordering::Relaxed);
    }

    async fn record(&mut self, batch: &mut Vec<(AuditEvent, Reply)>) {
        let events: Vec<AuditEvent> = batch.iter().map(|(e, _)| e.clone()).collect();
        if !self.spooling {
            let result = if self.store.is_ready() {
                self.store.append_audit(&events).await
            } else {
                Err(StoreError::Unavailable(sqlx::Error::PoolClosed))
            };
            match result {
                Ok(linked) => {
                    tracing::trace!(events = linked.len(), "audit batch committed");
                    self.accepted();
                    for ((_, reply), link) in batch.drain(..).zip(linked) {
                        let _ = reply.send(Ok(Receipt {
                            audit_id: link.audit_id,
                            durable: Durable::Database { seq: link.seq },
                        }));
                    }
                    return;
                }
                Err(StoreError::Unavailable(e)) => {
                    self.store.mark_unavailable();
                    if self.spool.is_none() {
                        return self.refuse(batch, &format!("storage unavailable: {e}"));
                    }
                    // The commit may or may not have happened: the replay's check by audit_id
                    // makes either case land exactly once.
                    tracing::error!(error = %e, events = events.len(),
                        "audit: database unavailable; spooling events locally until it is back");
                    self.set_spooling(true);
                }
                Err(e) => return self.refuse(batch, &e.to_string()),
            }
        }
        self.spool_batch(batch, events).await;
    }

    async fn spool_batch(&mut self, batch: &mut Vec<(AuditEvent, Reply)>, events: Vec<AuditEvent>) {
        let Some(mut spool) = self.spool.take() else {
            return self.refuse(batch, "storage unavailable and no spool configured");
        };
        let n = events.len() as u64;
        let (spool, result) = tokio::task::spawn_blocking(move || {
            let r = spool.append(&events);
            (spool, r)
        })
        .await
        .expect("spool append task");
        self.gauge.bytes.store(spool.bytes(), Ordering::Relaxed);
        self.spool = Some(spool);
        match result {
            Ok(()) => {
                self.accepted();
                self.gauge.spooled_total.fetch_add(n, Ordering::Relaxed);
                for (event, reply) in batch.drain(..) {
                    let _ = reply.send(Ok(Receipt {
                        audit_id: event.audit_id,
                        durable: Durable::Spool,
                    }));
                }
            }
            Err(e) => self.refuse(
                batch,
                &format!("database unavailable and the spool cannot take the batch: {e}"),
            ),
        }
    }

    /// Moves one chunk of the spool into the database; leaves spooling once it is drained.
    async fn replay_chunk(&mut self) {
        let Some(mut spool) = self.spool.take() else {
            self.set_spooling(false);
            return;
        };
        let max = self.batch_max;
        let (returned, read) = tokio::task::spawn_blocking(move || {
            let r = spool.read(max);
            (spool, r)
        })
        .await
        .expect("spool read task");
        spool = returned;
        let outcome = match read {
            Err(e) => Err(format!("cannot read the spool: {e}")),
            Ok(chunk) if chunk.is_empty() => match spool.retire_if_drained() {
                Ok(true) => {
                    tracing::info!(
                        "audit: spool drained; committing to the database directly again"
                    );
                    self.set_spooling(false);
                    Ok(())
                }
                Ok(false) if spool.is_empty() => {
                    self.set_spooling(false);
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(format!("cannot remove a replayed segment: {e}")),
            },
            Ok(chunk) => match self.store.replay_audit(&chunk.events).await {
                Ok(appended) => {
                    self.gauge
                        .replayed_total
                        .fetch_add(appended as u64, Ordering::Relaxed);
                    self.gauge
                        .damaged_total
                        .fetch_add(chunk.damaged as u64, Ordering::Relaxed);
                    tracing::debug!(
                        read = chunk.events.len(),
                        appended,
                        "audit: spooled events replayed"
                    );
                    spool
                        .consumed(&chunk)
                        .map_err(|e| format!("cannot remove a replayed segment: {e}"))
                }
                Err(e) => {
                    if matches!(e, StoreError::Unavailable(_)) {
                        self.store.mark_unavailable();
                    }
                    Err(format!("replay into the database failed: {e}"))
                }
            },
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "audit: spool replay paused; retrying");
            tokio::time::sleep(REPLAY_POLL).await;
        }
        self.gauge.bytes.store(spool.bytes(), Ordering::Relaxed);
        self.spool = Some(spool);
    }

    /// Refuses every request of `batch` (each gets a 503). Logged at ERROR when an episode of
    /// failures starts; later batches of the same episode only at DEBUG.
    fn refuse(&mut self, batch: &mut Vec<(AuditEvent, Reply)>, msg: &str) {
        let events = batch.len() as u64;
        match &mut self.refusing {
            None => {
                tracing::error!(error = %msg, events,
                    "audit append failed; refusing requests until it works again (logged again when it does)");
                self.refusing = Some(Refusing {
                    since: Instant::now(),
                    events,
                });
            }
            Some(r) => {
                tracing::debug!(error = %msg, events, "audit append failed; refusing the requests");
                r.events += events;
            }
        }
        for (_, reply) in batch.drain(..) {
            let _ = reply.send(Err(AppendError::Unavailable(msg.to_string())));
        }
    }

    /// A batch was made durable: ends an episode of refusals, if one was going on.
    fn accepted(&mut self) {
        if let Some(r) = self.refusing.take() {
            tracing::warn!(
                refused_events = r.events,
                secs = r.since.elapsed().as_secs(),
                "audit appends work again; requests are answered"
            );
        }
    }
}
