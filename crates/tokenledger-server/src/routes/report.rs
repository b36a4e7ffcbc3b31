//! `GET /v1/report`: the CLI's report over the collector's store, with the
//! same query (parameters named as the flags) and the same JSON contract.

use crate::app::{AppState, Need};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use tokenledger_core::report_query::ReportQuery;

pub async fn get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let principal = state.auth.check(&headers, Need::Read, peer)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let pairs = pairs
        .iter()
        .filter(|(k, v)| !(k == "format" && v == "json"));
    let query = ReportQuery::from_pairs(pairs.map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(ApiError::bad_request)?;
    let spec = query
        .spec(
            state.report_tz.as_deref(),
            state.prefer,
            jiff::Timestamp::now(),
        )
        .map_err(ApiError::bad_request)?;
    let data = super::scoped_report(&state, spec, &principal).await?;
    let body = tokenledger_render::json::render(&data);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
