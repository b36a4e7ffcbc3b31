//! OTLP over gRPC (`serve --grpc-listen`, the `grpc` feature) into the real
//! server, exported by a real OpenTelemetry client (the Python SDK's gRPC
//! exporter, gzip-compressed, a bearer token in its metadata): totals must
//! match what it sent, and tokens are held to the same rules as over HTTP.

use crate::common::TestContext;
use crate::serve::Server;
use crate::serve_otlp::otel_python;
use serde_json::Value;
use std::path::PathBuf;

fn hash(ctx: &TestContext, token: &str) -> String {
    let out = ctx
        .std_cmd()
        .args(["serve", "hash-token", token])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A port nothing listens on right now (the server is told it, so the test
/// knows where gRPC is without parsing more of its output).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs `claude_like_grpc.py`: what it sent and each export's result.
fn export(python: &PathBuf, endpoint: &str, token: &str, agent: &str) -> Value {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/otel/claude_like_grpc.py");
    let out = std::process::Command::new(python)
        .args([
            script.as_os_str(),
            endpoint.as_ref(),
            token.as_ref(),
            agent.as_ref(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!sent["exports"].as_array().unwrap().is_empty(), "{stderr}");
    sent
}

fn all_exports(sent: &Value, result: &str) -> bool {
    let exports = sent["exports"].as_array().unwrap();
    exports.iter().all(|r| r == result)
}

#[test]
fn a_real_grpc_exporter_is_counted_exactly_and_tokens_are_enforced() {
    let Some(python) = otel_python("opentelemetry-exporter-otlp-proto-grpc") else {
        return;
    };
    let ctx = TestContext::new();
    ctx.write_config(&format!(
        "[server]\n\
         [[server.token]]\nname = \"team-a-writer\"\nsha256 = \"{}\"\nscope = \"write\"\nprefix = \"team-a/\"\n\
         [[server.token]]\nname = \"reader\"\nsha256 = \"{}\"\nscope = \"read\"\n\
         [[server.token]]\nname = \"admin\"\nsha256 = \"{}\"\n",
        hash(&ctx, "w-secret"),
        hash(&ctx, "r-secret"),
        hash(&ctx, "admin-secret"),
    ));
    let grpc = format!("127.0.0.1:{}", free_port());
    let server = Server::start_with(&ctx, &["--grpc-listen", &grpc]);

    let admin = export(&python, &grpc, "admin-secret", "ci/grpc");
    assert!(all_exports(&admin, "SUCCESS"), "{admin}");
    let scoped = export(&python, &grpc, "w-secret", "team-a/laptop");
    assert!(all_exports(&scoped, "SUCCESS"), "{scoped}");
    // Refused outright (Unauthenticated, PermissionDenied): the exporter gives up.
    for token in ["wrong-secret", "r-secret"] {
        let refused = export(&python, &grpc, token, "ci/refused");
        assert!(all_exports(&refused, "FAILURE"), "{token}: {refused}");
    }
    // Accepted as a partial success naming the agent, but nothing of it stored.
    let outside = export(&python, &grpc, "w-secret", "team-b/eve");
    assert!(all_exports(&outside, "SUCCESS"), "{outside}");

    let (status, text) = server.request(
        "GET",
        "/v1/report?by=agent",
        &[("Authorization", "Bearer admin-secret")],
        None,
    );
    assert_eq!(status, 200, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let agents: Vec<&str> = rows.iter().map(|r| r["agent"].as_str().unwrap()).collect();
    assert_eq!(agents.len(), 2, "{report:#}");
    for (agent, sent) in [("ci/grpc", &admin), ("team-a/laptop", &scoped)] {
        let row = rows.iter().find(|r| r["agent"] == agent).expect(agent);
        for (ours, theirs) in [
            ("input_tokens", "input"),
            ("output_tokens", "output"),
            ("cache_read_tokens", "cache_read"),
            ("cache_write_tokens", "cache_write"),
        ] {
            assert_eq!(row[ours], sent[theirs], "{agent} {ours}: {report:#}");
        }
        let cost = row["cost_usd"].as_f64().unwrap();
        assert!(
            (cost - sent["cost"].as_f64().unwrap()).abs() < 1e-6,
            "{report:#}"
        );
    }
    assert!(server.stop().success());
}
