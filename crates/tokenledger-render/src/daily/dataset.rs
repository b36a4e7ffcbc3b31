//! `token-usage-daily.json`, byte-compatible with the seed's writer
//! (Python `json.dump(indent=2)`, see [`crate::pyjson`]).

use super::DailyReport;
use crate::fmt::round_dp;
use crate::pyjson::{self, Value};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokenledger_core::aggregate::Measures;

/// The seed's dataset layout with its bugs fixed:
///
/// - `summary.by_model` / `by_agent` cover the same window as everything else
///   (the seed counted every merged row there, whatever its age), most tokens first.
/// - `summary.total_cost` is the window's cost rounded to 6 decimals (the seed
///   wrote the unrounded float sum, e.g. `0.08549999999999999`); `by_hour[].cost`
///   keeps the seed's 4 decimals. Either is `null` when a model has no price,
///   and `summary.unpriced_models` then names them.
/// - `generated_at` is UTC with an explicit `+00:00` (the seed wrote naive local time).
/// - A new `sessions` array, after `summary`, lists each session's
///   `session_key, agent_id, model, tokens_input, tokens_output, cost,
///   timestamp` (its last activity, UTC), `source` and, when the source
///   records one, `status`: sessions running without usage in the window
///   are listed too, with zero tokens.
/// - `total_tokens` counts cache reads and writes too; when there are any,
///   `cache_read_tokens` and `cache_write_tokens` appear beside
///   `input_tokens`/`output_tokens` so the sum still adds up.
///
/// Hour keys are `YYYY-MM-DD HH:00` on the display zone's clock, oldest
/// first. No trailing newline, like the seed.
pub fn render_dataset(report: &DailyReport) -> String {
    let by_hour = report
        .hours
        .iter()
        .map(|h| {
            let mut fields = vec![("sessions".into(), Value::int(h.measures.sessions))];
            fields.extend(token_fields(&h.measures));
            fields.push(("total_tokens".into(), Value::int(h.measures.tokens.total())));
            fields.push(("cost".into(), Value::opt_float(cost(&h.measures, 4))));
            fields.push(("models".into(), counts(&h.models)));
            fields.push(("agents".into(), counts(&h.agents)));
            (h.hour.replacen('T', " ", 1), Value::Object(fields))
        })
        .collect();
    // The seed puts the total first here but last in the hourly buckets.
    let mut summary = vec![(
        "total_tokens".into(),
        Value::int(report.totals.tokens.total()),
    )];
    summary.extend(token_fields(&report.totals));
    summary.push((
        "total_cost".into(),
        Value::opt_float(cost(&report.totals, 6)),
    ));
    summary.push(("total_sessions".into(), Value::int(report.totals.sessions)));
    if !report.totals.unpriced_models.is_empty() {
        let models = report
            .totals
            .unpriced_models
            .iter()
            .map(Value::str)
            .collect();
        summary.push(("unpriced_models".into(), Value::Array(models)));
    }
    summary.push(("by_model".into(), tokens_and_sessions(&report.by_model)));
    summary.push(("by_agent".into(), tokens_and_sessions(&report.by_agent)));
    let sessions = report
        .sessions
        .iter()
        .map(|s| {
            let mut fields = vec![
                ("session_key".into(), Value::str(&s.session_key)),
                ("agent_id".into(), Value::str(&s.agent_id)),
                ("model".into(), Value::str(&s.model)),
                ("tokens_input".into(), Value::int(s.measures.tokens.input)),
                ("tokens_output".into(), Value::int(s.measures.tokens.output)),
                ("cost".into(), Value::opt_float(cost(&s.measures, 6))),
                (
                    "timestamp".into(),
                    s.measures
                        .last_timestamp
                        .map_or(Value::Null, |t| Value::str(isoformat_utc(t))),
                ),
                ("source".into(), Value::str(&s.source)),
            ];
            // Only sources that track sessions (OpenClaw's store) know one;
            // register sessions keep the seed-era shape.
            if let Some(status) = &s.status {
                fields.push(("status".into(), Value::str(status)));
            }
            Value::Object(fields)
        })
        .collect();
    pyjson::to_string(&Value::Object(vec![
        ("date".into(), Value::str(&report.date)),
        (
            "generated_at".into(),
            Value::str(isoformat_utc(report.generated_at)),
        ),
        ("by_hour".into(), Value::Object(by_hour)),
        ("summary".into(), Value::Object(summary)),
        ("sessions".into(), Value::Array(sessions)),
    ]))
}

/// Input, output and, when there are any, the cache counts.
fn token_fields(m: &Measures) -> Vec<(String, Value)> {
    let t = &m.tokens;
    let mut fields = vec![
        ("input_tokens".into(), Value::int(t.input)),
        ("output_tokens".into(), Value::int(t.output)),
    ];
    if t.cache_read > 0 || t.cache_write() > 0 {
        fields.push(("cache_read_tokens".into(), Value::int(t.cache_read)));
        fields.push(("cache_write_tokens".into(), Value::int(t.cache_write())));
    }
    fields
}

fn cost(m: &Measures, decimals: usize) -> Option<f64> {
    if m.unpriced_models.is_empty() {
        m.cost_usd.map(|c| round_dp(c, decimals))
    } else {
        None
    }
}

fn counts(entries: &[(String, u64)]) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(k, n)| (k.clone(), Value::int(*n)))
            .collect(),
    )
}

