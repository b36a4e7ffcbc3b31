//! The ledger: agent-log events copied into the home by `tokenledger sync`,
//! so they outlive the agents' own cleanup (Claude Code deletes transcripts
//! after 30 days).
//!
//! `ledger.jsonl` is append-only, one normalized event per line. An event is
//! identified by its dedupe key; a later line with the same key and a larger
//! token total supersedes an earlier one (a transcript synced while a reply
//! was still streaming holds a placeholder copy first). Crash safety follows
//! from that: a sync killed after appending but before recording its state
//! only causes the next sync to find those keys already present, and a torn
//! last line is skipped by readers and fenced off by the next writer.

mod insert;
mod line;
mod snapshot;
mod state;
mod stream;
mod sync;
mod synced;

pub use insert::HeldLedger;
pub use state::SyncState;
pub use stream::Streamed;
pub use sync::{SourceSync, SyncSummary};
pub use synced::SyncedSource;

use crate::error::{Error, Result, Warning};
use crate::event::UsageEvent;
use crate::jsonl::scan_lines;
use rustc_hash::FxHashMap;
use snapshot::Covered;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const LEDGER_FILE: &str = "ledger.jsonl";

#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

/// The ledger's events, most complete copy per dedupe key.
#[derive(Default)]
pub struct LedgerEvents {
    pub events: Vec<UsageEvent>,
    pub warnings: Vec<Warning>,
    line_warnings: Vec<(u64, String)>,
    /// The ledger up to the end of its last complete line.
    covered: Covered,
    /// The snapshot held every complete line: nothing to refresh.
    snapshot_current: bool,
}

impl Ledger {
    pub fn in_home(home: &Path) -> Ledger {
        Ledger {
            path: home.join(LEDGER_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    pub fn state_path(&self) -> PathBuf {
        self.sibling(".state")
    }

    fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    fn snapshot_path(&self) -> PathBuf {
        self.sibling(".snapshot")
    }

    /// Every event in the ledger, the most complete copy per key: what the
    /// snapshot covers decoded, the lines after it parsed.
    pub fn load(&self) -> Result<LedgerEvents> {
        self.load_with(true)
    }

    /// [`Ledger::load`], leaving out the events' dedupe keys when
    /// `keys` is false and the snapshot covers the whole ledger: a report
    /// that reads nothing new never compares identities, and allocating a
    /// key per event was a fifth of its time.
    pub fn load_with(&self, keys: bool) -> Result<LedgerEvents> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LedgerEvents::default());
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let restored = snapshot::read(&self.snapshot_path(), &file, keys);
        let from_snapshot = restored.is_some();
        let (events, mut line_warnings, covered) = match restored {
            Some(restored) => (restored.events, restored.warnings, restored.covered),
            None => (Vec::new(), Vec::new(), Covered::default()),
        };
        let mut merged = Merged::new(events);
        let end = read_lines_after(&self.path, &file, covered, None, &mut line_warnings, |e| {
            merged.add(e)
        })?;
        let events = merged.events;
        let warnings = self.line_warnings(&line_warnings);
        Ok(LedgerEvents {
            events,
            warnings,
            line_warnings,
            covered: end,
            snapshot_current: from_snapshot && end == covered,
        })
    }

    fn line_warnings(&self, lines: &[(u64, String)]) -> Vec<Warning> {
        lines
            .iter()
            .map(|(line, message)| Warning {
                path: self.path.clone(),
                line: Some(*line),
                message: format!("{message}; line skipped"),
            })
            .collect()
    }

    /// Brings the snapshot up to the ledger's end (under the sync lock).
    fn refresh_snapshot(&self) -> Result<()> {
        let loaded = self.load()?;
        let file = std::fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let path = self.snapshot_path();
        snapshot::write(
            &path,
            &file,
            loaded.covered,
            &loaded.events,
            &loaded.line_warnings,
        )
        .map_err(|e| Error::io(&path, e))
    }

    /// Appends whole lines and makes them durable before the state that
    /// acknowledges them is written.
    fn append(&self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&self.path, e))?.len();
        let mut out = Vec::with_capacity(bytes.len() + 1);
        if len > 0 && !ends_with_newline(&file, len) {
            out.push(b'\n'); // fence off a line torn by an earlier crash
        }
        out.extend_from_slice(bytes);
        if let Err(e) = file.write_all(&out).and_then(|()| file.sync_data()) {
            let _ = file.set_len(len);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }
}

/// Events merged by identity, the most complete copy kept: a later copy
/// replaces an earlier one only with a larger token total.
struct Merged {
    events: Vec<UsageEvent>,
    /// Built on the first event added, over the events given at the start.
    by_key: Option<FxHashMap<u128, usize>>,
}

