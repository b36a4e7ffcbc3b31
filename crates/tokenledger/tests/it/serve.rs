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
