//! Hand-made report data for the renderers' tests.

use jiff::Timestamp;
use tokenledger_core::Warning;
use tokenledger_core::aggregate::{Measures, Row};
use tokenledger_core::event::TokenCounts;
use tokenledger_core::query::{GroupKey, TimeWindow};
use tokenledger_core::report::ReportData;

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

pub(crate) fn measures(input: u64, output: u64, cost: Option<f64>, sessions: u64) -> Measures {
    Measures {
        tokens: TokenCounts {
            input,
            output,
            ..TokenCounts::default()
        },
        cost_usd: cost,
        unpriced_models: Vec::new(),
        priced_cost_usd: cost.unwrap_or(0.0),
        sessions,
        events: sessions,
        last_timestamp: None,
    }
}

pub(crate) fn at(mut m: Measures, when: &str) -> Measures {
    m.last_timestamp = Some(ts(when));
    m
}

pub(crate) fn unpriced(mut m: Measures, model: &str) -> Measures {
    m.cost_usd = None;
    m.priced_cost_usd = 0.0;
    m.unpriced_models = vec![model.to_string()];
    m
}

pub(crate) fn cached(mut m: Measures, read: u64, write_5m: u64, write_1h: u64) -> Measures {
    m.tokens.cache_read = read;
    m.tokens.cache_write_5m = write_5m;
    m.tokens.cache_write_1h = write_1h;
    m
}

pub(crate) fn row(keys: &[(GroupKey, &str)], measures: Measures) -> Row {
    Row {
        keys: keys.iter().map(|&(k, v)| (k, v.to_string())).collect(),
        measures,
    }
}

/// seed-originals.md §1.3's input: a register row at 09:12Z (Sonnet,
/// backend-engineer) and a session updated at 11:30Z (Opus, main), with
/// every grouping the daily report asks for.
pub(crate) fn seed_day() -> ReportData {
    use GroupKey::*;
    let sonnet = "anthropic/claude-sonnet-4-5";
    let opus = "claude-opus-4-5";
    let a = || {
        at(
            measures(15000, 3000, Some(0.045), 1),
            "2026-02-06T09:12:00Z",
        )
    };
    let b = || at(measures(1200, 300, Some(0.0405), 1), "2026-02-06T11:30:00Z");
    let mut totals = at(
        measures(16200, 3300, Some(0.045 + 0.0405), 2),
        "2026-02-06T11:30:00Z",
    );
    totals.events = 2;
    ReportData {
        generated_at: ts("2026-02-06T20:00:03.12531Z"),
        window: TimeWindow {
            since: Some(ts("2026-02-05T20:00:03Z")),
            until: Some(ts("2026-02-06T20:00:04Z")),
        },
        tz_name: "UTC".to_string(),
        totals: totals.clone(),
        groupings: vec![
            (vec![], vec![row(&[], totals)]),
            (
                vec![Model],
                vec![row(&[(Model, sonnet)], a()), row(&[(Model, opus)], b())],
            ),
            (
                vec![Agent],
                vec![
                    row(&[(Agent, "backend-engineer")], a()),
                    row(&[(Agent, "main")], b()),
                ],
            ),
            (
                vec![Hour],
                vec![
                    row(&[(Hour, "2026-02-06T09:00")], a()),
                    row(&[(Hour, "2026-02-06T11:00")], b()),
                ],
            ),
            (
                vec![Hour, Model],
                vec![
                    row(&[(Hour, "2026-02-06T09:00"), (Model, sonnet)], a()),
                    row(&[(Hour, "2026-02-06T11:00"), (Model, opus)], b()),
                ],
            ),
            (
                vec![Hour, Agent],
                vec![
                    row(
                        &[(Hour, "2026-02-06T09:00"), (Agent, "backend-engineer")],
                        a(),
                    ),
                    row(&[(Hour, "2026-02-06T11:00"), (Agent, "main")], b()),
                ],
            ),
            (
                vec![Session, Agent, Model],
                vec![
                    row(
                        &[
                            (Session, "abc123"),
                            (Agent, "backend-engineer"),
                            (Model, sonnet),
                        ],
                        a(),
                    ),
                    row(&[(Session, "def456"), (Agent, "main"), (Model, opus)], b()),
                ],
            ),
        ],
        warnings: vec![],
    }
}

/// Three days by day and model, one model unpriced, cache tokens present, and a warning.
pub(crate) fn week_by_day_model() -> ReportData {
    use GroupKey::*;
    let rows = vec![
        row(
            &[(Day, "2026-02-02"), (Model, "claude-sonnet-4-5")],
            cached(measures(1200, 340, Some(0.0123), 1), 50_000, 2_000, 1_000),
        ),
        row(
            &[(Day, "2026-02-02"), (Model, "glm-4.7")],
            measures(5000, 2000, Some(0.0007), 1),
        ),
        row(
            &[(Day, "2026-02-03"), (Model, "claude-sonnet-4-5")],
            measures(5000, 1600, Some(0.039), 2),
        ),
        row(
            &[(Day, "2026-02-05"), (Model, "mystery-model-9")],
            unpriced(measures(10, 5, None, 1), "mystery-model-9"),
        ),
    ];
    let mut totals = cached(measures(11_210, 3_945, None, 4), 50_000, 2_000, 1_000);
    totals.unpriced_models = vec!["mystery-model-9".to_string()];
    totals.events = 5;
    ReportData {
        generated_at: ts("2026-02-08T12:00:00Z"),
        window: TimeWindow {
            since: Some(ts("2026-02-01T23:00:00Z")),
            until: None,
        },
        tz_name: "Europe/Berlin".to_string(),
        totals,
        groupings: vec![(vec![Day, Model], rows)],
        warnings: vec![Warning {
            path: "/home/u/.tokenledger/token-usage-register.jsonl".into(),
            line: Some(8),
            message: "invalid number \"15k\"".to_string(),
        }],
    }
}

/// No events at all, grouped by agent.
pub(crate) fn empty_by_agent() -> ReportData {
    ReportData {
        generated_at: ts("2026-02-06T20:00:00Z"),
        window: TimeWindow::ALL,
        tz_name: "UTC".to_string(),
        totals: Measures {
            cost_usd: Some(0.0),
            ..Measures::default()
        },
        groupings: vec![(vec![GroupKey::Agent], vec![])],
        warnings: vec![],
    }
}
