//! The stable JSON contract (`schema_version` 1). Scripts depend on its key
//! names and order, so keys are written in a fixed order by hand rather than
//! through a map whose order depends on serde_json's features.

use crate::daily::SessionEntry;
use crate::fmt::{rfc3339, round_dp};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use tokenledger_core::aggregate::{Measures, Row};
use tokenledger_core::report::{ReportData, SCHEMA_VERSION};

/// Pretty JSON with a trailing newline:
/// `{"schema_version","generated_at","period":{"since","until","tz"},"group_by","rows","totals","warnings"}`.
///
/// Each row holds its group keys under their names, then the measures
/// `input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
/// total_tokens, cost_usd, sessions, events` and, only when something is
/// unpriced, `unpriced_models` (with `cost_usd: null`). Costs are rounded to
/// 6 decimals so float noise such as `0.08549999999999999` never leaks out.
pub fn render(data: &ReportData) -> String {
    render_document(data, None)
}

/// The contract plus a `sessions` array before `warnings` (the daily
/// digest's session list): each session's `session`, `agent`, `model`,
/// `source`, `status` (`null` when its source records none),
/// `last_activity`, then the measures of its usage inside the window; then
/// a `budgets` array (spend against each configured budget, see
/// [`crate::budget`]), empty when none is configured.
pub(crate) fn render_with_sessions(
    data: &ReportData,
    sessions: &[SessionEntry],
    budgets: &[tokenledger_core::budget::BudgetStatus],
) -> String {
    let daily = Daily {
        sessions: sessions.iter().map(SessionOut).collect(),
        budgets: budgets.iter().map(crate::budget::BudgetOut).collect(),
    };
    render_document(data, Some(daily))
}

/// What only the daily digest's JSON adds.
struct Daily<'a> {
    sessions: Vec<SessionOut<'a>>,
    budgets: Vec<crate::budget::BudgetOut<'a>>,
}

fn render_document(data: &ReportData, daily: Option<Daily<'_>>) -> String {
    let (sessions, budgets) = match daily {
        Some(d) => (Some(d.sessions), Some(d.budgets)),
        None => (None, None),
    };
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        generated_at: rfc3339(data.generated_at),
        period: Period {
            since: data.window.since.map(rfc3339),
            until: data.window.until.map(rfc3339),
            tz: &data.tz_name,
        },
        group_by: data.group_by().iter().map(|k| k.name()).collect(),
        rows: data.rows().iter().map(RowOut).collect(),
        totals: MeasuresOut(&data.totals),
        sessions,
        budgets,
        warnings: data.warnings.iter().map(ToString::to_string).collect(),
    };
    // Serializing plain structs, strings and finite-or-null floats cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).expect("report JSON serializes");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    generated_at: String,
    period: Period<'a>,
    group_by: Vec<&'static str>,
    rows: Vec<RowOut<'a>>,
    totals: MeasuresOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions: Option<Vec<SessionOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    budgets: Option<Vec<crate::budget::BudgetOut<'a>>>,
    warnings: Vec<String>,
}

struct SessionOut<'a>(&'a SessionEntry);

impl Serialize for SessionOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("session", &s.session_key)?;
        map.serialize_entry("agent", &s.agent_id)?;
        map.serialize_entry("model", &s.model)?;
        map.serialize_entry("source", &s.source)?;
        map.serialize_entry("status", &s.status)?;
        map.serialize_entry("last_activity", &s.measures.last_timestamp.map(rfc3339))?;
        write_measures(&mut map, &s.measures)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Period<'a> {
    since: Option<String>,
    until: Option<String>,
    tz: &'a str,
}

struct RowOut<'a>(&'a Row);

impl Serialize for RowOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.0.keys {
            map.serialize_entry(key.name(), value)?;
        }
        write_measures(&mut map, &self.0.measures)?;
        map.end()
    }
}

struct MeasuresOut<'a>(&'a Measures);

impl Serialize for MeasuresOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        write_measures(&mut map, self.0)?;
        map.end()
    }
}

