//! The report engine: sources in, grouped rows out, ready for any renderer.

use crate::aggregate::{Aggregator, Measures, Row};
use crate::error::{Result, Warning};
use crate::pricing::PriceTable;
use crate::query::{Filters, GroupKey, TimeWindow};
use crate::source::Source;
use jiff::Timestamp;
use jiff::tz::TimeZone;

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

pub fn run(
    sources: &[&dyn Source],
    prices: &PriceTable,
    spec: ReportSpec,
    now: Timestamp,
) -> Result<ReportData> {
    let mut aggregator = Aggregator::new(prices, spec.filters, spec.tz, spec.groupings.clone());
    let mut warnings = Vec::new();
    for source in sources {
        let scan = source.scan(&spec.window, &mut |event| aggregator.add(event))?;
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
