//! The report engine: sources in, grouped rows out, ready for any renderer.

use crate::aggregate::{Aggregator, Measures, Row};
use crate::error::{Result, Warning};
use crate::pricing::PriceTable;
use crate::query::{Filters, GroupKey, TimeWindow};
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
    let mut aggregator = Aggregator::new(prices, spec.filters, spec.tz, spec.groupings.clone());
    let mut warnings = Vec::new();
    let preferred = |source: &&dyn Source| match spec.prefer {
        Prefer::Log => !source.kind().is_session_level(),
        Prefer::Register => source.kind().is_session_level(),
    };
    let (first, second): (Vec<&dyn Source>, Vec<&dyn Source>) =
        sources.iter().copied().partition(preferred);
    let mut shadowing: FxHashSet<u64> = FxHashSet::default();
    for source in first {
        let scan = source.scan(&spec.window, &mut |event| {
            shadowing.insert(session_hash(&event.session));
            aggregator.add(event)
        })?;
        warnings.extend(scan.warnings);
    }
    for source in second {
        let scan = source.scan(&spec.window, &mut |event| {
            if shadowing.is_empty() || !shadowing.contains(&session_hash(&event.session)) {
                aggregator.add(event)
            }
        })?;
        warnings.extend(scan.warnings);
    }
    let (totals, rows) = aggregator.finish();
    Ok(ReportData {
        generated_at: now,
        window: spec.window,
        tz_name: spec.tz_name,
        totals,
        groupings: spec.groupings.into_iter().zip(rows).collect(),
        warnings,
    })
}

fn session_hash(session: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(session.as_bytes())
}
