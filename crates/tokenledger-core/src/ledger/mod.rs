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

mod line;
mod state;
mod synced;

pub use state::SyncState;
pub use synced::SyncedSource;

use crate::error::{Error, Result, Warning};
use crate::event::{SourceKind, UsageEvent};
use crate::jsonl::scan_lines;
use crate::lock::HomeLock;
use crate::query::TimeWindow;
use crate::source::Source;
use rustc_hash::FxHashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LEDGER_FILE: &str = "ledger.jsonl";

#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

/// What one `sync` did.
#[derive(Debug, Default)]
pub struct SyncSummary {
    /// Per source: events appended (new or more complete copies) and events already held.
    pub per_source: Vec<(SourceKind, u64, u64)>,
    pub warnings: Vec<Warning>,
}

/// The ledger's events, newest complete copy per dedupe key.
pub struct LedgerEvents {
    pub events: Vec<UsageEvent>,
    pub warnings: Vec<Warning>,
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
        self.sibling(".state.json")
    }

    fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    /// Every event in the ledger, the most complete copy per key.
    pub fn load(&self) -> Result<LedgerEvents> {
        let mut warnings = Vec::new();
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LedgerEvents {
                    events: Vec::new(),
                    warnings,
                });
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let mut by_key: FxHashMap<u64, usize> = FxHashMap::default();
        let mut events: Vec<UsageEvent> = Vec::new();
        let path = &self.path;
        scan_lines(
            file,
            |line| {
                if line.bytes.trim_ascii().is_empty() {
                    return None;
                }
                Some(
                    match serde_json::from_slice::<line::LedgerLine<'_>>(line.bytes)
                        .map_err(|e| e.to_string())
                        .and_then(line::LedgerLine::into_event)
                    {
                        Ok(event) => Ok(event),
                        // The last line of a sync killed mid-write: nothing was acknowledged for it.
                        Err(_) if !line.terminated => Err(None),
                        Err(e) => Err(Some((line.number, e.to_string()))),
                    },
                )
            },
            |batch| {
                for parsed in batch {
                    match parsed {
                        Ok(event) => {
                            let key = xxhash_rust::xxh3::xxh3_64(ledger_key(&event).as_bytes());
                            match by_key.get(&key) {
                                Some(&i) if events[i].tokens.total() >= event.tokens.total() => {}
                                Some(&i) => events[i] = event,
                                None => {
                                    by_key.insert(key, events.len());
                                    events.push(event);
                                }
                            }
                        }
                        Err(None) => {}
                        Err(Some((line, message))) => warnings.push(Warning {
                            path: path.clone(),
                            line: Some(line),
                            message: format!("{message}; line skipped"),
                        }),
                    }
                }
            },
        )
        .map_err(|e| Error::io(&self.path, e))?;
        Ok(LedgerEvents { events, warnings })
    }

    /// Copies every new event of `sources` into the ledger, then records the
    /// state of their files so reports know nothing changed since.
    pub fn sync(&self, sources: &[&dyn Source]) -> Result<SyncSummary> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let _lock = HomeLock::exclusive(&self.lock_path())?;
        let held = self.load()?;
        let mut summary = SyncSummary {
            warnings: held.warnings,
            ..SyncSummary::default()
        };
        let mut totals: FxHashMap<String, u64> = held
            .events
            .iter()
            .map(|e| (ledger_key(e), e.tokens.total()))
            .collect();
        let mut state = SyncState::default();
        for source in sources {
            let mut lines = String::new();
            let mut failed: Option<Error> = None;
            let (mut added, mut kept) = (0u64, 0u64);
            let scan = source.scan(&TimeWindow::ALL, &mut |event| {
                let key = ledger_key(event);
                let total = event.tokens.total();
                if totals.get(&key).is_some_and(|&held| held >= total) {
                    kept += 1;
                    return;
                }
                totals.insert(key, total);
                lines.push_str(&serde_json::to_string(event).expect("events always serialize"));
                lines.push('\n');
                added += 1;
                // Bounded memory: flush in batches. Appended but unacknowledged
                // lines are harmless: the next sync finds their keys present.
                if lines.len() >= 4 << 20 {
                    if let Err(e) = self.append(lines.as_bytes()) {
                        failed = Some(e);
                    }
                    lines.clear();
                }
            })?;
            if let Some(e) = failed.take() {
                return Err(e);
            }
            self.append(lines.as_bytes())?;
            crate::fault::point("sync:after-append");
            state.record(source.kind(), &scan.searched, &scan.files);
            summary.warnings.extend(scan.warnings);
            summary.per_source.push((source.kind(), added, kept));
        }
        state.save(&self.state_path())?;
        Ok(summary)
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

fn ends_with_newline(file: &std::fs::File, len: u64) -> bool {
    use std::os::unix::fs::FileExt;
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1).is_ok() && last[0] == b'\n'
}

/// The identity of an event in the ledger: its dedupe key, or for sources
/// without one its source and session.
pub(crate) fn ledger_key(event: &UsageEvent) -> String {
    match &event.dedupe_key {
        Some(key) => key.to_string(),
        None => format!("{}:{}", event.source.as_str(), event.session),
    }
}
