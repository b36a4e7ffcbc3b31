//! `report --check`: sessions that the register and an agent's log both
//! describe, whose totals disagree. The register holds what an agent said it
//! used; the log holds what the API billed.

use crate::error::{Result, Warning};
use crate::event::{SourceKind, TokenCounts, UsageEvent};
use crate::query::TimeWindow;
use crate::source::Source;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// One session whose register and log totals differ by more than the tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct Discrepancy {
    pub session: Arc<str>,
    pub log_kind: SourceKind,
    pub register: TokenCounts,
    pub log: TokenCounts,
    /// (register − log) / log, as a percentage of the log's total.
    pub difference_percent: f64,
}

#[derive(Debug, Default)]
pub struct Reconciliation {
    /// Sessions found in both the register and a log.
    pub compared: u64,
    pub discrepancies: Vec<Discrepancy>,
    pub warnings: Vec<Warning>,
}

/// Compares total tokens (input, output and cache) per session; `tolerance`
/// is a fraction (0.01 for 1%).
pub fn reconcile(
    register: &dyn Source,
    logs: &[&dyn Source],
    window: &TimeWindow,
    tolerance: f64,
) -> Result<Reconciliation> {
    let mut outcome = Reconciliation::default();
    let mut by_log: FxHashMap<Arc<str>, (SourceKind, TokenCounts)> = FxHashMap::default();
    for source in logs {
        let scan = source.scan(window, &mut |event: &UsageEvent| {
            let entry = by_log
                .entry(Arc::clone(&event.session))
                .or_insert((event.source, TokenCounts::default()));
            entry.1.add(&event.tokens);
        })?;
        outcome.warnings.extend(scan.warnings);
    }
    let mut by_register: FxHashMap<Arc<str>, TokenCounts> = FxHashMap::default();
    let scan = register.scan(window, &mut |event: &UsageEvent| {
        if by_log.contains_key(&event.session) {
            by_register
                .entry(Arc::clone(&event.session))
                .or_default()
                .add(&event.tokens);
        }
    })?;
    outcome.warnings.extend(scan.warnings);
    for (session, register) in by_register {
        let (log_kind, log) = by_log[&session];
        outcome.compared += 1;
        let (r, l) = (register.total() as f64, log.total() as f64);
        let difference = if l == 0.0 {
            if r == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (r - l) / l
        };
        if difference.abs() > tolerance {
            outcome.discrepancies.push(Discrepancy {
                session,
                log_kind,
                register,
                log,
                difference_percent: difference * 100.0,
            });
        }
    }
    outcome.discrepancies.sort_by(|a, b| {
        b.difference_percent
            .abs()
            .total_cmp(&a.difference_percent.abs())
    });
    Ok(outcome)
}
