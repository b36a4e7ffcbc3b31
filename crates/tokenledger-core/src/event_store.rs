//! Where a collector keeps normalized usage events: the embedded file store
//! by default, PostgreSQL for a fleet. Both sit behind this one trait, so the
//! server, `migrate` and the tests do not care which one they talk to.
//!
//! Blocking on purpose: the file store is plain file I/O, and the server
//! calls stores from `spawn_blocking`, so one trait serves both worlds.

use crate::error::Result;
use crate::event::{TokenCounts, UsageEvent};
use crate::pricing::PriceTable;
use crate::report::{ReportData, ReportSpec};
use jiff::Timestamp;

/// What one insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inserted {
    /// Events stored now.
    pub accepted: u64,
    /// Events already stored (same identity): nothing written for them.
    pub duplicates: u64,
}

pub trait EventStore: Send + Sync {
    /// Stores each event not stored yet, all or nothing: when this returns
    /// `Ok`, every accepted event is durable; when it returns `Err`, none of
    /// this batch is visible. Identity is the event's dedupe key, or for
    /// session-level events (the register's) its source and session.
    fn insert(&self, events: &[UsageEvent]) -> Result<Inserted>;
    /// The report `spec` asks for, over the stored events, priced with `prices`.
    fn report(&self, spec: &ReportSpec, prices: &PriceTable, now: Timestamp) -> Result<ReportData>;
    /// Where the events live, for messages (never with a password).
    fn describe(&self) -> String;
    /// The summed tokens and reported cost of every stored event whose dedupe
    /// key starts with `prefix`, or `None` when this store cannot tell. The
    /// collector rebuilds a cumulative OTLP counter's last value from what it
    /// stored for that series, so a restart never counts a total twice.
    /// Claims the run of scheduled job `job` due at `due`: `true` for the
    /// first caller among every collector sharing this store, `false` for
    /// all later ones, so a job runs once per due time. A claimed run that
    /// then fails is not retried (at most once: a digest or alert sent twice
    /// is worse than one missed, which the log reports).
    fn claim_run(&self, job: &str, due: Timestamp) -> Result<bool>;
    fn totals_by_key_prefix(&self, prefix: &str) -> Result<Option<(TokenCounts, f64)>> {
        let _ = prefix;
        Ok(None)
    }
}
