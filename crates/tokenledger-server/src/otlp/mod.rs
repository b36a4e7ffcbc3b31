//! OTLP over HTTP: `POST /v1/metrics` and `POST /v1/logs`, protobuf or
//! JSON, gzip or plain. Answers in the request's encoding, with a partial
//! success naming what was rejected (a negative count, an agent outside the
//! token's prefix); a body that does not decode is a 400 and stores nothing.
//! OTLP over gRPC (the `grpc` feature) admits, maps and stores through the
//! same functions; only the framing differs.

mod attrs;
mod families;
pub mod fuzzing;
#[cfg(feature = "grpc")]
pub mod grpc;
mod json;
mod logs;
pub mod metrics;
pub mod prefer;

use crate::app::{AppState, Need};
use crate::auth::Principal;
use crate::error::{ApiError, blocking};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use std::net::SocketAddr;
use std::sync::Arc;
use tokenledger_core::event::TokenCounts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Result<Encoding, ApiError> {
        match crate::body::content_type(headers).as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            other => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {other:?} is not OTLP; send application/x-protobuf or application/json"
                ),
            )),
        }
    }

    fn decode<T>(self, bytes: &[u8]) -> Result<T, ApiError>
    where
        T: prost::Message + Default + serde::de::DeserializeOwned,
    {
        match self {
            Encoding::Protobuf => T::decode(bytes)
                .map_err(|e| ApiError::bad_request(format!("invalid OTLP protobuf: {e}"))),
            Encoding::Json => {
                let mut value: serde_json::Value = serde_json::from_slice(bytes)
                    .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?;
                json::normalize(&mut value);
                json::check_metric_data(&value)
                    .map_err(|e| ApiError::bad_request(format!("invalid OTLP/JSON: {e}")))?;
                serde_json::from_value(value)
                    .map_err(|e| ApiError::bad_request(format!("invalid OTLP/JSON: {e}")))
            }
        }
    }

    fn respond<T: prost::Message + serde::Serialize>(self, message: &T) -> Response {
        match self {
            Encoding::Protobuf => (
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                message.encode_to_vec(),
            )
                .into_response(),
            Encoding::Json => axum::Json(message).into_response(),
        }
    }
}

async fn read<T>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(T, Encoding), ApiError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    let encoding = Encoding::of(headers)?;
    let bytes = crate::body::read(headers, body, state.body_limit).await?;
    Ok((encoding.decode(&bytes)?, encoding))
}

fn summary(errors: &[String]) -> String {
    let mut text = errors
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > 5 {
        text.push_str(&format!("; and {} more", errors.len() - 5));
    }
    text
}

pub async fn post_metrics(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let principal = state.auth.check(&headers, Need::Write, peer)?;
    let (request, encoding) = read::<ExportMetricsServiceRequest>(&state, &headers, body).await?;
    let answer = export_metrics(&state, principal, request).await?;
    Ok(encoding.respond(&answer))
}

pub async fn post_logs(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let principal = state.auth.check(&headers, Need::Write, peer)?;
    let (request, encoding) = read::<ExportLogsServiceRequest>(&state, &headers, body).await?;
    let answer = export_logs(&state, principal, request).await?;
    Ok(encoding.respond(&answer))
}

/// Maps and stores an admitted, decoded metrics export: what every
/// transport does once it has the request, so they all count alike.
async fn export_metrics(
    state: &Arc<AppState>,
    principal: Principal,
    request: ExportMetricsServiceRequest,
) -> Result<ExportMetricsServiceResponse, ApiError> {
    let shared = Arc::clone(state);
    let (rejected, errors) = blocking(move || {
        let outcome = metrics::map(&request, principal.prefix.as_deref());
        let mut cumulative = shared.cumulative.lock().unwrap_or_else(|e| e.into_inner());
        let mut failed = None;
        let (events, totals) = cumulative.resolve(outcome.mapped, &mut |series| match shared
            .store
            .totals_by_key_prefix(series)
        {
            Ok(Some(totals)) => totals,
            Ok(None) => {
                shared.warn_once_no_totals();
                (TokenCounts::default(), 0.0)
            }
            Err(e) => {
                failed = Some(e);
                (TokenCounts::default(), 0.0)
            }
        });
        if let Some(e) = failed {
            return Err(ApiError::store(e));
        }
        shared.store.insert(&events).map_err(ApiError::store)?;
        cumulative.commit(totals);
        Ok((outcome.rejected, outcome.errors))
    })
    .await?;
    let partial_success = (rejected > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: rejected as i64,
        error_message: summary(&errors),
    });
    Ok(ExportMetricsServiceResponse { partial_success })
}

/// Maps and stores an admitted, decoded logs export (see [`export_metrics`]).
async fn export_logs(
    state: &Arc<AppState>,
    principal: Principal,
    request: ExportLogsServiceRequest,
) -> Result<ExportLogsServiceResponse, ApiError> {
    let shared = Arc::clone(state);
    let (rejected, errors) = blocking(move || {
        let outcome = logs::map(&request, principal.prefix.as_deref());
        shared
            .store
            .insert(&outcome.events)
            .map_err(ApiError::store)?;
        Ok((outcome.rejected, outcome.errors))
    })
    .await?;
    let partial_success = (rejected > 0).then(|| ExportLogsPartialSuccess {
        rejected_log_records: rejected as i64,
        error_message: summary(&errors),
    });
    Ok(ExportLogsServiceResponse { partial_success })
}

#[cfg(test)]
mod tests;
