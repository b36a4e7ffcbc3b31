//! The embedded file store: the home's `ledger.jsonl`, held open by the
//! collector. Inserts go through the ledger's lock and are durable before
//! they are acknowledged. Only the events' identities stay in memory; a
//! report reads the ledger (its binary snapshot plus the lines after it)
//! and runs the core report engine over it, one source per kind, so the
//! usual merge rules (log or register first) apply as they do locally.

use crate::otlp::prefer::OtelShadow;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokenledger_core::error::Result;
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::event_store::{EventStore, Inserted};
use tokenledger_core::ledger::{HeldLedger, Ledger, LedgerEvents};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::report::{self, ReportData, ReportSpec};
use tokenledger_core::server_config::OtelPrefer;
use tokenledger_core::source::{Source, SourceScan};

pub struct FileEventStore {
    held: Mutex<HeldLedger>,
    /// A copy of the ledger's location, so reports never wait for inserts.
    ledger: Ledger,
    otel_prefer: OtelPrefer,
    /// Events accepted since the snapshot was last written: past
    /// [`SNAPSHOT_EVERY`], the next report writes it, so that reports keep
    /// decoding most of the ledger instead of parsing it.
    unsnapshotted: AtomicU64,
}

const SNAPSHOT_EVERY: u64 = 50_000;

impl FileEventStore {
    pub fn open(home: &Path, otel_prefer: OtelPrefer) -> Result<FileEventStore> {
        Ok(FileEventStore {
            held: Mutex::new(HeldLedger::open(Ledger::in_home(home))?),
            ledger: Ledger::in_home(home),
            otel_prefer,
            unsnapshotted: AtomicU64::new(0),
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

    fn load(&self) -> Result<LedgerEvents> {
        let loaded = self.ledger.load()?;
        // Only the caller that takes the count writes, so two reports never
        // write the same temp file.
        let pending = self.unsnapshotted.load(Ordering::Relaxed);
        if pending >= SNAPSHOT_EVERY
            && self
                .unsnapshotted
                .compare_exchange(pending, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // A snapshot only buys speed; the ledger is the record.
            let _ = self.ledger.write_snapshot(&loaded);
        }
        Ok(loaded)
    }
}

impl EventStore for FileEventStore {
    fn insert(&self, events: &[UsageEvent]) -> Result<Inserted> {
        let inserted = self.lock().insert(events)?;
        self.unsnapshotted
            .fetch_add(inserted.accepted, Ordering::Relaxed);
        Ok(inserted)
    }

    fn report(
        &self,
        spec: &ReportSpec,
        prices: &PriceTable,
        now: jiff::Timestamp,
    ) -> Result<ReportData> {
        let loaded = self.load()?;
        let shadow = OtelShadow::new(self.otel_prefer, loaded.events.iter());
        let sources: Vec<Held<'_>> = SourceKind::ALL
            .into_iter()
            .map(|kind| Held {
                kind,
                events: &loaded.events,
                shadow: &shadow,
            })
            .collect();
        let refs: Vec<&dyn Source> = sources.iter().map(|s| s as &dyn Source).collect();
        report::run(&refs, prices, spec.clone(), now)
    }

    fn describe(&self) -> String {
        self.ledger.path().display().to_string()
    }

    fn claim_run(&self, job: &str, due: jiff::Timestamp) -> Result<bool> {
        let home = self.ledger.path().parent().unwrap_or(Path::new("."));
        tokenledger_core::schedule::claim_run_in(home, job, due)
    }

    fn totals_by_key_prefix(&self, prefix: &str) -> Result<Option<(TokenCounts, f64)>> {
        let loaded = self.load()?;
        let mut tokens = TokenCounts::default();
        let mut cost = 0.0;
        for event in &loaded.events {
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

/// The ledger's events of one kind, as a source the report engine reads.
struct Held<'a> {
    kind: SourceKind,
    events: &'a [UsageEvent],
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
        for event in self.events {
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
