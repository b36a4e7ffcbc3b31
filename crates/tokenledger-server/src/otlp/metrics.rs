//! OTLP metrics to usage events. Points of one request that share their
//! series attributes (all but the token type) and time describe the
//! same requests, so they become one event: Claude Code's token counters by
//! type and its cost counter together make one event with a reported cost.
//!
//! Delta points are stored as they are, keyed by series and time.
//! Cumulative points are stored as the difference from what is already
//! stored for their series: the store itself is the state (see
//! [`Cumulative`]), so a restart neither loses nor double counts a total.

use super::attrs::{self, Attrs, canonical, hash};
use super::families::{self, Family, FieldOf, Raw};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};

const DELTA: i32 = 1;
const CUMULATIVE: i32 = 2;

/// One event to be: its identity, and for cumulative series the prefix of
/// the series' keys with the running totals the point reports.
pub struct Mapped {
    pub event: UsageEvent,
    /// `Some((series prefix, cumulative tokens, cumulative cost))`.
    pub cumulative: Option<(String, TokenCounts, Option<f64>)>,
}

#[derive(Default)]
pub struct Outcome {
    pub mapped: Vec<Mapped>,
    pub rejected: u64,
    pub errors: Vec<String>,
}

struct Group<'a> {
    family: Family,
    temporality: i32,
    time: u64,
    own: &'a [KeyValue],
    resource: &'a [KeyValue],
    series: String,
    raw: Raw,
}

/// Maps every usage point of `request`; other metrics are ignored.
pub fn map(request: &ExportMetricsServiceRequest, prefix: Option<&str>) -> Outcome {
    let mut outcome = Outcome::default();
    // Ordered, so cumulative points of one series apply oldest first.
    let mut groups: BTreeMap<(String, u64), Group<'_>> = BTreeMap::new();
    for rm in &request.resource_metrics {
        let resource = rm.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let resource_id = canonical(resource, &[]);
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let Some((family, field_of)) = families::metric(&metric.name) else {
                continue;
            };
            let type_keys: &[&str] = match &field_of {
                FieldOf::Attribute(keys, _) => keys,
                FieldOf::Fixed(_) => &[],
            };
            for point in points(metric.data.as_ref()) {
                let attrs = Attrs {
                    own: point.attributes,
                    resource,
                };
                let field = match &field_of {
                    FieldOf::Fixed(field) => Some(*field),
                    FieldOf::Attribute(keys, vocabulary) => {
                        attrs.first_str(keys).and_then(|t| vocabulary(&t))
                    }
                };
                let Some(field) = field else { continue };
                if let Err(reason) = check(&point) {
                    outcome.rejected += 1;
                    outcome.errors.push(format!("{}: {reason}", metric.name));
                    continue;
                }
                let own = canonical(point.attributes, type_keys);
                // Not the start time: SDKs start each instrument (tokens by
                // type, cost) at its own instant, yet their points at one
                // time describe the same requests. A cumulative series that
                // restarts under the same attributes counts again only once
                // it passes its old total (Claude Code's carry `session.id`).
                let series = hash(&[family.name(), &resource_id, &own]);
                let group = groups
                    .entry((series.clone(), point.time))
                    .or_insert_with(|| Group {
                        family,
                        temporality: point.temporality,
                        time: point.time,
                        own: point.attributes,
                        resource,
                        series,
                        raw: Raw::default(),
                    });
                group.raw.add(field, point.value);
            }
        }
    }
    for group in groups.into_values() {
        match to_event(&group, prefix) {
            Ok(mapped) => outcome.mapped.push(mapped),
            Err(reason) => {
                outcome.rejected += 1;
                outcome.errors.push(reason);
            }
        }
    }
    outcome
}

fn to_event(group: &Group<'_>, prefix: Option<&str>) -> Result<Mapped, String> {
    let attrs = Attrs {
        own: group.own,
        resource: group.resource,
    };
    let id = attrs::identity(&attrs, prefix)?;
    let timestamp = attrs::time(group.time).ok_or("a data point has no valid timeUnixNano")?;
    let tokens = group.raw.tokens(group.family);
    let cost = group.raw.cost();
    let (key, cumulative) = if group.temporality == CUMULATIVE {
        let series = format!("otel-cum:{}:{}:", group.family.name(), group.series);
        let key = format!("{series}{}", group.time);
        (key, Some((series, tokens, cost)))
    } else {
        let key = format!(
            "otel-metric:{}:{}:{}",
            group.family.name(),
            group.series,
            group.time
        );
        (key, None)
    };
    Ok(Mapped {
        event: UsageEvent {
            timestamp,
            source: SourceKind::Otel,
            agent_id: id.agent_id,
            session: id.session,
            model: id.model,
            tokens,
            fast: attrs.str("speed").as_deref() == Some("fast"),
            reported_cost: cost,
            task: None,
            project: None,
            origin: attrs.str("service.name").map(|s| s.as_str().into()),
            dedupe_key: Some(key.into()),
        },
        cumulative,
    })
}

