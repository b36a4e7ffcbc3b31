//! An agent source seen through the ledger: the events `sync` kept (some of
//! whose files the agent may have deleted since) plus whatever the live logs
//! hold that has not been synced yet.

use super::identity;
use crate::error::{Result, Warning};
use crate::event::{SourceKind, UsageEvent};
use crate::query::TimeWindow;
use crate::resume::Resume;
use crate::session::SessionState;
use crate::source::{Source, SourceScan};
use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct SyncedSource {
    live: Box<dyn Source + Send + Sync>,
    /// The ledger's events (of every kind: this source reads its own).
    held: Arc<Vec<UsageEvent>>,
    ledger_path: PathBuf,
    /// False when nothing changed since the last sync: the ledger is the whole answer.
    live_changed: bool,
    /// Where the last sync stopped in each file: only what follows is read.
    resume: Resume,
}

impl SyncedSource {
    pub fn new(
        live: Box<dyn Source + Send + Sync>,
        held: Arc<Vec<UsageEvent>>,
        ledger_path: PathBuf,
        live_changed: bool,
        resume: Resume,
    ) -> SyncedSource {
        SyncedSource {
            live,
            held,
            ledger_path,
            live_changed,
            resume,
        }
    }
}

impl Source for SyncedSource {
    fn kind(&self) -> SourceKind {
        self.live.kind()
    }

    fn detected(&self) -> bool {
        let kind = self.live.kind();
        self.held.iter().any(|e| e.source == kind) || self.live.detected()
    }

    /// A session's state is the agent's now, never something the ledger keeps.
    fn session_states(&self, warnings: &mut Vec<Warning>) -> Vec<SessionState> {
        self.live.session_states(warnings)
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let kind = self.live.kind();
        let held_in_window = self
            .held
            .iter()
            .filter(|e| e.source == kind && window.contains(e.timestamp));
        if !self.live_changed {
            let mut scan = SourceScan {
                files: vec![self.ledger_path.clone()],
                ..SourceScan::default()
            };
            for event in held_in_window {
                scan.events += 1;
                sink(event);
            }
            return Ok(scan);
        }
        // What was appended since the last sync, merged with the ledger: the
        // more complete copy of an event wins.
        let mut live: Vec<UsageEvent> = Vec::new();
        let mut scan = self.live.scan_appended(&self.resume, &mut |event| {
            if window.contains(event.timestamp) {
                live.push(event.clone());
            }
        })?;
        let index: FxHashMap<u128, usize> = live
            .iter()
            .enumerate()
            .map(|(i, e)| (identity(e), i))
            .collect();
        let mut only_held = 0u64;
        for event in held_in_window {
            match index.get(&identity(event)) {
                Some(&i) if live[i].tokens.total() < event.tokens.total() => {
                    live[i] = event.clone()
                }
                Some(_) => {}
                None => {
                    only_held += 1;
                    sink(event);
                }
            }
        }
        for event in &live {
            sink(event);
        }
        scan.events += only_held;
        scan.files.push(self.ledger_path.clone());
        Ok(scan)
    }
}
