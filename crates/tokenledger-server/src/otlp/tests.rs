//! OTLP mapping on hand-built requests, protobuf and JSON.

use super::Encoding;
use super::metrics::{self, Cumulative};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use tokenledger_core::event::TokenCounts;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
    }
}

fn point(kind: Option<&str>, value: f64, time: u64) -> NumberDataPoint {
    let mut attributes = vec![kv("session.id", "s1"), kv("model", "claude-sonnet-4-5")];
    attributes.extend(kind.map(|k| kv("type", k)));
    NumberDataPoint {
        attributes,
        start_time_unix_nano: 1_772_000_000_000_000_000,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn request(temporality: i32, time: u64, scale: f64) -> ExportMetricsServiceRequest {
    let sum = |name: &str, points: Vec<NumberDataPoint>| Metric {
        name: name.into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "claude-code")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    sum(
                        "claude_code.token.usage",
                        vec![
                            point(Some("input"), 100.0 * scale, time),
                            point(Some("output"), 20.0 * scale, time),
                            point(Some("cacheRead"), 1000.0 * scale, time),
                            point(Some("cacheCreation"), 50.0 * scale, time),
                        ],
                    ),
                    sum(
                        "claude_code.cost.usage",
                        vec![point(None, 0.25 * scale, time)],
                    ),
                    sum("claude_code.session.count", vec![point(None, 1.0, time)]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn claude_code_delta_points_become_one_event_with_its_cost() {
    let bytes = request(1, 1_772_000_060_000_000_000, 1.0).encode_to_vec();
    let decoded: ExportMetricsServiceRequest = Encoding::Protobuf.decode(&bytes).unwrap();
    let outcome = metrics::map(&decoded, None);
    assert_eq!(outcome.rejected, 0);
    assert_eq!(outcome.mapped.len(), 1);
    let event = &outcome.mapped[0].event;
    assert_eq!(
        event.tokens,
        TokenCounts {
            input: 100,
            output: 20,
            cache_read: 1000,
            cache_write_5m: 50,
            ..TokenCounts::default()
        }
    );
    assert_eq!(event.reported_cost, Some(0.25));
    assert_eq!((&*event.session, &*event.agent_id), ("s1", "claude-code"));
    assert!(
        event
            .dedupe_key
            .as_deref()
            .unwrap()
            .starts_with("otel-metric:")
    );
    // The same request again maps to the same identity: stored once.
    let again = metrics::map(&decoded, None);
    assert_eq!(again.mapped[0].event.dedupe_key, event.dedupe_key);
}

#[test]
fn cumulative_points_store_the_difference_from_what_is_stored() {
    let mut state = Cumulative::default();
    let mut stored = |_: &str| (TokenCounts::default(), 0.0);
    let first = metrics::map(&request(2, 1_772_000_060_000_000_000, 1.0), None);
    let (events, totals) = state.resolve(first.mapped, &mut stored);
    assert_eq!(events[0].tokens.input, 100);
    state.commit(totals);
    let second = metrics::map(&request(2, 1_772_000_120_000_000_000, 3.0), None);
    let (events, totals) = state.resolve(second.mapped, &mut stored);
    assert_eq!(events[0].tokens.input, 200);
    assert!((events[0].reported_cost.unwrap() - 0.5).abs() < 1e-9);
    state.commit(totals);
    // After a restart the state comes from the store: nothing counted twice.
    let fresh = Cumulative::default();
    let mut from_store = |_: &str| {
        let tokens = TokenCounts {
            input: 300,
            output: 60,
            cache_read: 3000,
            cache_write_5m: 150,
            ..TokenCounts::default()
        };
        (tokens, 0.75)
    };
    let third = metrics::map(&request(2, 1_772_000_180_000_000_000, 3.0), None);
    let (events, _) = fresh.resolve(third.mapped, &mut from_store);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn otlp_json_with_string_integers_and_enum_names_decodes() {
    let body = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gemini-cli"}}]},
      "scopeMetrics":[{"metrics":[{"name":"gemini_cli.token.usage","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","isMonotonic":true,
      "dataPoints":[
        {"attributes":[{"key":"type","value":{"stringValue":"input"}},{"key":"model","value":{"stringValue":"gemini-2.5-pro"}},{"key":"session.id","value":{"stringValue":"g1"}}],"startTimeUnixNano":"1772000000000000000","timeUnixNano":1772000060000000000,"asInt":"1000"},
        {"attributes":[{"key":"type","value":{"stringValue":"cache"}},{"key":"model","value":{"stringValue":"gemini-2.5-pro"}},{"key":"session.id","value":{"stringValue":"g1"}}],"startTimeUnixNano":"1772000000000000000","timeUnixNano":"1772000060000000000","asInt":400},
        {"attributes":[{"key":"type","value":{"stringValue":"thought"}},{"key":"model","value":{"stringValue":"gemini-2.5-pro"}},{"key":"session.id","value":{"stringValue":"g1"}}],"startTimeUnixNano":"1772000000000000000","timeUnixNano":"1772000060000000000","asInt":"30"}
      ]}}]}]}]}"#;
    let decoded: ExportMetricsServiceRequest = Encoding::Json.decode(body.as_bytes()).unwrap();
    let outcome = metrics::map(&decoded, Some("team-a/"));
    assert_eq!(outcome.mapped.len(), 1);
    let event = &outcome.mapped[0].event;
    assert_eq!(
        (
            event.tokens.input,
            event.tokens.cache_read,
            event.tokens.output
        ),
        (600, 400, 30)
    );
    assert_eq!(&*event.agent_id, "team-a/gemini-cli");
}

#[test]
fn claude_code_api_request_logs_become_one_event_per_request() {
    let body = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}},{"key":"tokenledger.agent_id","value":{"stringValue":"team-b/x"}}]},
      "scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1772000060000000000","body":{"stringValue":"claude_code.api_request"},"attributes":[
          {"key":"event.name","value":{"stringValue":"api_request"}},{"key":"session.id","value":{"stringValue":"s9"}},
          {"key":"model","value":{"stringValue":"claude-opus-4-5"}},{"key":"input_tokens","value":{"intValue":"12"}},
          {"key":"output_tokens","value":{"intValue":34}},{"key":"cache_read_tokens","value":{"stringValue":"56"}},
          {"key":"cost_usd","value":{"doubleValue":0.01}},{"key":"request_id","value":{"stringValue":"req_1"}}]},
        {"timeUnixNano":"1772000060000000000","body":{"stringValue":"claude_code.user_prompt"},"attributes":[]},
        {"timeUnixNano":"1772000060000000000","attributes":[{"key":"event.name","value":{"stringValue":"api_request"}},
          {"key":"input_tokens","value":{"intValue":"-5"}}]}
      ]}]}]}"#;
    let decoded: ExportLogsServiceRequest = Encoding::Json.decode(body.as_bytes()).unwrap();
    let outcome = super::logs::map(&decoded, None);
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.rejected, 1, "{:?}", outcome.errors);
    let event = &outcome.events[0];
    assert_eq!(
        (
            event.tokens.input,
            event.tokens.output,
            event.tokens.cache_read
        ),
        (12, 34, 56)
    );
    assert_eq!(event.reported_cost, Some(0.01));
    assert_eq!(
        event.dedupe_key.as_deref(),
        Some("otel-log:claude-code:req_1")
    );
    // A prefix-scoped token may not write another team's agent.
    let scoped = super::logs::map(&decoded, Some("team-a/"));
    assert!(scoped.events.is_empty());
    assert!(scoped.errors[0].contains("outside"));
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    for bytes in [&b"\xff\xff\xff\xff"[..], b"\x0a\x05\x0a\x03", b""] {
        let _ = Encoding::Protobuf.decode::<ExportMetricsServiceRequest>(bytes);
        let _ = Encoding::Protobuf.decode::<ExportLogsServiceRequest>(bytes);
    }
    assert!(
        Encoding::Json
            .decode::<ExportMetricsServiceRequest>(b"{")
            .is_err()
    );
    assert!(Encoding::Json
        .decode::<ExportMetricsServiceRequest>(br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"timeUnixNano":"soon"}]}}]}]}]}"#)
        .is_err());
}
