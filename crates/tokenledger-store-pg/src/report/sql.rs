//! The report's one aggregating query: every grouping, and the totals, as
//! GROUPING SETS over the events the window, the filters and the merge rule
//! let through.
//!
//! Each grouping (and the totals) gets two sets:
//! - priced rows: its keys plus the raw model, fast mode, the long-context
//!   flag and whether the cost was reported. Costs are linear in tokens
//!   within such a row, so Rust prices the row's sums exactly as the core
//!   engine prices its events one by one.
//! - a sessions row: its keys alone, with COUNT(DISTINCT session). Priced
//!   rows are finer than the grouping (one group spans several models), and
//!   distinct counts do not add up across them; this row gives the group's
//!   own count.
//!
//! Keys the core computes in Rust (a model's canonical name, an agent kind)
//! come in as small lookup arrays built from the distinct values in the
//! window, so SQL groups by exactly what the core would group by.

use crate::params::Params;
use std::collections::BTreeSet;
use tokenledger_core::aggregate::Part;
use tokenledger_core::query::{GroupKey, TimeWindow};

/// Columns of the inner select, in GROUPING() order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Col {
    Hour,
    Day,
    Week,
    Month,
    Canon,
    Agent,
    Session,
    Task,
    Project,
    Source,
    AgentKind,
    Origin,
    Model,
    Fast,
    Long,
    Reported,
}

impl Col {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Col::Hour => "k_hour",
            Col::Day => "k_day",
            Col::Week => "k_week",
            Col::Month => "k_month",
            Col::Canon => "k_canon",
            Col::Agent => "k_agent",
            Col::Session => "k_session",
            Col::Task => "k_task",
            Col::Project => "k_project",
            Col::Source => "k_source",
            Col::AgentKind => "k_agent_kind",
            Col::Origin => "k_origin",
            Col::Model => "k_model",
            Col::Fast => "k_fast",
            Col::Long => "k_long",
            Col::Reported => "k_reported",
        }
    }

    /// Time buckets are only grouped on, never read back: the row's latest
    /// timestamp lies in its bucket and the core formats it.
    fn is_time(self) -> bool {
        matches!(self, Col::Hour | Col::Day | Col::Week | Col::Month)
    }

    fn expr(self, tz: &str, whole_request: &str) -> String {
        let bucket = |unit: &str| format!("date_trunc('{unit}', ev.ts AT TIME ZONE {tz}::text)");
        match self {
            Col::Hour => bucket("hour"),
            Col::Day => bucket("day"),
            // PostgreSQL's weeks start on Monday, as the core's do.
            Col::Week => bucket("week"),
            Col::Month => bucket("month"),
            Col::Canon => "m.canon".into(),
            Col::Agent => "ev.agent_id".into(),
            Col::Session => "ev.session".into(),
            Col::Task => "coalesce(ev.task, '')".into(),
            Col::Project => "coalesce(ev.project, '')".into(),
            Col::Source => "ev.source".into(),
            Col::AgentKind => "k.kind".into(),
            Col::Origin => "ev.origin".into(),
            Col::Model => "ev.model".into(),
            Col::Fast => "ev.fast".into(),
            // The core's whole-request rule, per event: the tier applies
            // when this request's prompt passes the model's threshold.
            Col::Long => format!(
                "(ev.reported_cost IS NULL AND ev.source = ANY({whole_request}) AND coalesce(\
                 ev.input::numeric + ev.cache_read + ev.cache_write_5m + ev.cache_write_1h \
                 > m.threshold, false))"
            ),
            Col::Reported => "(ev.reported_cost IS NOT NULL)".into(),
        }
    }
}

/// What a result row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Priced,
    Sessions,
}

fn time_col(key: GroupKey) -> Option<Col> {
    match key {
        GroupKey::Hour => Some(Col::Hour),
        GroupKey::Day => Some(Col::Day),
        GroupKey::Week => Some(Col::Week),
        GroupKey::Month => Some(Col::Month),
        _ => None,
    }
}

