//! An agent source seen through the ledger: the events `sync` kept (some of
//! whose files the agent may have deleted since) plus whatever the live logs
//! hold that has not been synced yet.

use super::ledger_key;
use crate::error::Result;
use crate::event::{SourceKind, UsageEvent};
use crate::query::TimeWindow;
use crate::source::{Source, SourceScan};
use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct SyncedSource {
    live: Box<dyn Source + Send + Sync>,
    /// The ledger's events of this source's kind.
    held: Arc<Vec<UsageEvent>>,
    ledger_path: PathBuf,
    /// False when nothing changed since the last sync: the ledger is the whole answer.
    live_changed: bool,
}

impl SyncedSource {
    pub fn new(
        live: Box<dyn Source + Send + Sync>,
        held: Arc<Vec<UsageEvent>>,
        ledger_path: PathBuf,
        live_changed: bool,
    ) -> SyncedSource {
        SyncedSource {
            live,
            held,
            ledger_path,
            live_changed,
        }
    }
}

impl Source for SyncedSource {
    fn kind(&self) -> SourceKind {
        self.live.kind()
    }

    fn detected(&self) -> bool {
        !self.held.is_empty() || self.live.detected()
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let held_in_window = self.held.iter().filter(|e| window.contains(e.timestamp));
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
        // The live logs are the truth for files still present; the ledger
        // fills in what they no longer hold, and wins where its copy is more complete.
        let mut live: Vec<UsageEvent> = Vec::new();
        let mut scan = self
            .live
            .scan(window, &mut |event| live.push(event.clone()))?;
        let index: FxHashMap<String, usize> = live
            .iter()
            .enumerate()
            .map(|(i, e)| (ledger_key(e), i))
            .collect();
        let mut only_held = 0u64;
        for event in held_in_window {
            match index.get(&ledger_key(event)) {
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
