//! The embedded file store: the home's `ledger.jsonl`, held open by the
//! collector. Inserts go through the ledger's lock and are durable before
//! they are acknowledged; reports run the core report engine over the
//! events held in memory, one source per kind, so the usual merge rules
//! (log or register first) apply as they do to a local report.

use crate::otlp::prefer::OtelShadow;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tokenledger_core::error::Result;
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::event_store::{EventStore, Inserted};
use tokenledger_core::ledger::{HeldLedger, Ledger};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::report::{self, ReportData, ReportSpec};
use tokenledger_core::server_config::OtelPrefer;
use tokenledger_core::source::{Source, SourceScan};

pub struct FileEventStore {
    held: Mutex<HeldLedger>,
    otel_prefer: OtelPrefer,
}

impl FileEventStore {
    pub fn open(home: &Path, otel_prefer: OtelPrefer) -> Result<FileEventStore> {
        Ok(FileEventStore {
            held: Mutex::new(HeldLedger::open(Ledger::in_home(home))?),
            otel_prefer,
        })
    }

    /// Writes the ledger's snapshot so the next start loads fast (on shutdown).
    pub fn save_snapshot(&self) -> Result<()> {
        self.lock().save_snapshot()
    }

    /// A panic while holding the lock cannot leave the ledger half-updated
    /// (the file is the record), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HeldLedger> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl EventStore for FileEventStore {
    fn insert(&self, events: &[UsageEvent]) -> Result<Inserted> {
        self.lock().insert(events)
    }

    fn report(
        &self,
        spec: &ReportSpec,
        prices: &PriceTable,
        now: jiff::Timestamp,
    ) -> Result<ReportData> {
        let batches = self.lock().batches();
        let shadow = OtelShadow::new(self.otel_prefer, batches.iter().flat_map(|b| b.iter()));
        let sources: Vec<Held<'_>> = SourceKind::ALL
            .into_iter()
            .map(|kind| Held {
                kind,
                batches: &batches,
                shadow: &shadow,
            })
            .collect();
        let refs: Vec<&dyn Source> = sources.iter().map(|s| s as &dyn Source).collect();
        report::run(&refs, prices, spec.clone(), now)
    }

    fn describe(&self) -> String {
        self.lock().ledger().path().display().to_string()
    }

    fn claim_run(&self, job: &str, due: jiff::Timestamp) -> Result<bool> {
        let ledger = self.lock().ledger().path().to_path_buf();
        let home = ledger.parent().unwrap_or(Path::new("."));
        tokenledger_core::schedule::claim_run_in(home, job, due)
    }

    fn totals_by_key_prefix(&self, prefix: &str) -> Result<Option<(TokenCounts, f64)>> {
        let batches = self.lock().batches();
        let mut tokens = TokenCounts::default();
        let mut cost = 0.0;
        for event in batches.iter().flat_map(|b| b.iter()) {
            if event
                .dedupe_key
                .as_deref()
                .is_some_and(|k| k.starts_with(prefix))
            {
                tokens.add(&event.tokens);
                cost += event.reported_cost.unwrap_or(0.0);
            }
        }
        Ok(Some((tokens, cost)))
    }
}

/// The held events of one kind, as a source the report engine reads.
struct Held<'a> {
    kind: SourceKind,
    batches: &'a [Arc<[UsageEvent]>],
    shadow: &'a OtelShadow,
}

impl Source for Held<'_> {
    fn kind(&self) -> SourceKind {
        self.kind
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let mut scan = SourceScan::default();
        for event in self.batches.iter().flat_map(|b| b.iter()) {
            if event.source == self.kind
                && window.contains(event.timestamp)
                && !self.shadow.hides(event)
            {
                scan.events += 1;
                sink(event);
            }
        }
        Ok(scan)
    }
}
