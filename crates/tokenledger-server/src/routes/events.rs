//! `POST /v1/events`: a batch of normalized events or register lines.

use crate::app::{AppState, Need};
use crate::error::{ApiError, blocking};
use crate::ingest;
use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let principal = state.auth.check(&headers, Need::Write, peer)?;
    // Only JSON types: a browser page cannot send them across origins
    // without a preflight this server never grants, so it cannot post
    // events to a collector on the user's loopback.
    let ndjson = match crate::body::content_type(&headers).as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => true,
        "application/json" => false,
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {other:?} is not accepted; send a JSON array as application/json or NDJSON as application/x-ndjson"
                ),
            ));
        }
    };
    let bytes = crate::body::read(&headers, body, state.body_limit).await?;
    let items = ingest::parse_batch(&bytes, ndjson).map_err(ApiError::bad_request)?;
    let mut events = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(event) => match &principal.prefix {
                Some(prefix) if !event.agent_id.starts_with(prefix.as_str()) => {
                    rejected.push(json!({
                        "index": index,
                        "reason": format!("agent {:?} is outside this token's prefix {prefix:?}", event.agent_id),
                    }));
                }
                _ => events.push(event),
            },
            Err(reason) => rejected.push(json!({ "index": index, "reason": reason })),
        }
    }
    let shared = Arc::clone(&state);
    let inserted = blocking(move || shared.store.insert(&events).map_err(ApiError::store)).await?;
    Ok(Json(json!({
        "accepted": inserted.accepted,
        "duplicates": inserted.duplicates,
        "rejected": rejected,
    })))
}
