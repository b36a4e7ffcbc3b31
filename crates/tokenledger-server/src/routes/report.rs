//! `GET /v1/report`: the CLI's report over the collector's store, with the
//! same query (parameters named as the flags) and the same JSON contract;
//! `format=text|csv|markdown|html|png` renders it with the CLI's renderers.

use crate::app::{AppState, Need};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use tokenledger_core::report_query::ReportQuery;
use tokenledger_render::format::ReportFormat;
use tokenledger_render::text::TextStyle;

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
    // `format` picks the renderer; the rest is the report's question.
    let mut format = ReportFormat::Json;
    let mut rest = Vec::with_capacity(pairs.len());
    for (name, value) in &pairs {
        if name == "format" {
            format = ReportFormat::parse(value).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "format {value:?}: use json, text, csv, markdown, html or png"
                ))
            })?;
        } else {
            rest.push((name.as_str(), value.as_str()));
        }
    }
    let query = ReportQuery::from_pairs(rest).map_err(ApiError::bad_request)?;
    let mut spec = query
        .spec(
            state.report_tz.as_deref(),
            state.prefer,
            jiff::Timestamp::now(),
        )
        .map_err(ApiError::bad_request)?;
    // The charts' groupings ride along in the same pass, as in the CLI.
    for extra in format.chart_groupings(false) {
        if !spec.groupings.contains(&extra) {
            spec.groupings.push(extra);
        }
    }
    let data = super::scoped_report(&state, spec, &principal).await?;
    // No terminal at the other end to ask: plain text, the client's width.
    let style = TextStyle {
        color: false,
        width: None,
    };
    let body = format
        .render(&data, &style)
        .map_err(|e| ApiError::bad_request(format!("format png: {e}")))?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body).into_response())
}