impl Merged {
    fn new(events: Vec<UsageEvent>) -> Merged {
        Merged {
            events,
            by_key: None,
        }
    }

    fn add(&mut self, event: UsageEvent) {
        let events = &mut self.events;
        let by_key = self.by_key.get_or_insert_with(|| {
            events
                .iter()
                .enumerate()
                .map(|(i, e)| (identity(e), i))
                .collect()
        });
        let key = identity(&event);
        match by_key.get(&key) {
            Some(&i) if events[i].tokens.total() >= event.tokens.total() => {}
            Some(&i) => events[i] = event,
            None => {
                by_key.insert(key, events.len());
                events.push(event);
            }
        }
    }
}

/// Parses the ledger's lines from `from` (to `until`, when given), handing
/// each event to `add` in file order; broken lines go to `line_warnings`.
/// Returns where the last complete line ends.
fn read_lines_after(
    path: &Path,
    file: &std::fs::File,
    from: Covered,
    until: Option<u64>,
    line_warnings: &mut Vec<(u64, String)>,
    mut add: impl FnMut(UsageEvent) + Send,
) -> Result<Covered> {
    use std::io::Read;
    let mut end = from;
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(from.bytes))
        .map_err(|e| Error::io(path, e))?;
    let limit = until.map_or(u64::MAX, |u| u.saturating_sub(from.bytes));
    scan_lines(
        reader.take(limit),
        |line| {
            let number = from.lines + line.number;
            let parsed = if line.bytes.trim_ascii().is_empty() {
                Ok(None)
            } else {
                match serde_json::from_slice::<line::LedgerLine<'_>>(line.bytes)
                    .map_err(|e| e.to_string())
                    .and_then(line::LedgerLine::into_event)
                {
                    Ok(event) => Ok(Some(event)),
                    // The last line of a sync killed mid-write: nothing was acknowledged for it.
                    Err(_) if !line.terminated => Ok(None),
                    Err(e) => Err(e),
                }
            };
            let ends = line
                .terminated
                .then(|| from.bytes + line.offset + line.bytes.len() as u64 + 1);
            Some((number, ends, parsed))
        },
        |batch| {
            for (number, ends, parsed) in batch {
                if let Some(bytes) = ends {
                    end = Covered {
                        bytes,
                        lines: number,
                    };
                }
                match parsed {
                    Ok(Some(event)) => add(event),
                    Ok(None) => {}
                    Err(message) => line_warnings.push((number, message)),
                }
            }
        },
    )
    .map_err(|e| Error::io(path, e))?;
    Ok(end)
}

fn ends_with_newline(file: &std::fs::File, len: u64) -> bool {
    use std::os::unix::fs::FileExt;
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1).is_ok() && last[0] == b'\n'
}

/// `<path>.tmp.<pid>`: a temp file next to `path` that no other file's
/// writer and no other process uses.
fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    PathBuf::from(name)
}

/// [`ledger_key`] hashed, without building the string for the common case:
/// 128 bits, so that no two of even billions of events collide in practice.
pub fn identity(event: &UsageEvent) -> u128 {
    match &event.dedupe_key {
        Some(key) => xxhash_rust::xxh3::xxh3_128(key.as_bytes()),
        None => xxhash_rust::xxh3::xxh3_128(ledger_key(event).as_bytes()),
    }
}

/// The identity of an event in the ledger: its dedupe key, or for sources
/// without one its source and session.
pub fn ledger_key(event: &UsageEvent) -> String {
    match &event.dedupe_key {
        Some(key) => key.to_string(),
        None => format!("{}:{}", event.source.as_str(), event.session),
    }
}

/// An event for the ledger's tests: OpenTelemetry with `key`, else a
/// register entry (keyed by its fields).
#[cfg(test)]
fn test_event(key: Option<&str>, session: &str, input: u64) -> UsageEvent {
    use crate::event::{SourceKind, TokenCounts};
    use std::sync::Arc;
    UsageEvent {
        timestamp: "2026-03-01T10:00:00Z".parse().unwrap(),
        source: if key.is_some() {
            SourceKind::Otel
        } else {
            SourceKind::Register
        },
        agent_id: Arc::from("main"),
        session: Arc::from(session),
        model: Arc::from("claude-sonnet-4-5"),
        tokens: TokenCounts {
            input,
            ..TokenCounts::default()
        },
        fast: false,
        reported_cost: None,
        task: None,
        project: None,
        origin: None,
        dedupe_key: key.map(Arc::from),
    }
}