fn cols_of(keys: &[GroupKey], kind: Kind) -> BTreeSet<Col> {
    let mut cols = BTreeSet::new();
    for &key in keys {
        let added: &[Col] = match (key, kind) {
            (GroupKey::Model, Kind::Priced) => &[],
            (GroupKey::Model, Kind::Sessions) => &[Col::Canon],
            (GroupKey::Agent, _) => &[Col::Agent],
            (GroupKey::Session, _) => &[Col::Session],
            (GroupKey::Task, _) => &[Col::Task],
            (GroupKey::Project, _) => &[Col::Project],
            (GroupKey::Source, _) => &[Col::Source],
            // Priced rows keep what the core derives the kind from.
            (GroupKey::AgentKind, Kind::Priced) => &[Col::Source, Col::Origin],
            (GroupKey::AgentKind, Kind::Sessions) => &[Col::AgentKind],
            (time, _) => {
                cols.extend(time_col(time));
                &[]
            }
        };
        cols.extend(added.iter().copied());
    }
    if kind == Kind::Priced {
        cols.extend([Col::Model, Col::Fast, Col::Long, Col::Reported]);
    }
    cols
}

/// A grouping set's columns and the (part, kind) rows it feeds.
pub(crate) type Set = (BTreeSet<Col>, Vec<(Part, Kind)>);

/// The grouping sets, each once, with the parts each one feeds.
pub(crate) struct Plan {
    pub(crate) cols: Vec<Col>,
    pub(crate) sets: Vec<Set>,
}

impl Plan {
    pub(crate) fn new(groupings: &[Vec<GroupKey>]) -> Plan {
        let mut sets: Vec<Set> = Vec::new();
        let parts = std::iter::once((Part::Totals, &[][..])).chain(
            (0..)
                .zip(groupings)
                .map(|(i, keys)| (Part::Grouping(i), &keys[..])),
        );
        for (part, keys) in parts {
            for kind in [Kind::Priced, Kind::Sessions] {
                let cols = cols_of(keys, kind);
                match sets.iter_mut().find(|(set, _)| *set == cols) {
                    Some((_, targets)) => targets.push((part, kind)),
                    None => sets.push((cols, vec![(part, kind)])),
                }
            }
        }
        let cols = sets.iter().flat_map(|(set, _)| set.iter().copied());
        let cols: BTreeSet<Col> = cols.collect();
        Plan {
            cols: cols.into_iter().collect(),
            sets,
        }
    }

    pub(crate) fn needs(&self, col: Col) -> bool {
        self.cols.contains(&col)
    }

    /// What GROUPING(cols…) returns for a row of `set`: a bit per column,
    /// the first column highest, set when the column is not grouped.
    pub(crate) fn mask(&self, set: &BTreeSet<Col>) -> i32 {
        let n = self.cols.len();
        self.cols
            .iter()
            .enumerate()
            .filter(|(_, c)| !set.contains(c))
            .fold(0, |mask, (i, _)| mask | 1 << (n - 1 - i))
    }

    pub(crate) fn has_time(&self) -> bool {
        self.cols.iter().any(|c| c.is_time())
    }

    pub(crate) fn value_cols(&self) -> impl Iterator<Item = Col> + '_ {
        self.cols.iter().copied().filter(|c| !c.is_time())
    }
}

/// What the query is about, already bound as parameters.
pub(crate) struct Bound {
    /// Placeholders of the model lookup arrays: raw, canonical, threshold.
    pub(crate) models: [String; 3],
    /// Of the agent-kind lookup arrays: source, origin ('' for none), kind.
    pub(crate) kinds: Option<[String; 3]>,
    pub(crate) tz: String,
    /// Sources whose events are whole sessions / priced per request.
    pub(crate) session_level: String,
    pub(crate) whole_request: String,
    /// Extra conditions from the filters, each starting with AND.
    pub(crate) filters: String,
    /// Whether the preferred side of the merge rule is the session-level one.
    pub(crate) prefer_session_level: bool,
}