struct Point<'a> {
    attributes: &'a [KeyValue],
    time: u64,
    value: f64,
    temporality: i32,
}

fn check(point: &Point<'_>) -> Result<(), String> {
    if !(point.value.is_finite() && point.value >= 0.0) {
        return Err(format!("value {} is negative or not finite", point.value));
    }
    if point.temporality != DELTA && point.temporality != CUMULATIVE {
        return Err("aggregation temporality is unspecified".into());
    }
    Ok(())
}

/// The points of a counter or histogram (its sum); gauges carry no usage.
fn points(data: Option<&Data>) -> Vec<Point<'_>> {
    match data {
        Some(Data::Sum(sum)) => sum
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time: p.time_unix_nano,
                value: match p.value {
                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                    Some(number_data_point::Value::AsDouble(d)) => d,
                    None => f64::NAN,
                },
                temporality: sum.aggregation_temporality,
            })
            .collect(),
        Some(Data::Histogram(h)) => h
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time: p.time_unix_nano,
                value: p.sum.unwrap_or(f64::NAN),
                temporality: h.aggregation_temporality,
            })
            .collect(),
        Some(Data::ExponentialHistogram(h)) => h
            .data_points
            .iter()
            .map(|p| Point {
                attributes: &p.attributes,
                time: p.time_unix_nano,
                value: p.sum.unwrap_or(f64::NAN),
                temporality: h.aggregation_temporality,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The running totals already stored per cumulative series (tokens, cost),
/// filled from the store the first time a series is seen after a start.
#[derive(Default)]
pub struct Cumulative {
    totals: FxHashMap<String, (TokenCounts, f64)>,
}

impl Cumulative {
    /// Turns cumulative points into the difference from what is stored.
    /// Points that add nothing are dropped. Returns the events and the
    /// totals to commit once they are stored.
    pub fn resolve(
        &self,
        mapped: Vec<Mapped>,
        stored: &mut dyn FnMut(&str) -> (TokenCounts, f64),
    ) -> (Vec<UsageEvent>, FxHashMap<String, (TokenCounts, f64)>) {
        let mut working: FxHashMap<String, (TokenCounts, f64)> = FxHashMap::default();
        let mut events = Vec::with_capacity(mapped.len());
        for Mapped {
            mut event,
            cumulative,
        } in mapped
        {
            let Some((series, now, cost)) = cumulative else {
                events.push(event);
                continue;
            };
            let before = match working.get(&series).or_else(|| self.totals.get(&series)) {
                Some(t) => *t,
                None => stored(&series),
            };
            let (delta, delta_cost) = difference(&now, cost.unwrap_or(0.0), &before);
            let mut after = before;
            after.0.add(&delta);
            after.1 += delta_cost;
            working.insert(series, after);
            if delta.total() == 0 && delta.reasoning == 0 && delta_cost <= 0.0 {
                continue;
            }
            event.tokens = delta;
            event.reported_cost = cost.map(|_| delta_cost);
            events.push(event);
        }
        (events, working)
    }

    pub fn commit(&mut self, totals: FxHashMap<String, (TokenCounts, f64)>) {
        self.totals.extend(totals);
    }
}

/// `now - before`, field by field. A total that went down (a point out of
/// order, or an exporter that restarted under the same attributes) adds
/// nothing rather than counting anything twice.
fn difference(now: &TokenCounts, cost: f64, before: &(TokenCounts, f64)) -> (TokenCounts, f64) {
    let (b, b_cost) = before;
    let delta = TokenCounts {
        input: now.input.saturating_sub(b.input),
        output: now.output.saturating_sub(b.output),
        cache_read: now.cache_read.saturating_sub(b.cache_read),
        cache_write_5m: now.cache_write_5m.saturating_sub(b.cache_write_5m),
        cache_write_1h: now.cache_write_1h.saturating_sub(b.cache_write_1h),
        reasoning: now.reasoning.saturating_sub(b.reasoning),
    };
    (delta, (cost - b_cost).max(0.0))
}
