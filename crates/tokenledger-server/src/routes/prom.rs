//! `GET /metrics`: Prometheus text of everything stored, by model, agent
//! and source (counters: they only grow as events arrive).

use crate::app::{AppState, Need};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use tokenledger_core::query::{GroupKey, TimeWindow};
use tokenledger_core::report::ReportSpec;

pub async fn get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = state.auth.check(&headers, Need::Read, peer)?;
    let spec = ReportSpec {
        window: TimeWindow::ALL,
        filters: Default::default(),
        tz: jiff::tz::TimeZone::UTC,
        tz_name: "UTC".into(),
        groupings: vec![vec![GroupKey::Model, GroupKey::Agent, GroupKey::Source]],
        prefer: state.prefer,
    };
    let data = super::scoped_report(&state, spec, &principal).await?;
    let mut out = String::new();
    out.push_str("# HELP tokenledger_tokens_total Tokens recorded, by model, agent, source and token type.\n# TYPE tokenledger_tokens_total counter\n");
    for row in data.rows() {
        let labels = labels(&row.keys);
        let t = &row.measures.tokens;
        for (kind, n) in [
            ("input", t.input),
            ("output", t.output),
            ("cache_read", t.cache_read),
            ("cache_write", t.cache_write()),
        ] {
            let _ = writeln!(
                out,
                "tokenledger_tokens_total{{{labels},type=\"{kind}\"}} {n}"
            );
        }
    }
    out.push_str("# HELP tokenledger_cost_usd_total Cost in USD (reported, else priced; unpriced models count 0).\n# TYPE tokenledger_cost_usd_total counter\n");
    for row in data.rows() {
        let cost = row
            .measures
            .cost_usd
            .unwrap_or(row.measures.priced_cost_usd);
        let _ = writeln!(
            out,
            "tokenledger_cost_usd_total{{{}}} {cost}",
            labels(&row.keys)
        );
    }
    out.push_str("# HELP tokenledger_events_total Usage events recorded.\n# TYPE tokenledger_events_total counter\n");
    for row in data.rows() {
        let _ = writeln!(
            out,
            "tokenledger_events_total{{{}}} {}",
            labels(&row.keys),
            row.measures.events
        );
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

fn labels(keys: &[(GroupKey, String)]) -> String {
    keys.iter()
        .map(|(key, value)| format!("{}=\"{}\"", key.name(), escape(value)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Prometheus label values escape backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
