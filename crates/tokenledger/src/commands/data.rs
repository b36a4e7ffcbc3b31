//! Where a report's events come from: this machine's sources (the CLI), or
//! a collector's event store (the jobs `serve` runs on its schedule). Both
//! go through the same report, digest and budget code.

use tokenledger_core::budget::{self, BudgetStatus};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::Filters;
use tokenledger_core::report::{self, ReportData, ReportSpec};
use tokenledger_core::session::SessionState;
use tokenledger_core::source::Source;

pub enum Data<'a> {
    Sources(&'a [&'a dyn Source]),
    Store(&'a dyn EventStore),
}

impl Data<'_> {
    pub fn report(
        &self,
        prices: &PriceTable,
        spec: ReportSpec,
        now: jiff::Timestamp,
    ) -> tokenledger_core::Result<ReportData> {
        match self {
            Data::Sources(sources) => report::run(sources, prices, spec, now),
            Data::Store(store) => store.report(&spec, prices, now),
        }
    }

    /// Running sessions, which only the agents' own session records show; a
    /// store keeps events, not those records, so it knows of none.
    pub fn session_states(
        &self,
        filters: &Filters,
        warnings: &mut Vec<tokenledger_core::error::Warning>,
    ) -> Vec<SessionState> {
        match self {
            Data::Sources(sources) => report::session_states(sources, filters, warnings),
            Data::Store(_) => Vec::new(),
        }
    }

    /// Every budget measured at `now` (see `budget::evaluate`).
    pub fn budgets(
        &self,
        prices: &PriceTable,
        budgets: &[budget::BudgetConfig],
        tz: &jiff::tz::TimeZone,
        prefer: report::Prefer,
        now: jiff::Timestamp,
    ) -> tokenledger_core::Result<Vec<BudgetStatus>> {
        match self {
            Data::Sources(sources) => budget::evaluate(sources, prices, budgets, tz, prefer, now),
            Data::Store(store) => budget::evaluate_with(budgets, tz, prefer, now, |specs| {
                specs
                    .iter()
                    .map(|spec| store.report(spec, prices, now))
                    .collect()
            }),
        }
    }
}
