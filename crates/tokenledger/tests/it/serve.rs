//! `tokenledger serve`: the real binary on a free loopback port, driven over
//! HTTP. The helpers here are shared by the other collector test modules.

use crate::common::TestContext;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(ctx: &TestContext) -> Server {
        Server::start_with(ctx, &[])
    }

    /// Starts the collector on port 0 and waits for the address it prints.
    pub fn start_with(ctx: &TestContext, args: &[&str]) -> Server {
        Server::start_on(ctx, "127.0.0.1:0", args)
    }

    pub fn start_on(ctx: &TestContext, listen: &str, args: &[&str]) -> Server {
        Server::start_env(ctx, listen, args, &[])
    }

    /// With extra environment variables (delivery secrets, the scheduler's clock).
    pub fn start_env(
        ctx: &TestContext,
        listen: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = ctx
            .std_cmd()
            .args(["serve", "--listen", listen])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://") {
                    let url: String = line[at..].split_whitespace().next().unwrap().to_string();
                    let _ = tx.send(Ok(url));
                } else if line.contains("error") {
                    let _ = tx.send(Err(line));
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(url)) => url,
            other => {
                let _ = child.kill();
                panic!("the server did not start: {other:?}")
            }
        };
        Server { child, url }
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        signal(&self.child, "-TERM");
        self.child.wait().unwrap()
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        self.request("POST", path, &[("Content-Type", content_type)], Some(body))
    }

    pub fn post_events(&self, body: &Value) -> Value {
        let (status, text) = self.post(
            "/v1/events",
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], None)
    }

    pub fn report(&self, query: &str) -> Value {
        let (status, text) = self.get(&format!("/v1/report?{query}"));
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> (u16, String) {
        http(method, &format!("{}{path}", self.url), headers, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(child: &Child, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let response = match (method, body) {
        ("GET", _) => {
            let mut request = agent.get(url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            request.call()
        }
        (_, body) => {
            let mut request = agent.post(url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            request.send(body.unwrap_or_default())
        }
    };
    let mut response = response.unwrap();
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, text)
}

/// A normalized event as the ledger writes it.
pub fn event(key: &str, session: &str, agent: &str, input: u64, output: u64) -> Value {
    json!({
        "timestamp": "2026-03-01T10:00:00Z", "source": "claude-code", "agent_id": agent,
        "session": session, "model": "claude-sonnet-4-5",
        "tokens": {"input": input, "output": output, "cache_read": 0, "cache_write_5m": 0,
                   "cache_write_1h": 0, "reasoning": 0},
        "reported_cost": null, "task": null, "project": null, "dedupe_key": key
    })
}

/// A register entry in the seed's shape.
pub fn register_entry(key: &str, agent: &str, input: u64, output: u64) -> Value {
    json!({
        "timestamp": "2026-03-01T12:00:00Z", "session_key": key, "agent_id": agent,
        "model": "claude-sonnet-4-5", "tokens_input": input, "tokens_output": output, "cost": 0.5
    })
}

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
