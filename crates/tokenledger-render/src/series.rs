//! Report rows shaped for charts. One place decides the time buckets, fills
//! the gaps and folds small models into "other", so the terminal chart, the
//! SVG charts and the PNG always agree.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, ToSpan};
use tokenledger_core::aggregate::Row;
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;

/// Up to this span (25 h: a 24 h window plus the partial hour at each end)
/// the chart shows hours; up to `MAX_DAYS` days, days; beyond, months.
const MAX_HOURLY_SECONDS: i64 = 25 * 3600;
const MAX_DAYS: usize = 62;

/// Tokens and cost per time bucket, one series per model (biggest first).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// `Hour`, `Day`, `Week` or `Month`.
    pub unit: GroupKey,
    /// Bucket labels in time order, empty buckets included: `2026-02-06T09:00`,
    /// `2026-02-06` or `2026-02`, as the report's tables print them.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// Per bucket, aligned with `TimeSeries::labels`.
    pub tokens: Vec<u64>,
    /// The priced part of the cost per bucket (unpriced models add nothing).
    pub cost: Vec<f64>,
}

impl TimeSeries {
    /// Total tokens per bucket over all series.
    pub fn bucket_tokens(&self) -> Vec<u64> {
        (0..self.labels.len())
            .map(|i| self.series.iter().map(|s| s.tokens[i]).sum())
            .collect()
    }
}

/// One entry of a top list (agents, tasks, sessions, models).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub tokens: u64,
    /// The priced part of the cost.
    pub cost: f64,
    /// Whether some of the entry's usage has no known price.
    pub partly_unpriced: bool,
}

/// Usage over time, split by model when the data allows; `None` when the
/// report has no grouping with a time key. At most `max_series` series: the
/// smallest models beyond that are summed into `other (N models)`.
pub fn over_time(data: &ReportData, max_series: usize) -> Option<TimeSeries> {
    let (keys, rows) = time_grouping(data)?;
    let time_index = keys.iter().position(|k| k.is_time())?;
    let base = keys[time_index];
    let model_index = keys.iter().position(|&k| k == GroupKey::Model);
    let unit = unit_for(data, base, rows, time_index);
    let bucket = |row: &Row| -> Option<String> {
        let label = row.keys.get(time_index)?.1.as_str();
        Some(coarsen(label, base, unit).to_string())
    };
    let mut labels: Vec<String> = rows.iter().filter_map(bucket).collect();
    labels.sort();
    labels.dedup();
    let labels = fill_gaps(data, unit, labels);
    let position = |label: &str| labels.binary_search_by(|l| l.as_str().cmp(label)).ok();

    let mut series: Vec<Series> = Vec::new();
    for row in rows {
        let Some(at) = bucket(row).and_then(|b| position(&b)) else {
            continue;
        };
        let name = match model_index.and_then(|i| row.keys.get(i)) {
            Some((_, model)) => display_name(model),
            None => "tokens".to_string(),
        };
        let index = match series.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                series.push(Series {
                    name,
                    tokens: vec![0; labels.len()],
                    cost: vec![0.0; labels.len()],
                });
                series.len() - 1
            }
        };
        let s = &mut series[index];
        s.tokens[at] = s.tokens[at].saturating_add(row.measures.tokens.total());
        s.cost[at] += row.measures.priced_cost_usd;
    }
    let total = |s: &Series| s.tokens.iter().sum::<u64>();
    series.sort_by(|a, b| total(b).cmp(&total(a)).then_with(|| a.name.cmp(&b.name)));
    fold_other(&mut series, max_series.max(1));
    Some(TimeSeries {
        unit,
        labels,
        series,
    })
}