/// `AND`-joined conditions keeping `alias`'s rows inside `window`: on the
/// partition key (so whole months are skipped) and on the exact time.
pub(crate) fn window_sql(alias: &str, window: &TimeWindow, params: &mut Params) -> String {
    let mut sql = String::from("TRUE");
    let ns = |t: jiff::Timestamp| {
        let ns = t.as_nanosecond();
        i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
    };
    if let Some(since) = window.since.map(ns) {
        let us = params.push(since.div_euclid(1000));
        let exact = params.push(since);
        sql += &format!(
            " AND {alias}.ts >= timestamptz 'epoch' + {us}::int8 * interval '1 microsecond' \
             AND {alias}.ts_ns >= {exact}"
        );
    }
    if let Some(until) = window.until.map(ns) {
        let us = params.push(until.div_euclid(1000));
        let exact = params.push(until);
        sql += &format!(
            " AND {alias}.ts <= timestamptz 'epoch' + {us}::int8 * interval '1 microsecond' \
             AND {alias}.ts_ns < {exact}"
        );
    }
    sql
}

pub(crate) fn query(plan: &Plan, bound: &Bound, window: &str) -> String {
    let side = |alias: &str| {
        let level = format!("{alias}.source = ANY({})", bound.session_level);
        if bound.prefer_session_level {
            level
        } else {
            format!("NOT {level}")
        }
    };
    let inner_cols: Vec<String> = plan
        .cols
        .iter()
        .map(|c| {
            format!(
                "{} AS {}",
                c.expr(&bound.tz, &bound.whole_request),
                c.name()
            )
        })
        .collect();
    let names: Vec<&str> = plan.cols.iter().map(|c| c.name()).collect();
    let values: Vec<&str> = plan.value_cols().map(|c| c.name()).collect();
    let sets: Vec<String> = plan
        .sets
        .iter()
        .map(|(set, _)| {
            let set: Vec<&str> = set.iter().map(|c| c.name()).collect();
            format!("({})", set.join(", "))
        })
        .collect();
    let [raw, canon, threshold] = &bound.models;
    let kinds_join = match &bound.kinds {
        Some([source, origin, kind]) => format!(
            "JOIN unnest({source}::text[], {origin}::text[], {kind}::text[]) AS k(source, origin, kind) \
             ON k.source = ev.source AND k.origin = coalesce(ev.origin, '')"
        ),
        None => String::new(),
    };
    let window_ev = window.replace("{alias}", "ev");
    let window_p = window.replace("{alias}", "p");
    format!(
        "WITH preferred AS (
            SELECT DISTINCT p.session FROM events p WHERE {window_p} AND {pref_p}
        )
        SELECT GROUPING({names}) AS grouping_mask, {values_sel}
            sum(input)::int8 AS input, sum(output)::int8 AS output,
            sum(cache_read)::int8 AS cache_read, sum(cache_write_5m)::int8 AS cache_write_5m,
            sum(cache_write_1h)::int8 AS cache_write_1h, sum(reasoning)::int8 AS reasoning,
            sum(reported_cost) AS reported_cost, count(*) AS events, max(ts_ns) AS last_ns,
            count(DISTINCT session) FILTER (WHERE hashed)
                + count(*) FILTER (WHERE NOT hashed) AS sessions
        FROM (
            SELECT {inner_cols}, ev.input, ev.output, ev.cache_read, ev.cache_write_5m,
                ev.cache_write_1h, ev.reasoning, ev.reported_cost, ev.ts_ns, ev.session,
                -- The core counts a session-level record without a dedupe key
                -- as a session of its own, any other event by its session.
                (NOT ev.source = ANY({session_level}) OR ev.dedupe_key IS NOT NULL) AS hashed
            FROM events ev
            JOIN unnest({raw}::text[], {canon}::text[], {threshold}::int8[]) AS m(raw, canon, threshold)
                ON m.raw = ev.model
            {kinds_join}
            WHERE {window_ev} {filters}
                AND ({pref_ev} OR NOT EXISTS (
                    SELECT 1 FROM preferred WHERE preferred.session = ev.session))
        ) e
        GROUP BY GROUPING SETS ({sets})",
        names = names.join(", "),
        values_sel = values.iter().map(|v| format!("{v}, ")).collect::<String>(),
        inner_cols = inner_cols.join(", "),
        session_level = bound.session_level,
        filters = bound.filters,
        pref_p = side("p"),
        pref_ev = side("ev"),
        sets = sets.join(", "),
    )
}
