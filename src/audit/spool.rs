//! The local audit spool: where events go, fsync'd, while the database cannot take them.
//!
//! The spool is a directory (`<state_dir>/spool`, 0700) of segment files named
//! `<unix nanoseconds>-<pid>.spool`, each a sequence of `spool_format` lines. A daemon appends to
//! one segment of its own, which it holds an exclusive `flock` on; every batch is written and
//! `fdatasync`'d before any of its requests is answered, so a spooled event is as durable as a
//! committed one. Segments are replayed oldest first (by name, then read front to back), which
//! is the order their events were accepted in; a segment is deleted once every event in it is in
//! the database. Segments left by a daemon that died are adopted by the next one that can lock
//! them, so a restart during an outage loses nothing. A segment still locked belongs to a live
//! daemon and is left to it.
//!
//! Everything here is blocking file I/O: the writer calls it from `spawn_blocking`.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::event::AuditEvent;
use super::spool_format::{self, Record};

const SUFFIX: &str = "spool";
/// First read of a segment; doubled while a single line does not fit.
const READ_BLOCK: usize = 256 * 1024;

/// One segment file this daemon holds the lock of.
struct Segment {
    path: PathBuf,
    file: Flock<File>,
}

/// A batch of spooled events read for replay, and where the read stopped.
#[derive(Debug)]
pub struct Chunk {
    pub events: Vec<AuditEvent>,
    /// Lines that could not be read back (damaged on disk), already logged.
    pub damaged: usize,
    end: u64,
    /// The segment has nothing after this chunk.
    exhausted: bool,
}

impl Chunk {
    /// True when nothing was read: the spool is drained (see [`Spool::is_empty`]).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.damaged == 0 && !self.exhausted
    }
}

/// The spool directory as this daemon sees it. Owned by the audit writer's task.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// Segments to replay, oldest first; the active one (if any) is last.
    queue: VecDeque<Segment>,
    /// Whether the last queued segment is the one this daemon appends to.
    active: bool,
    /// Replay position in the front segment.
    offset: u64,
    /// Bytes in the queued segments (the cap is checked against it).
    bytes: u64,
}

