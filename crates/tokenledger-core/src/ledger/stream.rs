//! Reading the ledger without holding it, for a long-running reader (the
//! collector): the snapshot's events are decoded one at a time and handed
//! on; only the lines after the snapshot are held, to be merged by key.
//! The result is what [`Ledger::load`] gives, in a different order, and
//! memory does not grow with the ledger.

use super::snapshot::{self, Covered};
use super::{Ledger, Merged, identity, read_lines_after};
use crate::error::{Error, Result, Warning};
use crate::event::UsageEvent;

/// What a stream read besides its events.
#[derive(Debug, Default)]
pub struct Streamed {
    pub warnings: Vec<Warning>,
    /// Events handed on.
    pub events: u64,
    end: Covered,
    line_warnings: Vec<(u64, String)>,
}

impl Ledger {
    /// Hands every event of the ledger (the most complete copy per key, as
    /// [`Ledger::load`] gives them) to `visit`, keys included.
    pub fn stream(&self, visit: &mut dyn FnMut(&UsageEvent)) -> Result<Streamed> {
        self.stream_until(None, visit)
    }

    /// [`Ledger::stream`] of the bytes before `until` only (all when None).
    fn stream_until(
        &self,
        until: Option<u64>,
        visit: &mut dyn FnMut(&UsageEvent),
    ) -> Result<Streamed> {
        let file = match std::fs::File::open(self.path()) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Streamed::default()),
            Err(e) => return Err(Error::io(self.path(), e)),
        };
        let view = snapshot::open(&self.snapshot_path(), &file)
            .filter(|v| until.is_none_or(|u| v.covered.bytes <= u) && v.intact());
        let (from, mut line_warnings) = match &view {
            Some(view) => (view.covered, view.warnings.clone()),
            None => (Covered::default(), Vec::new()),
        };
        let mut tail = Merged::new(Vec::new());
        let end = read_lines_after(self.path(), &file, from, until, &mut line_warnings, |e| {
            tail.add(e)
        })?;
        let mut events = 0u64;
        // Copies after the snapshot that lose to the snapshot's copy.
        let mut superseded = vec![false; tail.events.len()];
        if let Some(view) = &view {
            let decoded = view.for_each(true, |event| {
                let in_tail = tail.by_key.as_ref().and_then(|m| m.get(&identity(&event)));
                match in_tail {
                    Some(&i) if tail.events[i].tokens.total() > event.tokens.total() => return,
                    Some(&i) => superseded[i] = true,
                    None => {}
                }
                events += 1;
                visit(&event);
            });
            if decoded.is_none() {
                // Its hash matched: the file changed while it was read.
                return Err(Error::io(
                    self.snapshot_path(),
                    std::io::Error::other("the snapshot changed while it was read; try again"),
                ));
            }
        }
        for (event, lost) in tail.events.iter().zip(&superseded) {
            if !lost {
                events += 1;
                visit(event);
            }
        }
        Ok(Streamed {
            warnings: self.line_warnings(&line_warnings),
            events,
            end,
            line_warnings,
        })
    }

    /// Writes the snapshot of the whole ledger as it is now, streaming it
    /// twice instead of holding it. Safe without the lock because the
    /// ledger only grows: the prefix the first pass covers stays as it was
    /// read (the second pass stops there), and the snapshot's tail hash
    /// checks it when used. A caller must not run two at once (they would
    /// share a temp file).
    pub fn refresh_snapshot_streaming(&self) -> Result<()> {
        let first = self.stream(&mut |_| {})?;
        let file = std::fs::File::open(self.path()).map_err(|e| Error::io(self.path(), e))?;
        let path = self.snapshot_path();
        let mut failed = None;
        let written = snapshot::write_from(
            &path,
            &file,
            first.end,
            &first.line_warnings,
            &mut |visit| match self.stream_until(Some(first.end.bytes), visit) {
                Ok(_) => Ok(()),
                Err(e) => {
                    let message = e.to_string();
                    failed = Some(e);
                    Err(std::io::Error::other(message))
                }
            },
        );
        written.map_err(|e| failed.unwrap_or_else(|| Error::io(&path, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: &str, input: u64) -> UsageEvent {
        crate::ledger::test_event(Some(key), "s", input)
    }

    fn append(ledger: &Ledger, events: &[UsageEvent]) {
        let mut bytes = Vec::new();
        for e in events {
            serde_json::to_writer(&mut bytes, e).unwrap();
            bytes.push(b'\n');
        }
        ledger.append(&bytes).unwrap();
    }

    fn streamed(ledger: &Ledger) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        ledger
            .stream(&mut |e| out.push((e.dedupe_key.as_deref().unwrap().into(), e.tokens.input)))
            .unwrap();
        out.sort();
        out
    }

    fn loaded(ledger: &Ledger) -> Vec<(String, u64)> {
        let mut out: Vec<_> = ledger
            .load()
            .unwrap()
            .events
            .iter()
            .map(|e| (e.dedupe_key.as_deref().unwrap().into(), e.tokens.input))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn streams_what_load_gives_across_snapshot_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_home(dir.path());
        assert!(streamed(&ledger).is_empty());
        append(&ledger, &[event("k1", 10), event("k2", 5), event("k2", 3)]);
        assert_eq!(streamed(&ledger), loaded(&ledger));
        ledger.refresh_snapshot_streaming().unwrap();
        // After the snapshot: one copy that wins, one that loses, one new key.
        append(&ledger, &[event("k1", 20), event("k2", 1), event("k3", 7)]);
        let expected = vec![("k1".into(), 20), ("k2".into(), 5), ("k3".into(), 7)];
        assert_eq!(loaded(&ledger), expected);
        assert_eq!(streamed(&ledger), expected);
        ledger.refresh_snapshot_streaming().unwrap();
        let restored = ledger.load().unwrap();
        assert!(restored.snapshot_current, "the snapshot covers every line");
        assert_eq!(loaded(&ledger), expected);
        assert_eq!(streamed(&ledger), expected);
    }

    #[test]
    fn a_damaged_snapshot_is_not_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_home(dir.path());
        append(&ledger, &[event("k1", 10), event("k2", 5)]);
        ledger.refresh_snapshot_streaming().unwrap();
        let path = ledger.snapshot_path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(streamed(&ledger), vec![("k1".into(), 10), ("k2".into(), 5)]);
    }
}
