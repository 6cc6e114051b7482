//! Backups: `tappass backup`, `tappass backup test-restore`, `tappass restore`.
//!
//! A backup is the database's rows read in one snapshot ([`crate::store::Store::dump`]), written
//! as SQL ([`format`]), gzip-compressed, fsync'd and renamed into place, with its
//! [`manifest::Manifest`] (chain head, row counts, SHA-256) written last. A restore checks the
//! manifest, replaces every row in one transaction (nothing changes on any error), then
//! recomputes the chain. The same file restores into SQLite or PostgreSQL.

pub mod format;
pub mod manifest;

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::verify::{verify_store, Report};
use crate::store::{Backend, DumpSink, Snapshot, Store, StoreError, StoreOptions};
use format::{Reader, Table, Value, Writer};
use manifest::{Manifest, Rows};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("no complete backup in {0} (a backup is complete once its manifest is written)")]
    NoBackup(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

fn invalid(file: &Path, message: impl Into<String>) -> BackupError {
    BackupError::Invalid {
        file: file.display().to_string(),
        message: message.into(),
    }
}

/// Counts bytes and hashes them on their way to the file.
struct Hashing<W: Write> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type Encoder = GzEncoder<Hashing<BufWriter<File>>>;

/// Writes the snapshot's rows into the backup file and reports progress.
struct FileSink<'a> {
    writer: Option<Writer<Encoder>>,
    encoder: Option<Encoder>,
    progress: &'a mut dyn FnMut(u64, u64),
    rows: Rows,
    total: u64,
}

impl DumpSink for FileSink<'_> {
    fn start(&mut self, snapshot: &Snapshot) -> io::Result<()> {
        let enc = self.encoder.take().expect("started once");
        self.writer = Some(Writer::start(enc, snapshot.schema_version)?);
        self.total = snapshot.rows.total();
        (self.progress)(0, self.total);
        Ok(())
    }

    fn row(&mut self, table: Table, values: &[Value]) -> io::Result<()> {
        self.writer.as_mut().expect("started").row(table, values)?;
        *self.rows.get_mut(table) += 1;
        let done = self.rows.total();
        if done.is_multiple_of(256) || done == self.total {
            (self.progress)(done, self.total);
        }
        Ok(())
    }
}

/// Creates the backup directory (0700) if it does not exist. Created by root (`sudo tappass
/// backup`, `tappass upgrade`) inside the daemon's state directory, it becomes the daemon's, so
/// `tappass-backup.service` can write there afterwards.
pub fn ensure_dir(dir: &Path) -> Result<(), BackupError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(format!("creating {}", dir.display())))?;
    match dir.parent() {
        Some(parent) => adopt_owner(dir, parent),
        None => Ok(()),
    }
}

/// Run as root (`sudo tappass backup|restore`) on a directory the daemon's user owns: gives
/// `path` to that owner, so the daemon and `tappass-backup.service` can use what root wrote.
pub fn adopt_owner(path: &Path, like: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let (Ok(owner), Ok(file)) = (std::fs::metadata(like), std::fs::symlink_metadata(path)) else {
        return Ok(());
    };
    if (file.uid(), file.gid()) != (owner.uid(), owner.gid()) {
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).map_err(io_err(
            format!("giving {} to uid {}", path.display(), owner.uid()),
        ))?;
    }
    Ok(())
}

/// [`adopt_owner`] for a SQLite database and the `-wal`/`-shm` files beside it (whatever a
/// command run as root opened or created stays the daemon's).
pub fn adopt_sqlite(db: &Path, like: &Path) -> Result<(), BackupError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        adopt_owner(Path::new(&p), like)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("syncing {}", dir.display())))
}