impl Spool {
    /// Opens (creating, 0700) the spool directory and adopts every segment no live daemon holds.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Spool> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut names: Vec<PathBuf> = fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == SUFFIX))
            .collect();
        names.sort();
        let mut queue = VecDeque::new();
        let mut bytes = 0;
        for path in names {
            let file = OpenOptions::new().read(true).write(true).open(&path)?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(file) => {
                    bytes += file.metadata()?.len();
                    tracing::warn!(segment = %path.display(),
                        "audit spool: adopting events a previous run left; they are replayed into the database in order");
                    queue.push_back(Segment { path, file });
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    tracing::info!(segment = %path.display(), "audit spool: segment held by a running daemon; left to it");
                }
                Err((_, e)) => return Err(io::Error::from(e)),
            }
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            queue,
            active: false,
            offset: 0,
            bytes,
        })
    }

    /// No event waits for replay.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes waiting for replay.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends `events` to this daemon's segment and fsyncs them. On `Ok` they are durable.
    /// On an error nothing of the batch counts: a partial write is cut off again, or — if even
    /// that fails — the segment is retired so its torn end stays its last line.
    pub fn append(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(events.len() * 1024);
        for e in events {
            spool_format::encode(e, &mut buf)?;
        }
        if self.bytes + buf.len() as u64 > self.max_bytes {
            return Err(io::Error::other(format!(
                "spool full: {} bytes waiting, limit [audit] spool_max_mb = {} MiB",
                self.bytes,
                self.max_bytes >> 20
            )));
        }
        if !self.active {
            let segment = self.create_segment()?;
            self.queue.push_back(segment);
            self.active = true;
        }
        let segment = self.queue.back_mut().expect("active segment");
        let before = segment.file.metadata()?.len();
        let written = segment
            .file
            .write_all(&buf)
            .and_then(|()| segment.file.sync_data());
        match written {
            Ok(()) => {
                self.bytes += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                let undone = segment
                    .file
                    .set_len(before)
                    .and_then(|()| segment.file.sync_data());
                if undone.is_err() {
                    // Appending after a torn line would bury it mid-file: start a new segment
                    // next time; this one's torn end is dropped when it is replayed.
                    self.active = false;
                }
                Err(e)
            }
        }
    }

    fn create_segment(&self) -> io::Result<Segment> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = self
            .dir
            .join(format!("{nanos:020}-{}.{SUFFIX}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let file = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| io::Error::from(e))?;
        sync_dir(&self.dir)?;
        Ok(Segment { path, file })
    }

    /// Reads up to `max` events from the front of the spool. Nothing is consumed until
    /// [`Spool::consumed`] is called with the chunk, after its events are in the database.
    pub fn read(&mut self, max: usize) -> io::Result<Chunk> {
        let Some(front) = self.queue.front() else {
            return Ok(Chunk {
                events: Vec::new(),
                damaged: 0,
                end: 0,
                exhausted: false,
            });
        };
        let len = front.file.metadata()?.len();
        let mut block = READ_BLOCK;
        loop {
            let want = (len - self.offset).min(block as u64) as usize;
            let mut buf = vec![0; want];
            front.file.read_exact_at(&mut buf, self.offset)?;
            let (records, used) = spool_format::decode(&buf);
            let at_end = self.offset + want as u64 == len;
            if records.is_empty() && !at_end {
                block *= 2; // one line longer than the block
                continue;
            }
            let mut events = Vec::new();
            let mut damaged = 0;
            let mut end = self.offset;
            let mut lines = records.into_iter();
            // Stop after `max` events, at a line boundary.
            let mut line_ends = buf[..used]
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| self.offset + i as u64 + 1);
            for record in lines.by_ref() {
                end = line_ends.next().expect("a line per record");
                match record {
                    Record::Event(e) => events.push(*e),
                    Record::Damaged(why) => {
                        tracing::error!(segment = %front.path.display(), offset = end, why,
                            "audit spool: a damaged line cannot be replayed; it is skipped");
                        damaged += 1;
                    }
                }
                if events.len() >= max {
                    break;
                }
            }
            let drained = lines.next().is_none() && at_end;
            let torn = drained && end < len;
            let is_active = self.active && self.queue.len() == 1;
            if torn && !is_active {
                tracing::warn!(segment = %front.path.display(), bytes = len - end,
                    "audit spool: dropping an interrupted write at the segment's end (it was never acknowledged)");
            }
            return Ok(Chunk {
                events,
                damaged,
                end,
                exhausted: drained && !is_active,
            });
        }
    }

    /// Records that `chunk`'s events are in the database: moves past them, and deletes a
    /// segment once it is wholly replayed.
    pub fn consumed(&mut self, chunk: &Chunk) -> io::Result<()> {
        self.offset = chunk.end;
        if chunk.exhausted {
            self.retire_front()?;
        }
        Ok(())
    }

    /// When this daemon's own segment is the only one left and wholly replayed, deletes it:
    /// the spool is then empty and events go to the database again. Returns whether it did.
    pub fn retire_if_drained(&mut self) -> io::Result<bool> {
        if !(self.active && self.queue.len() == 1) {
            return Ok(false);
        }
        let len = self.queue[0].file.metadata()?.len();
        if self.offset < len {
            return Ok(false);
        }
        self.active = false;
        self.retire_front()?;
        Ok(true)
    }

    fn retire_front(&mut self) -> io::Result<()> {
        if let Some(segment) = self.queue.pop_front() {
            let len = segment.file.metadata()?.len();
            fs::remove_file(&segment.path)?;
            sync_dir(&self.dir)?;
            self.bytes = self.bytes.saturating_sub(len);
            tracing::info!(segment = %segment.path.display(), "audit spool: segment replayed and removed");
        }
        self.offset = 0;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::EventType;

    fn events(from: u32, n: u32) -> Vec<AuditEvent> {
        (from..from + n)
            .map(|i| AuditEvent::new(EventType::LlmCall).details(serde_json::json!({ "n": i })))
            .collect()
    }

    fn numbers(events: &[AuditEvent]) -> Vec<u64> {
        events
            .iter()
            .map(|e| e.details["n"].as_u64().unwrap())
            .collect()
    }

    /// Replays everything, `max` at a time, as the writer does.
    fn drain(spool: &mut Spool, max: usize) -> Vec<u64> {
        let mut out = Vec::new();
        loop {
            let chunk = spool.read(max).unwrap();
            if chunk.is_empty() {
                if spool.retire_if_drained().unwrap() || spool.is_empty() {
                    return out;
                }
                panic!("a non-empty spool read nothing");
            }
            out.extend(numbers(&chunk.events));
            spool.consumed(&chunk).unwrap();
        }
    }

    fn fresh() -> (tempfile::TempDir, Spool) {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 30).unwrap();
        (dir, spool)
    }

    fn only_segment(dir: &Path) -> PathBuf {
        let mut all = fs::read_dir(dir).unwrap();
        let path = all.next().unwrap().unwrap().path();
        assert!(all.next().is_none());
        path
    }

    fn segments(dir: &Path) -> usize {
        fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn events_come_back_in_order_and_the_spool_empties() {
        let (dir, mut spool) = fresh();
        assert!(spool.is_empty());
        spool.append(&events(0, 5)).unwrap();
        spool.append(&events(5, 5)).unwrap();
        assert!(!spool.is_empty());
        assert!(spool.bytes() > 0);
        assert_eq!(drain(&mut spool, 3), (0..10).collect::<Vec<_>>());
        assert!(spool.is_empty());
        assert_eq!(spool.bytes(), 0);
        assert_eq!(segments(dir.path()), 0, "the replayed segment is deleted");
    }

    #[test]
    fn appends_while_replaying_are_read_after_the_rest() {
        let (_dir, mut spool) = fresh();
        spool.append(&events(0, 4)).unwrap();
        let chunk = spool.read(3).unwrap();
        assert_eq!(numbers(&chunk.events), [0, 1, 2]);
        spool.consumed(&chunk).unwrap();
        spool.append(&events(4, 2)).unwrap();
        assert_eq!(drain(&mut spool, 10), [3, 4, 5]);
    }

    #[test]
    fn a_chunk_not_marked_consumed_is_read_again() {
        let (_dir, mut spool) = fresh();
        spool.append(&events(0, 3)).unwrap();
        let first = spool.read(2).unwrap();
        let again = spool.read(2).unwrap();
        assert_eq!(numbers(&first.events), numbers(&again.events));
    }

    #[test]
    fn a_new_run_adopts_what_a_dead_one_left_and_drops_its_torn_end() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(dir.path(), 1 << 30).unwrap();
            spool.append(&events(0, 3)).unwrap();
            let chunk = spool.read(1).unwrap();
            spool.consumed(&chunk).unwrap(); // replayed, but the crash comes before the next
        } // the process dies: its lock goes with it
        let path = only_segment(dir.path());
        let mut torn = OpenOptions::new().append(true).open(&path).unwrap();
        torn.write_all(b"{\"audit_id\":\"aud_half").unwrap();

        let mut spool = Spool::open(dir.path(), 1 << 30).unwrap();
        spool.append(&events(3, 2)).unwrap(); // the new run's own segment comes after
                                              // The adopted segment is read from its start: the writer's database check skips what a
                                              // dead run already replayed.
        assert_eq!(drain(&mut spool, 2), [0, 1, 2, 3, 4]);
        assert_eq!(segments(dir.path()), 0);
    }

    #[test]
    fn a_segment_a_live_daemon_holds_is_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut live = Spool::open(dir.path(), 1 << 30).unwrap();
        live.append(&events(0, 2)).unwrap();
        let mut other = Spool::open(dir.path(), 1 << 30).unwrap();
        assert!(other.is_empty());
        other.append(&events(10, 1)).unwrap();
        assert_eq!(drain(&mut other, 5), [10]);
        assert_eq!(drain(&mut live, 5), [0, 1]);
    }

    #[test]
    fn the_cap_refuses_a_batch_and_keeps_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 4096).unwrap();
        spool.append(&events(0, 2)).unwrap();
        let err = spool.append(&events(2, 50)).unwrap_err();
        assert!(err.to_string().contains("spool full"), "{err}");
        assert_eq!(drain(&mut spool, 10), [0, 1]);
    }

    #[test]
    fn a_line_longer_than_the_read_block_is_read_whole() {
        let (_dir, mut spool) = fresh();
        let big = AuditEvent::new(EventType::LlmCall)
            .details(serde_json::json!({ "n": 7, "pad": "x".repeat(READ_BLOCK * 2) }));
        spool.append(&[big]).unwrap();
        spool.append(&events(8, 1)).unwrap();
        assert_eq!(drain(&mut spool, 10), [7, 8]);
    }

    #[test]
    fn a_damaged_line_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(dir.path(), 1 << 30).unwrap();
            spool.append(&events(0, 3)).unwrap();
        }
        let path = only_segment(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 5;
        bytes[second] ^= 0x20;
        fs::write(&path, bytes).unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 30).unwrap();
        let chunk = spool.read(10).unwrap();
        assert_eq!(numbers(&chunk.events), [0, 2]);
        assert_eq!(chunk.damaged, 1);
    }

    #[test]
    fn the_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let spool_dir = dir.path().join("spool");
        let mut spool = Spool::open(&spool_dir, 1 << 30).unwrap();
        spool.append(&events(0, 1)).unwrap();
        let mode = fs::metadata(&spool_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let seg = fs::read_dir(&spool_dir).unwrap().next().unwrap().unwrap();
        assert_eq!(seg.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}