fn write_measures<M: SerializeMap>(map: &mut M, m: &Measures) -> Result<(), M::Error> {
    map.serialize_entry("input_tokens", &m.tokens.input)?;
    map.serialize_entry("output_tokens", &m.tokens.output)?;
    map.serialize_entry("cache_read_tokens", &m.tokens.cache_read)?;
    map.serialize_entry("cache_write_tokens", &m.tokens.cache_write())?;
    map.serialize_entry("total_tokens", &m.tokens.total())?;
    map.serialize_entry("cost_usd", &cost(m))?;
    map.serialize_entry("sessions", &m.sessions)?;
    map.serialize_entry("events", &m.events)?;
    if !m.unpriced_models.is_empty() {
        map.serialize_entry("unpriced_models", &m.unpriced_models)?;
    }
    Ok(())
}

/// `None` when anything in the row is unpriced: a partial sum would read as
/// the full cost.
fn cost(m: &Measures) -> Option<f64> {
    if m.unpriced_models.is_empty() {
        m.cost_usd.map(|c| round_dp(c, 6))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn week_by_day_and_model() {
        insta::assert_snapshot!(render(&fixtures::week_by_day_model()), @r#"
            {
              "schema_version": 1,
              "generated_at": "2026-02-08T12:00:00Z",
              "period": {
                "since": "2026-02-01T23:00:00Z",
                "until": null,
                "tz": "Europe/Berlin"
              },
              "group_by": [
                "day",
                "model"
              ],
              "rows": [
                {
                  "day": "2026-02-02",
                  "model": "claude-sonnet-4-5",
                  "input_tokens": 1200,
                  "output_tokens": 340,
                  "cache_read_tokens": 50000,
                  "cache_write_tokens": 3000,
                  "total_tokens": 54540,
                  "cost_usd": 0.0123,
                  "sessions": 1,
                  "events": 1
                },
                {
                  "day": "2026-02-02",
                  "model": "glm-4.7",
                  "input_tokens": 5000,
                  "output_tokens": 2000,
                  "cache_read_tokens": 0,
                  "cache_write_tokens": 0,
                  "total_tokens": 7000,
                  "cost_usd": 0.0007,
                  "sessions": 1,
                  "events": 1
                },
                {
                  "day": "2026-02-03",
                  "model": "claude-sonnet-4-5",
                  "input_tokens": 5000,
                  "output_tokens": 1600,
                  "cache_read_tokens": 0,
                  "cache_write_tokens": 0,
                  "total_tokens": 6600,
                  "cost_usd": 0.039,
                  "sessions": 2,
                  "events": 2
                },
                {
                  "day": "2026-02-05",
                  "model": "mystery-model-9",
                  "input_tokens": 10,
                  "output_tokens": 5,
                  "cache_read_tokens": 0,
                  "cache_write_tokens": 0,
                  "total_tokens": 15,
                  "cost_usd": null,
                  "sessions": 1,
                  "events": 1,
                  "unpriced_models": [
                    "mystery-model-9"
                  ]
                }
              ],
              "totals": {
                "input_tokens": 11210,
                "output_tokens": 3945,
                "cache_read_tokens": 50000,
                "cache_write_tokens": 3000,
                "total_tokens": 68155,
                "cost_usd": null,
                "sessions": 4,
                "events": 5,
                "unpriced_models": [
                  "mystery-model-9"
                ]
              },
              "warnings": [
                "/home/u/.tokenledger/token-usage-register.jsonl:8: invalid number \"15k\""
              ]
            }
            "#);
    }

    #[test]
    fn no_rows_and_open_window() {
        insta::assert_snapshot!(render(&fixtures::empty_by_agent()), @r#"
            {
              "schema_version": 1,
              "generated_at": "2026-02-06T20:00:00Z",
              "period": {
                "since": null,
                "until": null,
                "tz": "UTC"
              },
              "group_by": [
                "agent"
              ],
              "rows": [],
              "totals": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "total_tokens": 0,
                "cost_usd": 0.0,
                "sessions": 0,
                "events": 0
              },
              "warnings": []
            }
            "#);
    }

    #[test]
    fn costs_are_rounded_and_output_ends_with_a_newline() {
        let out = render(&fixtures::seed_day());
        assert!(out.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["totals"]["cost_usd"], serde_json::json!(0.0855));
        assert_eq!(value["totals"]["total_tokens"], 19_500);
        assert_eq!(value["generated_at"], "2026-02-06T20:00:03.12531Z");
        assert_eq!(value["group_by"], serde_json::json!([]));
        assert_eq!(
            value["rows"][0].as_object().unwrap().len(),
            8,
            "no keys, eight measures"
        );
    }
}
