//! `GET /`: the HTML report of the last 7 days (the same charts as
//! `report --format html`), reloading itself every 30 seconds. The page
//! allows no script, so the refresh is a meta refresh.

use crate::app::{AppState, Need};
use crate::error::ApiError;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Html;
use std::net::SocketAddr;
use std::sync::Arc;
use tokenledger_core::report_query::ReportQuery;

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"30\">\n";

pub async fn get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    let principal = state.auth.check(&headers, Need::Read, peer)?;
    let query = ReportQuery {
        period: Some("7d".into()),
        by: Some("day".into()),
        ..ReportQuery::default()
    };
    let mut spec = query
        .spec(
            state.report_tz.as_deref(),
            state.prefer,
            jiff::Timestamp::now(),
        )
        .map_err(ApiError::bad_request)?;
    spec.groupings.extend(tokenledger_render::html::groupings());
    let data = super::scoped_report(&state, spec, &principal).await?;
    let page = tokenledger_render::html::render(&data);
    Ok(Html(page.replacen(
        "<head>\n",
        &format!("<head>\n{REFRESH}"),
        1,
    )))
}
