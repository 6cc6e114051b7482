//! Hot reload of the governance sections (SIGHUP, `systemctl reload`, `POST
//! /admin/config/reload`): the file is read again, validated, its policy loaded; only then is
//! the new generation swapped in. A bad config is rejected and the old one keeps serving. Every
//! attempt is an audit event.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::json;

use super::Governance;
use crate::audit::event::{AuditEvent, EventType};
use crate::audit::AuditWriter;
use crate::config::{self, Config, Overrides};

/// What a reload did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadReport {
    pub reloaded: bool,
    /// Sections that changed but only take effect after a restart.
    pub restart_required: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct Reloader {
    path: Option<PathBuf>,
    overrides: Overrides,
    /// The configuration the daemon started with (for the restart-required comparison).
    started_with: Config,
    current: Arc<ArcSwap<Governance>>,
    audit: AuditWriter,
    lock: tokio::sync::Mutex<()>,
}

impl Reloader {
    pub fn new(
        path: Option<PathBuf>,
        overrides: Overrides,
        started_with: Config,
        current: Arc<ArcSwap<Governance>>,
        audit: AuditWriter,
    ) -> Reloader {
        Reloader {
            path,
            overrides,
            started_with,
            current,
            audit,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Reloads; `actor` is who asked (`SIGHUP` or an admin key id), for the audit event.
    pub async fn reload(&self, actor: &str) -> ReloadReport {
        let _one_at_a_time = self.lock.lock().await;
        let path = self.path.clone();
        let overrides = self.overrides.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let cfg = config::load(path.as_deref(), &overrides).map_err(|e| e.to_string())?;
            let gov = Governance::load(&cfg.governance).map_err(|e| e.to_string())?;
            Ok::<_, String>((cfg, gov))
        })
        .await
        .unwrap_or_else(|e| Err(format!("reload task failed: {e}")));
        let report = match loaded {
            Ok((cfg, gov)) => {
                let restart_required = self.restart_required(&cfg);
                self.current.store(Arc::new(gov));
                tracing::info!(actor, ?restart_required, "configuration reloaded");
                ReloadReport {
                    reloaded: true,
                    restart_required,
                    error: None,
                }
            }
            Err(e) => {
                tracing::error!(actor, error = %e, "configuration reload rejected; the previous configuration keeps serving");
                ReloadReport {
                    reloaded: false,
                    restart_required: Vec::new(),
                    error: Some(e),
                }
            }
        };
        let event_type = if report.reloaded {
            EventType::ConfigReloaded
        } else {
            EventType::ConfigReloadRejected
        };
        let event = AuditEvent::new(event_type).details(json!({
            "actor": actor,
            "file": self.path.as_ref().map(|p| p.display().to_string()),
            "restart_required": report.restart_required,
            "error": report.error,
        }));
        if let Err(e) = self.audit.append(event).await {
            tracing::error!(error = %e, "config reload could not be audited");
        }
        report
    }

    fn restart_required(&self, new: &Config) -> Vec<&'static str> {
        let old = &self.started_with;
        let mut out = Vec::new();
        if old.server != new.server {
            out.push("server");
        }
        if old.storage != new.storage
            || format!("{:?}", old.database) != format!("{:?}", new.database)
        {
            out.push("database");
        }
        if format!("{:?}", old.providers) != format!("{:?}", new.providers)
            || old.models != new.models
        {
            out.push("providers");
        }
        if old.governance.redis != new.governance.redis {
            out.push("redis");
        }
        if old.log != new.log {
            out.push("log");
        }
        if old.sandbox != new.sandbox {
            out.push("sandbox");
        }
        out
    }
}
