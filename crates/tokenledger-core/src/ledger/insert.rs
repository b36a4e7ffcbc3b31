//! The ledger held open by a long-running writer (the collector): only the
//! identities of the events it holds stay in memory (16 bytes each, not the
//! events), so inserting a batch costs one hash lookup per event, one write
//! and one `fsync`, and memory does not grow with what the events carry.
//!
//! Other writers (`tokenledger sync` on the same home) may append between
//! two batches: every insert takes the ledger's lock and, when the file is
//! not where this writer left it, reloads it before checking keys.

use super::{Ledger, identity};
use crate::error::{Error, Result};
use crate::event::UsageEvent;
use crate::event_store::Inserted;
use crate::lock::HomeLock;
use rustc_hash::FxHashSet;
use std::os::unix::fs::MetadataExt;

pub struct HeldLedger {
    ledger: Ledger,
    /// 128-bit hashes of the held identities: no collision in practice, and
    /// a tenth of the memory of the keys themselves.
    keys: FxHashSet<u128>,
    /// The ledger file as this writer last left it (inode, length).
    mark: Option<(u64, u64)>,
    /// Counts the whole reloads (at open, and when another writer appended).
    reloads: u64,
}

impl HeldLedger {
    pub fn open(ledger: Ledger) -> Result<HeldLedger> {
        let mut held = HeldLedger {
            ledger,
            keys: FxHashSet::default(),
            mark: None,
            reloads: 0,
        };
        held.ensure_dir()?;
        let _lock = HomeLock::exclusive(&held.ledger.lock_path())?;
        held.reload()?;
        Ok(held)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Stores the events whose identity is new, all or nothing: the lines
    /// are written in one `write` and made durable before this returns; on
    /// any error the file is cut back to where it was. An event repeated
    /// inside `events` counts once.
    pub fn insert(&mut self, events: &[UsageEvent]) -> Result<Inserted> {
        self.insert_with(events, |_| {})
    }

    /// How many times the whole ledger was read again: what a caller keeps
    /// about the held events is stale when this changed.
    pub fn reloads(&self) -> u64 {
        self.reloads
    }

    /// [`HeldLedger::insert`], handing each event stored to `stored` once
    /// it is durable.
    pub fn insert_with(
        &mut self,
        events: &[UsageEvent],
        mut stored: impl FnMut(&UsageEvent),
    ) -> Result<Inserted> {
        self.ensure_dir()?;
        let _lock = HomeLock::exclusive(&self.ledger.lock_path())?;
        if self.mark != self.current_mark()? {
            self.reload()?;
        }
        let mut fresh: Vec<&UsageEvent> = Vec::new();
        let mut new_keys: FxHashSet<u128> = FxHashSet::default();
        let mut lines = Vec::with_capacity(events.len() * 320);
        for event in events {
            let key = identity(event);
            if self.keys.contains(&key) || !new_keys.insert(key) {
                continue;
            }
            serde_json::to_writer(&mut lines, event)
                .map_err(|e| Error::io(self.ledger.path(), std::io::Error::other(e)))?;
            lines.push(b'\n');
            fresh.push(event);
        }
        let inserted = Inserted {
            accepted: fresh.len() as u64,
            duplicates: (events.len() - fresh.len()) as u64,
        };
        if fresh.is_empty() {
            return Ok(inserted);
        }
        crate::fault::point("collector:before-append");
        self.ledger.append(&lines)?;
        self.mark = self.current_mark()?;
        self.keys.extend(new_keys);
        fresh.into_iter().for_each(&mut stored);
        Ok(inserted)
    }

    /// Writes the binary snapshot, so the next start decodes instead of
    /// parsing (what `sync` does after each run). Only speed depends on it.
    pub fn save_snapshot(&mut self) -> Result<()> {
        if !self.ledger.exists() {
            return Ok(());
        }
        let _lock = HomeLock::exclusive(&self.ledger.lock_path())?;
        self.ledger.refresh_snapshot_streaming()
    }

    fn ensure_dir(&self) -> Result<()> {
        match self.ledger.path().parent() {
            Some(dir) if !dir.as_os_str().is_empty() => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
            }
            _ => Ok(()),
        }
    }

    fn current_mark(&self) -> Result<Option<(u64, u64)>> {
        match std::fs::metadata(self.ledger.path()) {
            Ok(meta) => Ok(Some((meta.ino(), meta.len()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(self.ledger.path(), e)),
        }
    }

    /// Reads the whole ledger again (under the caller's lock).
    fn reload(&mut self) -> Result<()> {
        let mut keys = FxHashSet::default();
        self.ledger.stream(&mut |event| {
            keys.insert(identity(event));
        })?;
        self.keys = keys;
        self.reloads += 1;
        self.mark = self.current_mark()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::test_event as event;

    #[test]
    fn inserts_once_per_identity_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut held = HeldLedger::open(Ledger::in_home(dir.path())).unwrap();
        let batch = [
            event(Some("k1"), "s1", 10),
            event(Some("k1"), "s1", 10),
            event(None, "s2", 5),
        ];
        let first = held.insert(&batch).unwrap();
        assert_eq!((first.accepted, first.duplicates), (2, 1));
        let again = held.insert(&batch).unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 3));
        let mut reopened = HeldLedger::open(Ledger::in_home(dir.path())).unwrap();
        assert_eq!(reopened.len(), 2);
        assert_eq!(reopened.insert(&batch).unwrap().accepted, 0);
    }

    #[test]
    fn sees_what_another_writer_appended() {
        let dir = tempfile::tempdir().unwrap();
        let mut held = HeldLedger::open(Ledger::in_home(dir.path())).unwrap();
        held.insert(&[event(Some("a"), "s", 1)]).unwrap();
        let mut other = HeldLedger::open(Ledger::in_home(dir.path())).unwrap();
        other.insert(&[event(Some("b"), "s", 1)]).unwrap();
        let result = held.insert(&[event(Some("b"), "s", 1)]).unwrap();
        assert_eq!((result.accepted, result.duplicates), (0, 1));
        assert_eq!(held.len(), 2);
        held.save_snapshot().unwrap();
        assert_eq!(
            HeldLedger::open(Ledger::in_home(dir.path())).unwrap().len(),
            2
        );
    }
}