/// Writes a new backup of `store` into `dir`; returns its path and manifest.
/// `progress(done_rows, total_rows)` is called as rows are written.
pub async fn create(
    store: &Store,
    dir: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(PathBuf, Manifest), BackupError> {
    ensure_dir(dir)?;
    // Names have a resolution of one second: a second backup within the same second (a restore's
    // safety backup right after a manual one) waits for the next.
    let mut now = Utc::now();
    while dir.join(manifest::names(now).0).exists() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        now = Utc::now();
    }
    let (data_name, manifest_name) = manifest::names(now);
    let data = dir.join(&data_name);
    let partial = dir.join(format!(".{data_name}.partial"));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(io_err(format!("creating {}", partial.display())))?;
    let hashing = Hashing {
        inner: BufWriter::new(file),
        sha: Sha256::new(),
        bytes: 0,
    };
    let mut sink = FileSink {
        writer: None,
        encoder: Some(GzEncoder::new(hashing, flate2::Compression::default())),
        progress,
        rows: Rows::default(),
        total: 0,
    };
    let dumped = store.dump(&mut sink).await;
    let snapshot = match dumped {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(match e {
                crate::store::DumpError::Store(s) => BackupError::Store(s),
                crate::store::DumpError::Sink(io) => {
                    io_err(format!("writing {}", partial.display()))(io)
                }
            });
        }
    };
    let mut finish = || -> io::Result<(String, u64)> {
        let writer = sink.writer.take().expect("started");
        let enc = writer.finish(snapshot.head_seq, snapshot.head_hash.as_deref())?;
        let mut hashing = enc.finish()?;
        hashing.flush()?;
        let file = hashing.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((hex::encode(hashing.sha.finalize()), hashing.bytes))
    };
    let (sha256, bytes) = finish().map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        io_err(format!("writing {}", partial.display()))(e)
    })?;
    if sink.rows != snapshot.rows {
        let _ = std::fs::remove_file(&partial);
        return Err(invalid(
            &data,
            format!(
                "the snapshot counted {:?} rows but {:?} were read",
                snapshot.rows, sink.rows
            ),
        ));
    }
    adopt_owner(&partial, dir)?;
    std::fs::rename(&partial, &data).map_err(io_err(format!("renaming to {}", data.display())))?;
    let m = Manifest {
        file: data_name,
        format: manifest::FORMAT_NAME.into(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tappass_version: env!("CARGO_PKG_VERSION").into(),
        backend: store.backend().name().into(),
        schema_version: snapshot.schema_version,
        head_seq: snapshot.head_seq as u64,
        head_hash: snapshot.head_hash.clone(),
        rows: snapshot.rows,
        sha256,
        bytes,
    };
    let mpath = dir.join(manifest_name);
    write_manifest(&mpath, &m)?;
    adopt_owner(&mpath, dir)?;
    sync_dir(dir)?;
    Ok((data, m))
}

fn write_manifest(path: &Path, m: &Manifest) -> Result<(), BackupError> {
    let tmp = path.with_extension("json.partial");
    let body = serde_json::to_vec_pretty(m).expect("a manifest serializes");
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&body)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(io_err(format!("writing {}", path.display())))
}

/// Removes the backups of `dir` older than `days` (never the newest complete one), with their
/// manifests and any leftover partial files; returns what it removed.
pub fn prune(dir: &Path, days: u32, now: DateTime<Utc>) -> Result<Vec<PathBuf>, BackupError> {
    let found = manifest::list(dir).map_err(io_err(format!("reading {}", dir.display())))?;
    let mut removed = Vec::new();
    for f in manifest::expired(&found, now, days) {
        for p in [f.data.clone(), manifest::manifest_path(&f.data)] {
            match std::fs::remove_file(&p) {
                Ok(()) => removed.push(p),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(format!("removing {}", p.display()))(e)),
            }
        }
    }
    Ok(removed)
}

/// The newest complete backup of `dir`.
pub fn newest(dir: &Path) -> Result<PathBuf, BackupError> {
    let found = manifest::list(dir).map_err(io_err(format!("reading {}", dir.display())))?;
    manifest::newest(&found)
        .map(|f| f.data.clone())
        .ok_or_else(|| BackupError::NoBackup(dir.display().to_string()))
}

/// Reads a backup's manifest and checks the file against it (size and SHA-256). `None` when
/// the file has no manifest beside it (a copied file: it is still checked while read).
pub fn check(data: &Path) -> Result<Option<Manifest>, BackupError> {
    let mpath = manifest::manifest_path(data);
    let body = match std::fs::read(&mpath) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(format!("reading {}", mpath.display()))(e)),
    };
    let m: Manifest = serde_json::from_slice(&body)
        .map_err(|e| invalid(&mpath, format!("not a backup manifest: {e}")))?;
    if m.format != manifest::FORMAT_NAME {
        return Err(invalid(&mpath, format!("unknown format {:?}", m.format)));
    }
    let mut f = File::open(data).map_err(io_err(format!("reading {}", data.display())))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(io_err(format!("reading {}", data.display())))?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        bytes += n as u64;
    }
    let got = hex::encode(sha.finalize());
    if bytes != m.bytes || got != m.sha256 {
        return Err(invalid(
            data,
            format!(
                "does not match its manifest ({} bytes, sha256 {got}; the manifest says {} \
                 bytes, sha256 {}): the file is damaged or was changed",
                bytes, m.bytes, m.sha256
            ),
        ));
    }
    Ok(Some(m))
}

