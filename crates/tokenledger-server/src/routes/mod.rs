//! The routes other than OTLP, one module per route group.

pub mod dashboard;
pub mod events;
pub mod prom;
pub mod report;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, blocking};
use axum::Json;
use std::sync::Arc;
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::{ReportData, ReportSpec};

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Matches no agent id (ids never hold NUL): the report of nothing.
const NO_AGENT: &str = "\u{0}";

/// Runs `spec` over the store, limited to the agents the caller may read:
/// a prefix-scoped token first learns which agents under its prefix have
/// events in the window, then reads only those, so any store (file or SQL)
/// enforces the scope with its ordinary agent filter.
pub async fn scoped_report(
    state: &Arc<AppState>,
    mut spec: ReportSpec,
    principal: &Principal,
) -> Result<ReportData, ApiError> {
    let state = Arc::clone(state);
    let prefix = principal.prefix.clone();
    blocking(move || {
        let now = jiff::Timestamp::now();
        if let Some(prefix) = prefix {
            let mut probe = spec.clone();
            probe.groupings = vec![vec![GroupKey::Agent]];
            let agents = state
                .store
                .report(&probe, &state.prices, now)
                .map_err(ApiError::store)?;
            let mut allowed: Vec<String> = agents
                .rows()
                .iter()
                .filter_map(|row| row.keys.first().map(|(_, agent)| agent.clone()))
                .filter(|agent| agent.starts_with(&prefix))
                .collect();
            if allowed.is_empty() {
                allowed.push(NO_AGENT.to_string());
            }
            spec.filters.agents = allowed;
        }
        state
            .store
            .report(&spec, &state.prices, now)
            .map_err(ApiError::store)
    })
    .await
}
