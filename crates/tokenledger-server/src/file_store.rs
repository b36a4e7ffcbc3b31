//! The embedded file store: the home's `ledger.jsonl`, held open by the
//! collector. Inserts go through the ledger's lock and are durable before
//! they are acknowledged. Memory does not grow with what is stored: only
//! the events' 128-bit identities (for dedupe) and the running totals of
//! cumulative OTLP series stay in memory, and a report streams the ledger
//! (its binary snapshot, then the lines after it) through the core report
//! engine, so the usual merge rules (log or register first) apply as they
//! do locally.

use crate::otlp::prefer::OtelShadow;
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
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

const CUMULATIVE_PREFIX: &str = "otel-cum:";

pub struct FileEventStore {
    held: Mutex<Held>,
    /// A copy of the ledger's location, so reports never wait for inserts.
    ledger: Ledger,
    otel_prefer: OtelPrefer,
    /// Events accepted since the snapshot was last written: past
    /// [`SNAPSHOT_EVERY`], it is written again in the background, so that
    /// reports keep decoding most of the ledger instead of parsing it.
    unsnapshotted: AtomicU64,
    /// One snapshot writer at a time (they would share a temp file).
    snapshotting: Arc<Mutex<()>>,
}

const SNAPSHOT_EVERY: u64 = 20_000;

struct Held {
    ledger: HeldLedger,
    /// Stored totals per cumulative OTLP series (its key prefix), so that the
    /// first point of a series after a restart finds them without a scan.
    cumulative: FxHashMap<String, (TokenCounts, f64)>,
    /// [`HeldLedger::reloads`] when `cumulative` was built.
    built_at: u64,
}

impl Held {
    /// Rebuilds `cumulative` when the held ledger read the file again.
    fn refresh(&mut self) -> Result<()> {
        if self.built_at == self.ledger.reloads() {
            return Ok(());
        }
        let mut cumulative = FxHashMap::default();
        self.ledger
            .ledger()
            .stream(&mut |e| add_cumulative(&mut cumulative, e))?;
        self.cumulative = cumulative;
        self.built_at = self.ledger.reloads();
        Ok(())
    }
}

fn add_cumulative(totals: &mut FxHashMap<String, (TokenCounts, f64)>, event: &UsageEvent) {
    let Some(key) = event.dedupe_key.as_deref() else {
        return;
    };
    if let Some(series) = key
        .strip_prefix(CUMULATIVE_PREFIX)
        .and_then(|_| key.rfind(':').map(|end| &key[..=end]))
    {
        let entry = totals.entry(series.to_string()).or_default();
        entry.0.add(&event.tokens);
        entry.1 += event.reported_cost.unwrap_or(0.0);
    }
}

impl FileEventStore {
    pub fn open(home: &Path, otel_prefer: OtelPrefer) -> Result<FileEventStore> {
        let mut held = Held {
            ledger: HeldLedger::open(Ledger::in_home(home))?,
            cumulative: FxHashMap::default(),
            built_at: 0,
        };
        held.refresh()?;
        Ok(FileEventStore {
            held: Mutex::new(held),
            ledger: Ledger::in_home(home),
            otel_prefer,
            unsnapshotted: AtomicU64::new(0),
            snapshotting: Arc::new(Mutex::new(())),
        })
    }

    /// Writes the ledger's snapshot so the next start loads fast (on
    /// shutdown), after any write already under way.
    pub fn save_snapshot(&self) -> Result<()> {
        let _one = self.snapshotting.lock().unwrap_or_else(|e| e.into_inner());
        self.ledger.refresh_snapshot_streaming()
    }

    /// A panic while holding the lock cannot leave the ledger half-updated
    /// (the file is the record), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot_in_background(&self, accepted: u64) {
        let pending = self.unsnapshotted.fetch_add(accepted, Ordering::Relaxed) + accepted;
        if pending < SNAPSHOT_EVERY {
            return;
        }
        self.unsnapshotted.store(0, Ordering::Relaxed);
        let (ledger, one) = (self.ledger.clone(), self.snapshotting.clone());
        std::thread::spawn(move || {
            if let Ok(_one) = one.try_lock() {
                // A snapshot only buys speed; the ledger is the record.
                let _ = ledger.refresh_snapshot_streaming();
                crate::memory::give_back_freed();
            }
        });
    }
}

impl EventStore for FileEventStore {
    fn insert(&self, events: &[UsageEvent]) -> Result<Inserted> {
        let inserted = {
            let mut guard = self.lock();
            let held = &mut *guard;
            let inserted = held
                .ledger
                .insert_with(events, |e| add_cumulative(&mut held.cumulative, e))?;
            held.refresh()?;
            inserted
        };
        self.snapshot_in_background(inserted.accepted);
        Ok(inserted)
    }

    fn report(
        &self,
        spec: &ReportSpec,
        prices: &PriceTable,
        now: jiff::Timestamp,
    ) -> Result<ReportData> {
        let mut shadow = OtelShadow::empty(self.otel_prefer);
        self.ledger.stream(&mut |e| shadow.observe(e))?;
        // Two passes, not one per kind: the engine needs only to tell the
        // session-level kinds (register) from the per-request ones.
        let sources = [false, true].map(|session_level| Streamed {
            session_level,
            ledger: &self.ledger,
            shadow: &shadow,
        });
        let refs: Vec<&dyn Source> = sources.iter().map(|s| s as &dyn Source).collect();
        let report = report::run(&refs, prices, spec.clone(), now);
        crate::memory::give_back_freed();
        report
    }

    fn describe(&self) -> String {
        self.ledger.path().display().to_string()
    }

    fn claim_run(&self, job: &str, due: jiff::Timestamp) -> Result<bool> {
        let home = self.ledger.path().parent().unwrap_or(Path::new("."));
        tokenledger_core::schedule::claim_run_in(home, job, due)
    }

    fn totals_by_key_prefix(&self, prefix: &str) -> Result<Option<(TokenCounts, f64)>> {
        if prefix.starts_with(CUMULATIVE_PREFIX) && prefix.ends_with(':') {
            let mut held = self.lock();
            held.refresh()?;
            return Ok(Some(
                held.cumulative.get(prefix).copied().unwrap_or_default(),
            ));
        }
        let mut totals = (TokenCounts::default(), 0.0);
        self.ledger.stream(&mut |event| {
            if event
                .dedupe_key
                .as_deref()
                .is_some_and(|k| k.starts_with(prefix))
            {
                totals.0.add(&event.tokens);
                totals.1 += event.reported_cost.unwrap_or(0.0);
            }
        })?;
        Ok(Some(totals))
    }
}

/// The ledger's events of the session-level kinds, or of the others, as a
/// source the report engine reads.
struct Streamed<'a> {
    session_level: bool,
    ledger: &'a Ledger,
    shadow: &'a OtelShadow,
}

impl Source for Streamed<'_> {
    fn kind(&self) -> SourceKind {
        // What the engine asks a kind for is whether it is session-level.
        if self.session_level {
            SourceKind::Register
        } else {
            SourceKind::Otel
        }
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let mut scan = SourceScan::default();
        let streamed = self.ledger.stream(&mut |event| {
            if event.source.is_session_level() == self.session_level
                && window.contains(event.timestamp)
                && !self.shadow.hides(event)
            {
                scan.events += 1;
                sink(event);
            }
        })?;
        // The ledger's warnings once, not once per pass.
        if !self.session_level {
            scan.warnings = streamed.warnings;
        }
        Ok(scan)
    }
}
