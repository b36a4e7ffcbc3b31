//! A tiny HTTP/1.1 server on 127.0.0.1 standing in for the Telegram,
//! Discord and Slack APIs: it answers from a script and records every
//! request. It stops by itself when dropped or after two minutes.

use crate::common::TestContext;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn ok(body: &str) -> Reply {
        Reply::status(200, body)
    }

    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

pub struct MockServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl MockServer {
    /// Answers with `script` in order, then with `fallback` for ever after.
    pub fn start(script: Vec<Reply>, fallback: Reply) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (recorded, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut script = script.into_iter();
            while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let reply = script.next().unwrap_or_else(|| fallback.clone());
                        serve(stream, &reply, &recorded);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        MockServer {
            url,
            requests,
            stop,
        }
    }

    /// A server that accepts everything the way the channel's API does.
    pub fn telegram() -> MockServer {
        MockServer::start(vec![], Reply::ok(r#"{"ok":true,"result":{}}"#))
    }

    pub fn webhook() -> MockServer {
        MockServer::start(vec![], Reply::ok("ok"))
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Records the request before answering it, so a client that exits on
/// the answer never races the record.
fn serve(mut stream: TcpStream, reply: &Reply, recorded: &Mutex<Vec<Recorded>>) -> Option<()> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    recorded.lock().unwrap().push(Recorded {
        path,
        headers,
        body: buf[head_end..].to_vec(),
    });
    let mut response = format!(
        "HTTP/1.1 {} Mock\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        response.push_str(&format!("{k}: {v}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    stream.write_all(response.as_bytes()).ok()
}

// The channels' settings and secrets the delivery tests share.

pub const TOKEN: &str = "987654:TOPSECRET-bot-token";
pub const DISCORD: &str = "https://discord.com/api/webhooks/111/DISCORDSECRET";
pub const SLACK: &str = "https://hooks.slack.com/services/T0/B0/SLACKSECRET";

/// `[notify.*]` pointing at the servers; secrets come from the environment.
pub fn notify_config(tg: &MockServer, dc: &MockServer, sl: &MockServer) -> String {
    format!(
        "[notify.telegram]\nbot_token_env = \"TL_TG\"\nchat_id = -100777\nthread_id = 9\napi_url = \"{}\"\n\n\
         [notify.discord]\nwebhook_url_env = \"TL_DC\"\napi_url = \"{}\"\n\n\
         [notify.slack]\nwebhook_url_env = \"TL_SL\"\napi_url = \"{}\"\n",
        tg.url, dc.url, sl.url
    )
}

pub fn run_with_secrets(t: &TestContext, args: &[&str]) -> Output {
    t.cmd()
        .args(args)
        .env("TL_TG", TOKEN)
        .env("TL_DC", DISCORD)
        .env("TL_SL", SLACK)
        .output()
        .unwrap()
}

pub fn assert_no_secret(out: &Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in ["TOPSECRET", "DISCORDSECRET", "SLACKSECRET"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}
