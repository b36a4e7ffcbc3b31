//! Reading the ledger without holding it, for a long-running reader (the
//! collector): the snapshot's events are decoded one at a time and handed
//! on; only the lines after the snapshot are held, to be merged by key.
//! The result is what [`Ledger::load`] gives, in a different order, and
//! memory does not grow with the ledger.

use super::snapshot::{self, Covered};
use super::{Ledger, identity, read_lines_after};
use crate::error::{Error, Result, Warning};
use crate::event::UsageEvent;
use rustc_hash::FxHashMap;

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
    pub fn stream(&self, visit: &mut (dyn FnMut(&UsageEvent) + Send)) -> Result<Streamed> {
        self.stream_until(None, visit)
    }

    /// [`Ledger::stream`] of the bytes before `until` only (all when None).
    ///
    /// The lines after the snapshot are read twice instead of held: first
    /// for which copy of each identity wins (32 bytes a line), then again to
    /// hand on the winners. When ingest outruns the snapshot's rewrite that
    /// tail grows to hundreds of thousands of lines, and holding them as
    /// events made every overlapping report hold its own copy.
    fn stream_until(
        &self,
        until: Option<u64>,
        visit: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<Streamed> {
        let file = match std::fs::File::open(self.path()) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Streamed::default()),
            Err(e) => return Err(Error::io(self.path(), e)),
        };
        // Both passes over the tail must read the same bytes, though the
        // ledger may grow meanwhile.
        let until = match until {
            Some(until) => until,
            None => file
                .metadata()
                .map_err(|e| Error::io(self.path(), e))?
                .len(),
        };
        let view = snapshot::open(&self.snapshot_path(), &file)
            .filter(|v| v.covered.bytes <= until && v.intact());
        let (from, mut line_warnings) = match &view {
            Some(view) => (view.covered, view.warnings.clone()),
            None => (Covered::default(), Vec::new()),
        };
        let mut tail = TailWinners::default();
        let end = read_lines_after(
            self.path(),
            &file,
            from,
            Some(until),
            &mut line_warnings,
            |e| tail.add(&e),
        )?;
        let mut events = 0u64;
        if let Some(view) = &view {
            let decoded = view.for_each(true, |event| {
                if tail.beats_snapshot_copy(&event) {
                    return;
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
        if !tail.is_empty() {
            let mut ordinal = 0u64;
            read_lines_after(
                self.path(),
                &file,
                from,
                Some(until),
                &mut Vec::new(),
                |e| {
                    if tail.wins(&e, ordinal) {
                        events += 1;
                        visit(&e);
                    }
                    ordinal += 1;
                },
            )?;
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

/// The winning copy of each identity among the lines after the snapshot,
/// by its place among them: a later copy wins only with a larger total, as
/// in [`super::Merged`].
#[derive(Default)]
struct TailWinners {
    /// identity -> (token total, ordinal of the winning copy), or
    /// [`TailWinners::LOST`] when the snapshot's copy wins.
    by_identity: FxHashMap<u128, (u64, u64)>,
    /// Events seen so far: the next one's ordinal.
    seen: u64,
}

impl TailWinners {
    const LOST: u64 = u64::MAX;

    fn add(&mut self, event: &UsageEvent) {
        let (ordinal, total) = (self.seen, event.tokens.total());
        self.seen += 1;
        self.by_identity
            .entry(identity(event))
            .and_modify(|best| {
                if total > best.0 {
                    *best = (total, ordinal);
                }
            })
            .or_insert((total, ordinal));
    }

    fn is_empty(&self) -> bool {
        self.by_identity.is_empty()
    }

    /// Whether a copy in the tail replaces the snapshot's `event`; if not,
    /// the tail's copies of it all lose.
    fn beats_snapshot_copy(&mut self, event: &UsageEvent) -> bool {
        match self.by_identity.get_mut(&identity(event)) {
            Some(best) if best.0 > event.tokens.total() => true,
            Some(best) => {
                best.1 = Self::LOST;
                false
            }
            None => false,
        }
    }

    /// Whether the tail's copy at `ordinal` is the one handed on.
    fn wins(&self, event: &UsageEvent, ordinal: u64) -> bool {
        self.by_identity
            .get(&identity(event))
            .is_some_and(|best| best.1 == ordinal)
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

    /// (key, input, output) of every event, sorted: copies with equal totals
    /// but different counts tell which copy was kept.
    fn contents(events: impl IntoIterator<Item = UsageEvent>) -> Vec<(String, u64, u64)> {
        let mut out: Vec<_> = events
            .into_iter()
            .map(|e| {
                (
                    e.dedupe_key.as_deref().unwrap().to_string(),
                    e.tokens.input,
                    e.tokens.output,
                )
            })
            .collect();
        out.sort();
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever the copies, their order and where snapshots fall, the
        /// stream hands on exactly what a full load keeps.
        #[test]
        fn streams_what_load_gives_for_any_copies_and_snapshots(
            steps in proptest::collection::vec((0u8..5, 0u64..3, 0u64..3, proptest::bool::ANY), 1..40)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let ledger = Ledger::in_home(dir.path());
            for (key, input, output, snapshot_after) in steps {
                let mut copy = event(&format!("k{key}"), input);
                copy.tokens.output = output;
                append(&ledger, &[copy]);
                if snapshot_after {
                    ledger.refresh_snapshot_streaming().unwrap();
                }
                let mut streamed = Vec::new();
                ledger.stream(&mut |e| streamed.push(e.clone())).unwrap();
                proptest::prop_assert_eq!(contents(streamed), contents(ledger.load().unwrap().events));
            }
        }
    }

    #[test]
    fn a_torn_last_line_and_a_broken_one_in_the_tail_are_skipped_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_home(dir.path());
        append(&ledger, &[event("k1", 10)]);
        ledger.refresh_snapshot_streaming().unwrap();
        ledger.append(b"{not json\n").unwrap();
        append(&ledger, &[event("k1", 30), event("k2", 5)]);
        let mut torn = serde_json::to_vec(&event("k3", 1)).unwrap();
        torn.truncate(torn.len() / 2);
        ledger.append(&torn).unwrap();
        let mut seen = Vec::new();
        let streamed_out = ledger
            .stream(&mut |e| {
                seen.push((e.dedupe_key.as_deref().unwrap().to_string(), e.tokens.input))
            })
            .unwrap();
        seen.sort();
        assert_eq!(seen, vec![("k1".into(), 30), ("k2".into(), 5)]);
        assert_eq!(streamed_out.events, 2);
        assert_eq!(
            streamed_out.warnings.len(),
            1,
            "{:?}",
            streamed_out.warnings
        );
        assert_eq!(streamed_out.warnings[0].line, Some(2));
    }
}
