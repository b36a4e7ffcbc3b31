//! `tokenledger sync`: copying what the agents' logs gained since the last
//! sync into the ledger, then recording where each file was read up to.

use super::{Ledger, SyncState, identity};
use crate::error::{Error, Result, Warning};
use crate::event::SourceKind;
use crate::lock::HomeLock;
use crate::source::Source;
use rustc_hash::FxHashMap;

/// What one `sync` did.
#[derive(Debug, Default)]
pub struct SyncSummary {
    pub per_source: Vec<SourceSync>,
    pub warnings: Vec<Warning>,
}

/// What one `sync` did with one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSync {
    pub kind: SourceKind,
    /// Events appended: new ones, or more complete copies of held ones.
    pub added: u64,
    /// Events read again that the ledger already held.
    pub held: u64,
    /// Files the source has, and how many of them changed and were read.
    pub files: u64,
    pub files_read: u64,
    /// Bytes read: only what was appended since the last sync, unless a file
    /// was replaced or truncated.
    pub bytes_read: u64,
}

impl Ledger {
    /// Copies every new event of `sources` into the ledger, then records the
    /// state of their files so reports know nothing changed since.
    pub fn sync(&self, sources: &[&dyn Source]) -> Result<SyncSummary> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let _lock = HomeLock::exclusive(&self.lock_path())?;
        let held = self.load()?;
        let snapshot_current = held.snapshot_current;
        let mut appended_any = false;
        let mut summary = SyncSummary {
            warnings: held.warnings,
            ..SyncSummary::default()
        };
        let mut totals: FxHashMap<u128, u64> = held
            .events
            .iter()
            .map(|e| (identity(e), e.tokens.total()))
            .collect();
        let mut state = SyncState::load(&self.state_path(), &self.path);
        for source in sources {
            // Nothing listed changed: not even a directory walk is needed.
            if state.unchanged(source.kind()) {
                summary.per_source.push(SourceSync {
                    kind: source.kind(),
                    added: 0,
                    held: 0,
                    files: state.file_count(source.kind()),
                    files_read: 0,
                    bytes_read: 0,
                });
                continue;
            }
            let resume = state.resume(source.kind());
            let mut lines = String::new();
            let mut failed: Option<Error> = None;
            let (mut added, mut kept) = (0u64, 0u64);
            let scan = source.scan_appended(&resume, &mut |event| {
                let key = identity(event);
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
            appended_any |= added > 0;
            self.append(lines.as_bytes())?;
            crate::fault::point("sync:after-append");
            state.record(source.kind(), &scan, &resume);
            summary.warnings.extend(scan.warnings);
            summary.per_source.push(SourceSync {
                kind: source.kind(),
                added,
                held: kept,
                files: scan.files.len() as u64,
                files_read: scan.read.len() as u64,
                bytes_read: scan.read.iter().map(|r| r.to.saturating_sub(r.from)).sum(),
            });
        }
        if self.path.exists() && (appended_any || !snapshot_current) {
            // Only speed depends on it: a sync that cannot write it still succeeded.
            if let Err(e) = self.refresh_snapshot() {
                summary.warnings.push(Warning {
                    path: self.snapshot_path(),
                    line: None,
                    message: format!(
                        "snapshot not written ({e}); reports parse the ledger instead"
                    ),
                });
            }
        }
        state.save(&self.state_path(), &self.path)?;
        Ok(summary)
    }
}
