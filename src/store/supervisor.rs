//! Keeps the store connected: migrates once the database answers, pings it while up, and flips
//! readiness both ways. It never substitutes anything for the database.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::Store;

/// Spawns the supervisor. `on_ready` runs after every successful (re)connection + migration —
/// it must be idempotent (e.g. "make sure an admin key exists").
pub fn spawn_supervisor<F, Fut>(store: Store, interval: Duration, mut on_ready: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut logged_down = false;
        loop {
            if store.is_ready() {
                if let Err(e) = store.ping().await {
                    tracing::error!(error = %e, "database unreachable: refusing requests until it is back");
                    store.mark_unavailable();
                    logged_down = true;
                }
            } else {
                match store.migrate().await {
                    Ok(()) => {
                        store.set_ready();
                        if logged_down {
                            tracing::info!("database reachable again");
                        }
                        logged_down = false;
                        on_ready().await;
                    }
                    Err(e) => {
                        if !logged_down {
                            tracing::error!(error = %e, backend = store.backend().name(),
                                "database unavailable: serving 503 on the data plane and retrying");
                            logged_down = true;
                        } else {
                            tracing::debug!(error = %e, "database still unavailable");
                        }
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
    })
}
