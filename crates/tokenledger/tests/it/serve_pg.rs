//! The collector on PostgreSQL (TOKENLEDGER_TEST_PG; `source .ci/postgres.sh`):
//! cumulative OTLP series survive a restart, and the logs-vs-metrics rule
//! gives the file store's answer.

use crate::common::TestContext;
use crate::serve::Server;
use crate::serve_otlp::{cumulative_across_a_restart, post_protobuf, tokens};
use tokenledger_store_pg::test_support::TestDb;

#[test]
fn cumulative_counters_survive_a_restart_on_postgres() {
    let Some(db) = TestDb::create("serve_cumulative") else {
        return;
    };
    cumulative_across_a_restart(&["--store", &db.url]);
}

/// Session s1: one `api_request` log event (12 in, 34 out).
const S1_LOG: &str = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},
  "scopeLogs":[{"logRecords":[{"timeUnixNano":"1772000060000000000","attributes":[
    {"key":"event.name","value":{"stringValue":"api_request"}},{"key":"session.id","value":{"stringValue":"s1"}},
    {"key":"model","value":{"stringValue":"claude-haiku-4-5"}},{"key":"input_tokens","value":{"intValue":"12"}},
    {"key":"output_tokens","value":{"intValue":"34"}},{"key":"request_id","value":{"stringValue":"req_1"}}]}]}]}]}"#;

/// Session s2: a token counter only (7 in), no log events.
const S2_METRIC: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},
  "scopeMetrics":[{"metrics":[{"name":"claude_code.token.usage","sum":{"aggregationTemporality":1,"isMonotonic":true,
    "dataPoints":[{"attributes":[{"key":"session.id","value":{"stringValue":"s2"}},
      {"key":"model","value":{"stringValue":"claude-haiku-4-5"}},{"key":"type","value":{"stringValue":"input"}}],
      "startTimeUnixNano":"1772000000000000000","timeUnixNano":"1772000060000000000","asInt":"7"}]}}]}]}]}"#;

/// (input, output) of the whole report after the same OTLP exports.
fn otel_totals(args: &[&str], prefer: &str) -> (u64, u64) {
    let ctx = TestContext::new();
    ctx.write_config(&format!("[server]\notel_prefer = \"{prefer}\"\n"));
    let server = Server::start_with(&ctx, args);
    let json = [("Content-Type", "application/json")];
    let (status, text) = server.request("POST", "/v1/logs", &json, Some(S1_LOG.as_bytes()));
    assert_eq!(status, 200, "{text}");
    // Session s1's counters (100 in, 10 out) describe the same requests.
    assert_eq!(post_protobuf(&server, &tokens(1, 60, 100, 10), false), 200);
    let (status, text) = server.request("POST", "/v1/metrics", &json, Some(S2_METRIC.as_bytes()));
    assert_eq!(status, 200, "{text}");
    let totals = &server.report("")["totals"];
    let count = |name: &str| totals[name].as_u64().unwrap_or(u64::MAX);
    (count("input_tokens"), count("output_tokens"))
}

#[test]
fn postgres_prefers_log_events_or_metrics_as_the_file_store_does() {
    let Some(db_events) = TestDb::create("serve_prefer_events") else {
        return;
    };
    let Some(db_metrics) = TestDb::create("serve_prefer_metrics") else {
        return;
    };
    // Events: s1 from its log (12/34), s2 from its counter (7/0).
    let file = otel_totals(&[], "events");
    assert_eq!(file, (19, 34));
    assert_eq!(otel_totals(&["--store", &db_events.url], "events"), file);
    // Metrics: s1 from its counters (100/10), its log hidden; s2 as before.
    let file = otel_totals(&[], "metrics");
    assert_eq!(file, (107, 10));
    assert_eq!(otel_totals(&["--store", &db_metrics.url], "metrics"), file);
}
