//! Where checkpoints live: the signing key, the checkpoint file, and the task that writes one
//! every `[audit] checkpoint_secs` (when the head moved) and on shutdown.
//!
//! - The key: the systemd credential `audit-signing-key` (64 hex digits, an Ed25519 seed),
//!   else `<state_dir>/audit-signing.key`, generated 0600 on first start. The public key is
//!   written to `<state_dir>/audit-signing.pub` for `tappass audit verify`; keep a copy of it
//!   (and of the journal) where the database's writers cannot reach.
//! - The checkpoints: one JSON line each in `<state_dir>/audit-checkpoints.jsonl` (appended,
//!   fsynced) and one journal entry each (`CHECKPOINT_SEQ=`, `CHECKPOINT_HASH=`, `SIGNATURE=`).

use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use secrecy::ExposeSecret;

use super::checkpoint::{Checkpoint, Signer};
use crate::store::Store;

pub const KEY_CREDENTIAL: &str = "audit-signing-key";
pub const KEY_FILE: &str = "audit-signing.key";
pub const PUBLIC_KEY_FILE: &str = "audit-signing.pub";
pub const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";

/// Where the signing key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Credential,
    StateFile,
}

fn seed_from_hex(text: &str, what: &str) -> Result<Signer, String> {
    let seed = hex::decode(text.trim()).map_err(|_| format!("{what}: not hex"))?;
    Signer::from_seed(&seed).map_err(|e| format!("{what}: {e}"))
}

/// The signer: from the credential, else the state file (created when missing). Writes the
/// public key file.
pub fn load_signer(state_dir: &Path) -> Result<(Signer, KeySource), String> {
    let (signer, source) = match crate::secrets::credential(KEY_CREDENTIAL) {
        Some(k) => (
            seed_from_hex(k.expose_secret(), "credential audit-signing-key")?,
            KeySource::Credential,
        ),
        None => {
            let path = state_dir.join(KEY_FILE);
            if !path.exists() {
                let mut seed = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut seed);
                crate::identity::bootstrap::write_key_file(&path, &hex::encode(seed))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            (
                seed_from_hex(&text, &path.display().to_string())?,
                KeySource::StateFile,
            )
        }
    };
    let public = state_dir.join(PUBLIC_KEY_FILE);
    std::fs::write(&public, format!("{}\n", signer.public_hex()))
        .map_err(|e| format!("{}: {e}", public.display()))?;
    Ok((signer, source))
}

/// Appends `cp` to the checkpoint file, durably.
pub fn append(path: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let line = serde_json::to_string(cp).map_err(std::io::Error::other)?;
    f.write_all(line.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_data()
}

/// The newest checkpoint in the file (its last line); `Ok(None)` when there is none.
pub fn newest(path: &Path) -> Result<Option<Checkpoint>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut last = None;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if !line.trim().is_empty() {
            last = Some(line);
        }
    }
    last.map(|l| {
        serde_json::from_str(&l)
            .map_err(|e| format!("{}: the last line is not a checkpoint: {e}", path.display()))
    })
    .transpose()
}

/// Signs the current head into the file and the journal, unless it is `last_seq` already.
/// Returns the head seq checkpointed.
async fn checkpoint_once(
    store: &Store,
    signer: &Signer,
    path: &Path,
    last_seq: u64,
) -> Result<u64, String> {
    let Some(head) = store.audit_head().await.map_err(|e| e.to_string())? else {
        return Ok(last_seq);
    };
    if head.seq == last_seq {
        return Ok(last_seq);
    }
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let cp = signer.sign(head.seq, &head.hash, &ts);
    append(path, &cp).map_err(|e| format!("{}: {e}", path.display()))?;
    tracing::info!(
        checkpoint_seq = cp.seq,
        checkpoint_hash = %cp.hash,
        signature = %cp.signature,
        public_key = %cp.public_key,
        "audit checkpoint"
    );
    Ok(head.seq)
}

/// The periodic checkpoint writer. `finish` writes the shutdown checkpoint.
pub struct Checkpointer {
    store: Store,
    signer: Arc<Signer>,
    path: PathBuf,
    last: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    pub fn spawn(store: Store, signer: Signer, state_dir: &Path, every: Duration) -> Checkpointer {
        let signer = Arc::new(signer);
        let path = state_dir.join(CHECKPOINT_FILE);
        let last = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let task = {
            let (store, signer, path, last) =
                (store.clone(), signer.clone(), path.clone(), last.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if !store.is_ready() {
                        continue;
                    }
                    let prev = last.load(std::sync::atomic::Ordering::Relaxed);
                    match checkpoint_once(&store, &signer, &path, prev).await {
                        Ok(seq) => last.store(seq, std::sync::atomic::Ordering::Relaxed),
                        Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
                    }
                }
            })
        };
        Checkpointer {
            store,
            signer,
            path,
            last,
            task,
        }
    }

    /// Stops the periodic task and writes the final checkpoint.
    pub async fn finish(self) {
        self.task.abort();
        if !self.store.is_ready() {
            return;
        }
        let prev = self.last.load(std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = checkpoint_once(&self.store, &self.signer, &self.path, prev).await {
            tracing::error!(error = %e, "final audit checkpoint failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_checkpoint_is_the_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        assert_eq!(newest(&path).unwrap(), None);
        let s = Signer::from_seed(&[3u8; 32]).unwrap();
        append(&path, &s.sign(1, "a", "t1")).unwrap();
        append(&path, &s.sign(5, "b", "t2")).unwrap();
        assert_eq!(newest(&path).unwrap().unwrap().seq, 5);
        std::fs::write(&path, "garbage\n").unwrap();
        assert!(newest(&path).is_err());
    }

    #[test]
    fn the_state_file_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, source) = load_signer(dir.path()).unwrap();
        assert_eq!(source, KeySource::StateFile);
        let (b, _) = load_signer(dir.path()).unwrap();
        assert_eq!(a.public_hex(), b.public_hex());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let public = std::fs::read_to_string(dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(public.trim(), a.public_hex());
    }
}