fn tokens_and_sessions(entries: &[super::Named]) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|e| {
                let fields = vec![
                    ("tokens".into(), Value::int(e.measures.tokens.total())),
                    ("sessions".into(), Value::int(e.measures.sessions)),
                ];
                (e.name.clone(), Value::Object(fields))
            })
            .collect(),
    )
}

/// Python's `datetime.isoformat()` of an aware UTC time: microseconds only
/// when non-zero, offset spelled `+00:00`.
fn isoformat_utc(ts: Timestamp) -> String {
    let dt = ts.to_zoned_datetime(TimeZone::UTC).datetime();
    let micros = dt.subsec_nanosecond() / 1000;
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!("{}{fraction}+00:00", dt.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn seed_report() -> DailyReport {
        DailyReport::from_data(&fixtures::seed_day(), "2026-02-06", None, "20:00", "UTC")
    }

    /// The seed's dataset for the same input (seed-originals.md §1.3) with
    /// exactly our fixes: `+00:00`, the rounded total and the `sessions` list.
    #[test]
    fn the_seed_day_matches_the_seed_but_for_the_fixes() {
        assert_eq!(
            render_dataset(&seed_report()),
            include_str!("../testdata/seed-day-fixed.json")
        );
    }

    #[test]
    fn unpriced_cache_and_non_ascii_names() {
        let mut report = seed_report();
        report.generated_at = fixtures::ts("2026-02-06T20:00:00Z");
        report.by_agent[1].name = "Zoë 🤖".to_string();
        report.hours[1].agents[0].0 = "Zoë 🤖".to_string();
        report.hours[1].measures = fixtures::unpriced(report.hours[1].measures.clone(), "glm-9");
        report.totals = fixtures::cached(report.totals.clone(), 40_000, 1_000, 500);
        report.totals = fixtures::unpriced(report.totals.clone(), "glm-9");
        report.sessions[1].measures =
            fixtures::unpriced(report.sessions[1].measures.clone(), "glm-9");
        report.sessions[1].measures.last_timestamp = None;
        insta::assert_snapshot!(render_dataset(&report), @r#"
            {
              "date": "2026-02-06",
              "generated_at": "2026-02-06T20:00:00+00:00",
              "by_hour": {
                "2026-02-06 09:00": {
                  "sessions": 1,
                  "input_tokens": 15000,
                  "output_tokens": 3000,
                  "total_tokens": 18000,
                  "cost": 0.045,
                  "models": {
                    "anthropic/claude-sonnet-4-5": 1
                  },
                  "agents": {
                    "backend-engineer": 1
                  }
                },
                "2026-02-06 11:00": {
                  "sessions": 1,
                  "input_tokens": 1200,
                  "output_tokens": 300,
                  "total_tokens": 1500,
                  "cost": null,
                  "models": {
                    "claude-opus-4-5": 1
                  },
                  "agents": {
                    "Zo\u00eb \ud83e\udd16": 1
                  }
                }
              },
              "summary": {
                "total_tokens": 61000,
                "input_tokens": 16200,
                "output_tokens": 3300,
                "cache_read_tokens": 40000,
                "cache_write_tokens": 1500,
                "total_cost": null,
                "total_sessions": 2,
                "unpriced_models": [
                  "glm-9"
                ],
                "by_model": {
                  "anthropic/claude-sonnet-4-5": {
                    "tokens": 18000,
                    "sessions": 1
                  },
                  "claude-opus-4-5": {
                    "tokens": 1500,
                    "sessions": 1
                  }
                },
                "by_agent": {
                  "backend-engineer": {
                    "tokens": 18000,
                    "sessions": 1
                  },
                  "Zo\u00eb \ud83e\udd16": {
                    "tokens": 1500,
                    "sessions": 1
                  }
                }
              },
              "sessions": [
                {
                  "session_key": "abc123",
                  "agent_id": "backend-engineer",
                  "model": "anthropic/claude-sonnet-4-5",
                  "tokens_input": 15000,
                  "tokens_output": 3000,
                  "cost": 0.045,
                  "timestamp": "2026-02-06T09:12:00+00:00",
                  "source": "register"
                },
                {
                  "session_key": "def456",
                  "agent_id": "main",
                  "model": "claude-opus-4-5",
                  "tokens_input": 1200,
                  "tokens_output": 300,
                  "cost": null,
                  "timestamp": null,
                  "source": "register"
                }
              ]
            }
            "#);
    }

    #[test]
    fn an_empty_day_has_empty_containers() {
        let mut report = seed_report();
        report.totals = Measures {
            cost_usd: Some(0.0),
            ..Measures::default()
        };
        report.by_model.clear();
        report.by_agent.clear();
        report.hours.clear();
        report.sessions.clear();
        insta::assert_snapshot!(render_dataset(&report), @r#"
            {
              "date": "2026-02-06",
              "generated_at": "2026-02-06T20:00:03.125310+00:00",
              "by_hour": {},
              "summary": {
                "total_tokens": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "total_cost": 0.0,
                "total_sessions": 0,
                "by_model": {},
                "by_agent": {}
              },
              "sessions": []
            }
            "#);
    }

    #[test]
    fn isoformat_omits_zero_microseconds() {
        assert_eq!(
            isoformat_utc(fixtures::ts("2026-02-06T20:00:00Z")),
            "2026-02-06T20:00:00+00:00"
        );
        assert_eq!(
            isoformat_utc(fixtures::ts("2026-02-06T20:00:00.5Z")),
            "2026-02-06T20:00:00.500000+00:00"
        );
    }
}