/// Tokens and priced cost per hour of the day (0–23), summed over the days
/// in the report; `None` without an hourly grouping.
pub fn hour_of_day(data: &ReportData) -> Option<[(u64, f64); 24]> {
    let (keys, rows) = data
        .groupings
        .iter()
        .find(|(keys, _)| keys.contains(&GroupKey::Hour))?;
    let index = keys.iter().position(|&k| k == GroupKey::Hour)?;
    let mut hours = [(0u64, 0.0f64); 24];
    for row in rows {
        let Some(hour) = row
            .keys
            .get(index)
            .and_then(|(_, label)| label.split_once('T'))
            .and_then(|(_, time)| time.get(..2))
            .and_then(|h| h.parse::<usize>().ok())
            .filter(|h| *h < 24)
        else {
            continue;
        };
        hours[hour].0 = hours[hour].0.saturating_add(row.measures.tokens.total());
        hours[hour].1 += row.measures.priced_cost_usd;
    }
    Some(hours)
}

/// The `n` biggest entries of the grouping by `key` alone (by tokens), plus
/// one entry summing the rest; `None` when the report lacks that grouping.
pub fn top(data: &ReportData, key: GroupKey, n: usize) -> Option<Vec<Item>> {
    let (_, rows) = data.groupings.iter().find(|(keys, _)| keys == &[key])?;
    let mut items: Vec<Item> = rows
        .iter()
        .map(|row| Item {
            name: row
                .keys
                .first()
                .map_or_else(String::new, |(_, v)| display_name(v)),
            tokens: row.measures.tokens.total(),
            cost: row.measures.priced_cost_usd,
            partly_unpriced: !row.measures.unpriced_models.is_empty(),
        })
        .collect();
    items.sort_by(|a, b| b.tokens.cmp(&a.tokens).then_with(|| a.name.cmp(&b.name)));
    if items.len() > n {
        let rest = items.split_off(n.saturating_sub(1));
        items.push(Item {
            name: format!("{} others", rest.len()),
            tokens: rest.iter().map(|i| i.tokens).sum(),
            cost: rest.iter().map(|i| i.cost).sum(),
            partly_unpriced: rest.iter().any(|i| i.partly_unpriced),
        });
    }
    Some(items)
}

/// An empty key value (no task, say) reads `(none)`, as in the tables.
fn display_name(value: &str) -> String {
    if value.is_empty() {
        "(none)".to_string()
    } else {
        value.to_string()
    }
}

/// The grouping to chart: one time key, preferably with the model beside it
/// and nothing else. The `--by` grouping wins when it is week or month,
/// since the person asked for those buckets.
fn time_grouping(data: &ReportData) -> Option<(&[GroupKey], &[Row])> {
    let user = data.group_by();
    if user.iter().filter(|k| k.is_time()).count() == 1
        && user
            .iter()
            .any(|k| matches!(k, GroupKey::Week | GroupKey::Month))
    {
        return data.groupings.first().map(|(k, r)| (&k[..], &r[..]));
    }
    let one_time_key = |keys: &&Vec<GroupKey>| keys.iter().filter(|k| k.is_time()).count() == 1;
    let rank = |keys: &Vec<GroupKey>| {
        let by_model = keys.len() == 2 && keys.contains(&GroupKey::Model);
        let fine = keys.contains(&GroupKey::Hour);
        (!by_model, !fine, keys.len())
    };
    data.groupings
        .iter()
        .filter(|(keys, _)| one_time_key(&keys))
        .min_by_key(|(keys, _)| rank(keys))
        .map(|(k, r)| (&k[..], &r[..]))
}

