//! OTLP bodies decoded and mapped to events as `POST /v1/metrics` and
//! `POST /v1/logs` do, without a server or a store: for the fuzzers
//! (`crates/tokenledger-fuzz`), which cannot reach these private modules.

use super::{Encoding, logs, metrics};
use axum::http::{HeaderMap, HeaderValue, header};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use tokenledger_core::event::UsageEvent;

/// What a body maps to: the events a store would get, and the points or
/// records rejected with their reasons.
#[derive(Debug, Default)]
pub struct Mapped {
    pub events: Vec<UsageEvent>,
    pub rejected: u64,
    pub errors: Vec<String>,
}

/// `content_type` is the request's header (`application/x-protobuf`,
/// `application/json`); `prefix` a token's agent prefix. Cumulative points
/// count from zero, as on a store that holds none of their series yet. An
/// `Err` is the 400 (or 415) the server would answer.
pub fn metrics(body: &[u8], content_type: &str, prefix: Option<&str>) -> Result<Mapped, String> {
    let request: ExportMetricsServiceRequest = decode(body, content_type)?;
    let outcome = metrics::map(&request, prefix);
    let (events, _) =
        metrics::Cumulative::default().resolve(outcome.mapped, &mut |_| Default::default());
    Ok(Mapped {
        events,
        rejected: outcome.rejected,
        errors: outcome.errors,
    })
}

/// [`metrics`] for `POST /v1/logs`.
pub fn logs(body: &[u8], content_type: &str, prefix: Option<&str>) -> Result<Mapped, String> {
    let request: ExportLogsServiceRequest = decode(body, content_type)?;
    let outcome = logs::map(&request, prefix);
    Ok(Mapped {
        events: outcome.events,
        rejected: outcome.rejected,
        errors: outcome.errors,
    })
}

fn decode<T>(body: &[u8], content_type: &str) -> Result<T, String>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(content_type).map_err(|e| e.to_string())?;
    headers.insert(header::CONTENT_TYPE, value);
    Encoding::of(&headers)
        .and_then(|encoding| encoding.decode(body))
        .map_err(|e| e.reason)
}
