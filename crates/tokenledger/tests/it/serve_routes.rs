//! The collector's routes end to end: events, report, 400s, tokens, rate limits.

use crate::common::TestContext;
use crate::serve::{Server, event, register_entry};
use serde_json::{Value, json};

#[test]
fn events_are_stored_once_and_reported_with_the_cli_contract() {
    let ctx = TestContext::new();
    let server = Server::start(&ctx);
    let batch = json!([
        event("cc:1", "s1", "main", 100, 10),
        register_entry("r1", "backend", 1000, 200),
        {"session_key": "x", "timestamp": "nope"},
        event("cc:2", "s1", "main", 50, 5),
    ]);
    let first = server.post_events(&batch);
    assert_eq!(first["accepted"], 3);
    assert_eq!(first["duplicates"], 0);
    assert_eq!(first["rejected"][0]["index"], 2);
    assert!(
        first["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("timestamp")
    );
    let again = server.post_events(&batch);
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(3))
    );
    // NDJSON, one register line again: a duplicate.
    let line = register_entry("r1", "backend", 1000, 200).to_string();
    let (status, text) = server.post(
        "/v1/events",
        "application/x-ndjson",
        format!("{line}\n").as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["duplicates"],
        1
    );

    let report = server.report("by=agent&since=2026-03-01&until=2026-03-02");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["group_by"], json!(["agent"]));
    assert_eq!(report["totals"]["input_tokens"], 1150);
    assert_eq!(report["totals"]["events"], 3);
    let backend = &report["rows"][0];
    assert_eq!(
        (backend["agent"].clone(), backend["cost_usd"].clone()),
        (json!("backend"), json!(0.5))
    );
    let only_main = server.report("agent=main");
    assert_eq!(only_main["totals"]["output_tokens"], 15);

    let (status, text) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(text.contains("tokenledger_tokens_total{model=\"claude-sonnet-4-5\",agent=\"main\",source=\"claude-code\",type=\"input\"} 150"), "{text}");
    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        page.contains("http-equiv=\"refresh\"") && page.contains("<svg"),
        "{page}"
    );
    assert_eq!(
        server.get("/healthz"),
        (200, "{\"status\":\"ok\"}".to_string())
    );
    assert!(server.stop().success());
    // The events outlive the server, in the home's ledger.
    let ledger = std::fs::read_to_string(ctx.home.join("ledger.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 3);
}

#[test]
fn malformed_bodies_and_queries_are_400_with_a_reason_and_store_nothing() {
    let ctx = TestContext::new();
    let server = Server::start(&ctx);
    for (content_type, body) in [
        ("application/json", &b"{\"an\":\"object\"}"[..]),
        ("application/json", b"[{\"x\":1},"),
        ("application/x-ndjson", b"\xff\xfe\n"),
    ] {
        let (status, text) = server.post("/v1/events", content_type, body);
        assert_eq!(status, 400, "{text}");
        assert!(serde_json::from_str::<Value>(&text).unwrap()["error"].is_string());
    }
    let (status, text) = server.get("/v1/report?by=colour");
    assert_eq!(status, 400);
    assert!(text.contains("colour"));
    let (status, text) = server.get("/v1/report?since=someday");
    assert_eq!(status, 400);
    assert!(text.contains("since"), "{text}");
    let (status, _) = server.post("/v1/metrics", "application/x-protobuf", b"\xff\xff\xff");
    assert_eq!(status, 400);
    let (status, _) = server.post("/v1/logs", "text/plain", b"hello");
    assert_eq!(status, 415);
    assert_eq!(server.report("")["totals"]["events"], 0);
    assert!(
        !ctx.home.join("ledger.jsonl").exists()
            || std::fs::read_to_string(ctx.home.join("ledger.jsonl"))
                .unwrap()
                .is_empty()
    );
}

fn token_config(extra: &str) -> String {
    let hash = |t: &str| tokenledger_hash(t);
    format!(
        "[server]\n{extra}\n\
         [[server.token]]\nname = \"team-a-writer\"\nsha256 = \"{}\"\nscope = \"write\"\nprefix = \"team-a/\"\n\
         [[server.token]]\nname = \"team-a-reader\"\nsha256 = \"{}\"\nscope = \"read\"\nprefix = \"team-a/\"\n\
         [[server.token]]\nname = \"admin\"\nsha256 = \"{}\"\n",
        hash("w-secret"),
        hash("r-secret"),
        hash("admin-secret")
    )
}

/// What `tokenledger serve hash-token` prints for `token`.
fn tokenledger_hash(token: &str) -> String {
    let out = std::process::Command::new(crate::common::bin())
        .args(["serve", "hash-token", token])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn tokens_scope_writes_and_reads_to_their_prefix() {
    let ctx = TestContext::new();
    ctx.write_config(&token_config("body_limit_bytes = 4096"));
    let server = Server::start(&ctx);
    let body = json!([
        event("a1", "s1", "team-a/bob", 10, 1),
        event("b1", "s2", "team-b/eve", 20, 2)
    ])
    .to_string();
    let post = |token: Option<&str>, body: &[u8]| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        server.request("POST", "/v1/events", &headers, Some(body))
    };
    let get = |token: &str, path: &str| {
        server.request(
            "GET",
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
    };
    assert_eq!(post(None, body.as_bytes()).0, 401);
    assert_eq!(post(Some("wrong"), body.as_bytes()).0, 401);
    assert_eq!(post(Some("r-secret"), body.as_bytes()).0, 403);
    let (status, text) = post(Some("w-secret"), body.as_bytes());
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["accepted"], 1);
    assert!(
        answer["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("outside")
    );
    assert_eq!(post(Some("admin-secret"), body.as_bytes()).0, 200);
    let (status, text) = post(Some("admin-secret"), &vec![b' '; 5000]);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("body_limit_bytes"));

    assert_eq!(get("w-secret", "/v1/report").0, 403);
    let (status, text) = get("r-secret", "/v1/report?by=agent");
    assert_eq!(status, 200);
    let scoped: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(scoped["totals"]["input_tokens"], 10, "{scoped:#}");
    let (_, text) = get("r-secret", "/v1/report?agent=team-b/eve");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["totals"]["events"],
        0
    );
    let (_, metrics) = get("r-secret", "/metrics");
    assert!(!metrics.contains("team-b"), "{metrics}");
    let (_, text) = get("admin-secret", "/v1/report");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["totals"]["input_tokens"],
        30
    );
}

#[test]
fn each_token_is_rate_limited() {
    let ctx = TestContext::new();
    ctx.write_config(&token_config("rate_per_second = 0.01\nrate_burst = 3"));
    let server = Server::start(&ctx);
    let auth = [("Authorization", "Bearer admin-secret")];
    let statuses: Vec<u16> = (0..5)
        .map(|_| server.request("GET", "/v1/report", &auth, None).0)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let (status, text) = server.request(
        "GET",
        "/v1/report",
        &[("Authorization", "Bearer r-secret")],
        None,
    );
    assert_eq!(status, 200, "{text}");
}