/// Hours for a day or less, days up to two months, months beyond; never
/// finer than the data nor than `--by day`.
fn unit_for(data: &ReportData, base: GroupKey, rows: &[Row], time_index: usize) -> GroupKey {
    if matches!(base, GroupKey::Week | GroupKey::Month) {
        return base;
    }
    let span = match (data.window.since, data.window.until) {
        (Some(since), Some(until)) => until.as_second().saturating_sub(since.as_second()),
        _ => {
            let times: Vec<DateTime> = rows
                .iter()
                .filter_map(|r| parse_label(&r.keys.get(time_index)?.1))
                .collect();
            match (times.iter().min(), times.iter().max()) {
                (Some(first), Some(last)) => last
                    .duration_since(*first)
                    .as_secs()
                    .saturating_add(if base == GroupKey::Day { 86_400 } else { 3600 }),
                _ => 0,
            }
        }
    };
    // Days asked for with `--by day` stay days, however short the window.
    let wants_days = data.group_by().contains(&GroupKey::Day);
    if base == GroupKey::Hour && span <= MAX_HOURLY_SECONDS && !wants_days {
        GroupKey::Hour
    } else if span <= (MAX_DAYS as i64) * 86_400 {
        GroupKey::Day
    } else {
        GroupKey::Month
    }
}

/// A bucket label of `base` turned into the label of the coarser `unit`:
/// `2026-02-06T09:00` → `2026-02-06` → `2026-02`.
fn coarsen(label: &str, base: GroupKey, unit: GroupKey) -> &str {
    if base == unit {
        return label;
    }
    let day = label.split('T').next().unwrap_or(label);
    match unit {
        GroupKey::Day => day,
        GroupKey::Month => day.rsplit_once('-').map_or(day, |(month, _)| month),
        _ => label,
    }
}

fn parse_label(label: &str) -> Option<DateTime> {
    match label.len() {
        10 => format!("{label}T00:00").parse().ok(),
        _ => label.parse().ok(),
    }
}

/// Every hour or day between the window's ends (or the data's, for an
/// unbounded window), so a quiet stretch shows as a gap, not as nothing.
fn fill_gaps(data: &ReportData, unit: GroupKey, labels: Vec<String>) -> Vec<String> {
    let (step, format) = match unit {
        GroupKey::Hour => (1.hour(), "%Y-%m-%dT%H:00"),
        GroupKey::Day => (1.day(), "%Y-%m-%d"),
        _ => return labels,
    };
    let floor = |t: DateTime| match unit {
        GroupKey::Hour => t.date().at(t.hour(), 0, 0, 0),
        _ => t.date().at(0, 0, 0, 0),
    };
    let tz = TimeZone::get(&data.tz_name).unwrap_or(TimeZone::UTC);
    let local = |ts: jiff::Timestamp| floor(ts.to_zoned_datetime(tz.clone()).datetime());
    let (first, last) = match (data.window.since, data.window.until) {
        (Some(since), Some(until)) => (
            local(since),
            local(
                until
                    .checked_sub(SignedDuration::from_secs(1))
                    .unwrap_or(until),
            ),
        ),
        _ => match (
            labels.first().and_then(|l| parse_label(l)),
            labels.last().and_then(|l| parse_label(l)),
        ) {
            (Some(first), Some(last)) => (first, last),
            _ => return labels,
        },
    };
    let mut filled = Vec::new();
    let mut at = first;
    while at <= last && filled.len() <= MAX_DAYS * 24 {
        filled.push(at.strftime(format).to_string());
        let Ok(next) = at.checked_add(step) else {
            break;
        };
        at = next;
    }
    // Rows outside the computed range (a clock skew, say) are never dropped.
    filled.extend(labels);
    filled.sort();
    filled.dedup();
    filled
}

/// Keeps the `max - 1` biggest series and sums the rest into one.
fn fold_other(series: &mut Vec<Series>, max: usize) {
    if series.len() <= max {
        return;
    }
    let rest = series.split_off(max - 1);
    let len = series.first().map_or(0, |s| s.tokens.len());
    let mut other = Series {
        name: format!("other ({} models)", rest.len()),
        tokens: vec![0; len],
        cost: vec![0.0; len],
    };
    for s in &rest {
        for i in 0..len {
            other.tokens[i] = other.tokens[i].saturating_add(s.tokens[i]);
            other.cost[i] += s.cost[i];
        }
    }
    series.push(other);
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
