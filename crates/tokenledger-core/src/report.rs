//! The report engine: sources in, grouped rows out, ready for any renderer.

use crate::aggregate::{Aggregator, Measures, Row};
use crate::error::{Result, Warning};
use crate::pricing::PriceTable;
use crate::query::{Filters, GroupKey, TimeWindow};
use crate::session::SessionState;
use crate::source::Source;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rustc_hash::FxHashSet;

/// Version of the JSON contract; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub window: TimeWindow,
    pub filters: Filters,
    pub tz: TimeZone,
    /// The IANA name shown in output (`UTC` by default).
    pub tz_name: String,
    /// One or more groupings computed in the same pass over the data.
    pub groupings: Vec<Vec<GroupKey>>,
    /// Which record counts when the register and an agent log describe the same session.
    pub prefer: Prefer,
}

/// The merge rule for a session described twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// The agent's log: per-request data, what the API billed.
    #[default]
    Log,
    /// The register entry, as the seed's report did.
    Register,
}

#[derive(Debug, Clone)]
pub struct ReportData {
    pub generated_at: Timestamp,
    pub window: TimeWindow,
    pub tz_name: String,
    pub totals: Measures,
    pub groupings: Vec<(Vec<GroupKey>, Vec<Row>)>,
    pub warnings: Vec<Warning>,
}

impl ReportData {
    /// Rows of the first grouping (the one `--by` asked for).
    pub fn rows(&self) -> &[Row] {
        self.groupings.first().map_or(&[], |(_, rows)| rows)
    }

    pub fn group_by(&self) -> &[GroupKey] {
        self.groupings.first().map_or(&[], |(keys, _)| keys)
    }
}

/// Runs every source into one aggregation. A session that both the register
/// and an agent log describe is counted once: the preferred side is scanned
/// first and its session keys shadow the other side's events.
pub fn run(
    sources: &[&dyn Source],
    prices: &PriceTable,
    spec: ReportSpec,
    now: Timestamp,
) -> Result<ReportData> {
    let mut reports = run_many(sources, prices, vec![spec], now)?;
    Ok(reports.pop().expect("one report per spec"))
}

/// Several reports (each with its own window, filters and groupings) from
/// one pass over the sources, as [`run`] would give each: budgets need a
/// period's and a burn window's totals each, and scanning the agent logs
/// once per figure multiplied a report's time. All specs share the first
/// one's merge rule.
pub fn run_many(
    sources: &[&dyn Source],
    prices: &PriceTable,
    specs: Vec<ReportSpec>,
    now: Timestamp,
) -> Result<Vec<ReportData>> {
    let Some(prefer) = specs.first().map(|s| s.prefer) else {
        return Ok(Vec::new());
    };
    let mut aggregators: Vec<Aggregator<'_>> = specs
        .iter()
        .map(|s| Aggregator::new(prices, s.filters.clone(), s.tz.clone(), s.groupings.clone()))
        .collect();
    let windows: Vec<TimeWindow> = specs.iter().map(|s| s.window).collect();
    let union = TimeWindow::union(&windows);
    let mut warnings = Vec::new();
    let preferred = |source: &&dyn Source| match prefer {
        Prefer::Log => !source.kind().is_session_level(),
        Prefer::Register => source.kind().is_session_level(),
    };
    let (first, second): (Vec<&dyn Source>, Vec<&dyn Source>) =
        sources.iter().copied().partition(preferred);
    // Per report: the sessions its preferred side showed inside its window.
    let mut shadowing: Vec<FxHashSet<u64>> = vec![FxHashSet::default(); specs.len()];
    for source in first {
        let scan = source.scan(&union, &mut |event| {
            for (i, window) in windows.iter().enumerate() {
                if window.contains(event.timestamp) {
                    shadowing[i].insert(session_hash(&event.session));
                    aggregators[i].add(event);
                }
            }
        })?;
        warnings.extend(scan.warnings);
    }
    for source in second {
        let scan = source.scan(&union, &mut |event| {
            for (i, window) in windows.iter().enumerate() {
                if window.contains(event.timestamp)
                    && (shadowing[i].is_empty()
                        || !shadowing[i].contains(&session_hash(&event.session)))
                {
                    aggregators[i].add(event);
                }
            }
        })?;
        warnings.extend(scan.warnings);
    }
    Ok(specs
        .into_iter()
        .zip(aggregators)
        .map(|(spec, aggregator)| {
            let (totals, rows) = aggregator.finish();
            ReportData {
                generated_at: now,
                window: spec.window,
                tz_name: spec.tz_name,
                totals,
                groupings: spec.groupings.into_iter().zip(rows).collect(),
                warnings: warnings.clone(),
            }
        })
        .collect())
}

/// What the sources record about sessions apart from their events, kept to
/// those the report's filters would let through.
pub fn session_states(
    sources: &[&dyn Source],
    filters: &Filters,
    warnings: &mut Vec<Warning>,
) -> Vec<SessionState> {
    let mut states: Vec<SessionState> = sources
        .iter()
        .flat_map(|source| source.session_states(warnings))
        .filter(|state| state.passes(filters))
        .collect();
    states.sort_by(|a, b| (a.source, &a.session).cmp(&(b.source, &b.session)));
    states
}

fn session_hash(session: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(session.as_bytes())
}
