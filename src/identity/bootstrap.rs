//! The first admin key (product.md, "First admin key").
//!
//! If no admin key is configured (credential `admin-api-key` or `TAPPASS_ADMIN_API_KEY`) and
//! the database has no active admin key, one is generated, only its hash is stored, and the key
//! is written 0600 to `<state_dir>/admin.key`. It is printed only when stderr is a terminal;
//! otherwise the log says where the file is. The key itself never reaches a log.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::json;

use super::keys::{self, KeyFamily};
use super::Role;
use crate::audit::event::{AuditEvent, EventType};
use crate::store::{NewKey, Store, StoreError};

pub const ADMIN_KEY_FILE: &str = "admin.key";

/// Makes sure an admin can log in; idempotent. Returns the file written, if any.
pub async fn ensure_admin_key(
    store: &Store,
    state_dir: &Path,
) -> Result<Option<PathBuf>, StoreError> {
    if store.active_admin_key_exists().await? {
        return Ok(None);
    }
    let generated = keys::generate(KeyFamily::Admin);
    let key = NewKey {
        key_id: generated.key_id.clone(),
        agent_id: None,
        role: Role::Admin,
        key_hash: generated.hash.clone(),
    };
    let path = state_dir.join(ADMIN_KEY_FILE);
    // The key is on disk (synced, not yet under its name) before its hash is stored: a stored
    // hash whose key nobody can read would lock admins out.
    let tmp = state_dir.join(format!("{ADMIN_KEY_FILE}.tmp"));
    if let Err(e) = write_key_file(&tmp, generated.token.expose_secret()) {
        tracing::error!(path = %tmp.display(), error = %e, "cannot write the first admin key; not creating one");
        return Ok(None);
    }
    let event = AuditEvent::new(EventType::AdminKeyGenerated)
        .details(json!({"key_id": key.key_id, "file": path.display().to_string()}));
    let stored = store.add_first_admin_key(&key, &event).await;
    if !matches!(stored, Ok(true)) {
        let _ = std::fs::remove_file(&tmp);
        return stored.map(|_| None); // another daemon was first, or an error
    }
    if let Err(e) = std::fs::rename(&tmp, &path) {
        tracing::error!(path = %tmp.display(), error = %e, "first admin key stored but not renamed; it is in this file");
        return Ok(Some(tmp));
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "\nFirst admin key (shown once; also in {}):\n  {}\n",
            path.display(),
            generated.token.expose_secret()
        );
    }
    tracing::warn!(
        path = %path.display(),
        key_id = %key.key_id,
        "generated the first admin key: read it as root, then delete the file"
    );
    Ok(Some(path))
}

/// Creates `path` 0600 with the secret and a newline, synced to disk (replacing any file there).
/// Also writes the audit signing key (`audit/checkpoint_file.rs`).
pub fn write_key_file(path: &Path, token: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}
