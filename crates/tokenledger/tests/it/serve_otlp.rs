//! OTLP over HTTP into the real server: hand-built protobuf (gzip and
//! plain), cumulative counters across a restart, and a real OpenTelemetry
//! client (the Python SDK) whose totals the report must match exactly.

use crate::common::TestContext;
use crate::serve::Server;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use prost::Message;
use std::io::Write;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
    }
}

/// `claude_code.token.usage` input/output points for session `s1`.
pub fn tokens(temporality: i32, time_s: u64, input: i64, output: i64) -> Vec<u8> {
    let point = |kind: &str, value: i64| NumberDataPoint {
        attributes: vec![
            kv("session.id", "s1"),
            kv("model", "claude-haiku-4-5"),
            kv("type", kind),
        ],
        start_time_unix_nano: 1_772_000_000_000_000_000,
        time_unix_nano: 1_772_000_000_000_000_000 + time_s * 1_000_000_000,
        value: Some(number_data_point::Value::AsInt(value)),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: vec![kv("service.name", "claude-code")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "claude_code.token.usage".into(),
                    data: Some(Data::Sum(Sum {
                        data_points: vec![point("input", input), point("output", output)],
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn post_protobuf(server: &Server, body: &[u8], gzipped: bool) -> u16 {
    let mut headers = vec![("Content-Type", "application/x-protobuf")];
    if gzipped {
        headers.push(("Content-Encoding", "gzip"));
    }
    let (status, text) = server.request("POST", "/v1/metrics", &headers, Some(body));
    assert!(status == 200 || status >= 400, "{text}");
    status
}

#[test]
fn protobuf_delta_points_gzip_or_plain_are_counted_once() {
    let ctx = TestContext::new();
    let server = Server::start(&ctx);
    let first = tokens(1, 60, 100, 10);
    assert_eq!(post_protobuf(&server, &first, false), 200);
    assert_eq!(post_protobuf(&server, &gzip(&first), true), 200); // a retry: same points
    assert_eq!(
        post_protobuf(&server, &gzip(&tokens(1, 120, 5, 1)), true),
        200
    );
    assert_eq!(post_protobuf(&server, b"\x1f\x8b not gzip", true), 400);
    let report = server.report("by=model");
    assert_eq!(report["totals"]["input_tokens"], 105);
    assert_eq!(report["totals"]["output_tokens"], 11);
    assert_eq!(report["rows"][0]["model"], "claude-haiku-4-5");
}

#[test]
fn cumulative_counters_store_differences_and_survive_a_restart() {
    cumulative_across_a_restart(&[]);
}

/// Cumulative points before and after a `kill -9`, on the store `args` name.
pub fn cumulative_across_a_restart(args: &[&str]) {
    let ctx = TestContext::new();
    let server = Server::start_with(&ctx, args);
    assert_eq!(post_protobuf(&server, &tokens(2, 60, 100, 10), false), 200);
    assert_eq!(post_protobuf(&server, &tokens(2, 120, 250, 30), false), 200);
    assert_eq!(server.report("")["totals"]["input_tokens"], 250);
    server.kill9();
    let server = Server::start_with(&ctx, args);
    // The same running total again, then a higher one: only the increase counts.
    assert_eq!(post_protobuf(&server, &tokens(2, 120, 250, 30), false), 200);
    assert_eq!(post_protobuf(&server, &tokens(2, 180, 400, 40), false), 200);
    let totals = &server.report("")["totals"];
    assert_eq!(
        (
            totals["input_tokens"].as_u64(),
            totals["output_tokens"].as_u64()
        ),
        (Some(400), Some(40))
    );
}

/// The venv `.ci/run` builds (`TOKENLEDGER_OTEL_PYTHON`, else
/// `/tmp/otel-venv`), with `exporter` installed. None only when
/// `TOKENLEDGER_SKIP_OTEL=1` says to skip; missing, it fails saying how to
/// set it up.
pub(crate) fn otel_python(exporter: &str) -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("TOKENLEDGER_OTEL_PYTHON").filter(|p| !p.is_empty()) {
        return Some(path.into());
    }
    let default = std::path::PathBuf::from("/tmp/otel-venv/bin/python");
    if default.exists() {
        return Some(default);
    }
    if std::env::var("TOKENLEDGER_SKIP_OTEL").as_deref() == Ok("1") {
        eprintln!("skipped: TOKENLEDGER_SKIP_OTEL=1");
        return None;
    }
    panic!(
        "no Python with the OpenTelemetry SDK: run `python3 -m venv /tmp/otel-venv && \
         /tmp/otel-venv/bin/pip install opentelemetry-sdk {exporter}` \
         (as .ci/run does) or set TOKENLEDGER_OTEL_PYTHON; TOKENLEDGER_SKIP_OTEL=1 skips this test"
    );
}

#[test]
fn a_real_opentelemetry_client_is_counted_exactly() {
    let Some(python) = otel_python("opentelemetry-exporter-otlp-proto-http") else {
        return;
    };
    let ctx = TestContext::new();
    let server = Server::start(&ctx);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/otel/claude_like.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&server.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = server.report("by=session");
    let totals = &report["totals"];
    for (ours, theirs) in [
        ("input_tokens", "input"),
        ("output_tokens", "output"),
        ("cache_read_tokens", "cache_read"),
        ("cache_write_tokens", "cache_write"),
    ] {
        assert_eq!(totals[ours], sent[theirs], "{ours}: {report:#}");
    }
    let cost = totals["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - sent["cost"].as_f64().unwrap()).abs() < 1e-6,
        "{report:#}"
    );
    let sessions: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
}
