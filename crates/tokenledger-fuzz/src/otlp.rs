//! The collector's OTLP bodies, decoded and mapped as `POST /v1/metrics`
//! and `POST /v1/logs` do, protobuf and JSON.

use crate::check_event;
use tokenledger_server::fuzzing::{self, Mapped};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";
/// A token's agent prefix.
const PREFIX: &str = "team-a/";

pub fn otlp_metrics_protobuf(data: &[u8]) {
    check(data, PROTOBUF, fuzzing::metrics);
}

pub fn otlp_metrics_json(data: &[u8]) {
    check(data, JSON, fuzzing::metrics);
}

pub fn otlp_logs_protobuf(data: &[u8]) {
    check(data, PROTOBUF, fuzzing::logs);
}

pub fn otlp_logs_json(data: &[u8]) {
    check(data, JSON, fuzzing::logs);
}

type Map = fn(&[u8], &str, Option<&str>) -> Result<Mapped, String>;

/// Every rejection has its reason; with a token's prefix, what is not
/// rejected belongs to an agent under the prefix.
fn check(data: &[u8], content_type: &str, map: Map) {
    let Ok(open) = map(data, content_type, None) else {
        return;
    };
    let prefixed = map(data, content_type, Some(PREFIX)).expect("decoded once, decoded twice");
    for mapped in [&open, &prefixed] {
        assert_eq!(mapped.rejected, mapped.errors.len() as u64, "{mapped:?}");
        mapped.events.iter().for_each(check_event);
    }
    for event in &prefixed.events {
        assert!(event.agent_id.starts_with(PREFIX), "{event:?}");
    }
}