/// Counts the compressed bytes read, for progress.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub file: String,
    pub rows: Rows,
    pub head_seq: i64,
    pub head_hash: Option<String>,
    /// The schema the backup was taken at (restored into this build's, which is the same or
    /// newer).
    pub schema_version: i64,
    pub manifest_checked: bool,
    pub chain: Report,
}

/// Replaces every row of `store` with the backup `data` (checked against its manifest first),
/// then verifies the chain. `progress(read_bytes, file_bytes)`.
pub async fn restore(
    store: &Store,
    data: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Restored, BackupError> {
    let manifest = check(data)?;
    if let Some(m) = &manifest {
        if m.schema_version > crate::store::latest_schema_version() {
            return Err(invalid(
                data,
                format!(
                    "taken at schema {}, newer than this tappass knows ({}): restore it with \
                     tappass {} or later",
                    m.schema_version,
                    crate::store::latest_schema_version(),
                    m.tappass_version
                ),
            ));
        }
    }
    let file = File::open(data).map_err(io_err(format!("reading {}", data.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Rc::new(Cell::new(0));
    let counting = Counting {
        inner: file,
        read: read.clone(),
    };
    let mut reader = Reader::new(BufReader::new(GzDecoder::new(counting)));
    let latest = crate::store::latest_schema_version();
    let mut next = || -> Result<_, String> {
        let st = reader.next_statement().map_err(|e| e.to_string())?;
        if let Some((_, schema)) = reader.header {
            if schema > latest {
                return Err(format!(
                    "taken at schema {schema}, newer than this tappass knows ({latest})"
                ));
            }
        }
        Ok(st)
    };
    let mut tick = || progress(read.get(), size);
    let accept = |rows: &Rows, seq: i64, hash: Option<&str>| match &manifest {
        Some(m)
            if m.rows != *rows || m.head_seq != seq as u64 || m.head_hash.as_deref() != hash =>
        {
            Err(format!(
                "the file holds {rows:?} with head {seq}, but its manifest says {:?} with head {}",
                m.rows, m.head_seq
            ))
        }
        _ => Ok(()),
    };
    let (rows, head_seq, head_hash) = store
        .replace_all(&mut next, &mut tick, &accept)
        .await
        .map_err(|e| match e {
            crate::store::LoadError::Store(s) => BackupError::Store(s),
            other => invalid(data, format!("{other} (nothing was changed)")),
        })?;
    let schema_version = reader.header.map_or(0, |h| h.1);
    let chain = verify_store(store).await?;
    Ok(Restored {
        file: data.display().to_string(),
        rows,
        head_seq,
        head_hash,
        schema_version,
        manifest_checked: manifest.is_some(),
        chain,
    })
}

/// Restores `data` into a throwaway database next to production — a temporary SQLite file, or
/// a temporary schema in the PostgreSQL database — checks it against the manifest and verifies
/// the chain, then removes it. Production's tables are never written.
pub async fn test_restore(
    production: &StoreOptions,
    data: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Restored, BackupError> {
    // `restore` checks the file against its manifest; here only that there is one.
    if !manifest::manifest_path(data).is_file() {
        return Err(invalid(
            data,
            "has no manifest beside it: a test restore compares against the manifest",
        ));
    }
    let unique = format!(
        "{}_{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let mut opts = production.clone();
    opts.max_connections = 2;
    match production.backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("tappass-test-restore-{unique}"));
            ensure_dir(&dir)?;
            opts.url = format!("sqlite://{}?mode=rwc", dir.join("restore.db").display());
            let result = restore_into(&opts, data, progress).await;
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
        Backend::Postgres => {
            let schema = format!("tappass_test_restore_{unique}");
            let admin = Store::connect_lazy(production)?;
            admin.create_schema(&schema).await?;
            opts.schema = Some(schema.clone());
            let result = restore_into(&opts, data, progress).await;
            let dropped = admin.drop_schema(&schema).await;
            admin.close().await;
            let restored = result?;
            dropped?;
            Ok(restored)
        }
    }
}

async fn restore_into(
    opts: &StoreOptions,
    data: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Restored, BackupError> {
    let store = Store::open(opts).await?;
    let result = restore(&store, data, progress).await;
    store.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_writer_hashes_what_it_writes() {
        let mut h = Hashing {
            inner: Vec::new(),
            sha: Sha256::new(),
            bytes: 0,
        };
        h.write_all(b"abc").unwrap();
        assert_eq!(h.bytes, 3);
        assert_eq!(
            hex::encode(h.sha.finalize()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
