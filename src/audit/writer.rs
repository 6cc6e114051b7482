//! Group commit: events from concurrent requests are gathered into one transaction.
//!
//! Each request hands its event to the writer task and waits for the commit. While one batch is
//! being committed the next one fills up, so the fsync cost is shared by every request that
//! arrived meanwhile — throughput grows with concurrency instead of collapsing on the database
//! lock. Ordering inside a batch is arrival order; across daemons the database's chain lock
//! serializes batches.

use tokio::sync::{mpsc, oneshot};

use super::chain::Linked;
use super::event::AuditEvent;
use crate::store::{Store, StoreError};

type Reply = oneshot::Sender<Result<Linked, AppendError>>;

/// Why an event could not be recorded. The caller must then refuse to answer 2xx.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    #[error("audit trail unavailable: {0}")]
    Unavailable(String),
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<(AuditEvent, Reply)>,
}

impl AuditWriter {
    /// Starts the writer task on the current runtime.
    pub fn spawn(store: Store, batch_max: usize) -> AuditWriter {
        let (tx, rx) = mpsc::channel(batch_max.max(1) * 4);
        tokio::spawn(run(store, rx, batch_max.max(1)));
        AuditWriter { tx }
    }

    /// Records `event` durably; returns its link once committed.
    pub async fn append(&self, event: AuditEvent) -> Result<Linked, AppendError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((event, reply))
            .await
            .map_err(|_| AppendError::Unavailable("audit writer stopped".into()))?;
        wait.await
            .map_err(|_| AppendError::Unavailable("audit writer stopped".into()))?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<(AuditEvent, Reply)>, batch_max: usize) {
    let mut batch: Vec<(AuditEvent, Reply)> = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut batch, batch_max).await > 0 {
        let events: Vec<AuditEvent> = batch.iter().map(|(e, _)| e.clone()).collect();
        let result = if store.is_ready() {
            store.append_audit(&events).await
        } else {
            Err(StoreError::Unavailable(sqlx::Error::PoolClosed))
        };
        match result {
            Ok(linked) => {
                tracing::trace!(events = linked.len(), "audit batch committed");
                for ((_, reply), link) in batch.drain(..).zip(linked) {
                    let _ = reply.send(Ok(link));
                }
            }
            Err(e) => {
                if matches!(e, StoreError::Unavailable(_)) {
                    store.mark_unavailable();
                }
                tracing::error!(error = %e, events = batch.len(), "audit append failed; refusing the requests");
                let msg = e.to_string();
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(AppendError::Unavailable(msg.clone())));
                }
            }
        }
    }
}
