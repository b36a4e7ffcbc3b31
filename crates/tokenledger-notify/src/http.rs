//! HTTPS with rustls (ureq), retries with exponential backoff on 429 and
//! 5xx, honouring `Retry-After` and Telegram's `parameters.retry_after`.

use crate::error::Error;
use crate::{Secret, scrub};
use std::time::Duration;

/// One POST. `url` may hold a secret; `shown_url` never does.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub shown_url: String,
    pub body: Body,
    /// Telegram answers 200 with `"ok": false` on some failures.
    pub expect_ok_field: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    Json(serde_json::Value),
    /// Text fields then one file, as `multipart/form-data`.
    Multipart {
        fields: Vec<(String, String)>,
        file: FilePart,
    },
}

#[derive(Debug, Clone)]
pub struct FilePart {
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Request {
    /// What `--dry-run` prints: the redacted endpoint and the exact body
    /// (a file is described, not dumped).
    pub fn describe(&self) -> String {
        match &self.body {
            Body::Json(value) => {
                let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
                format!(
                    "POST {}\nContent-Type: application/json\n{pretty}",
                    self.shown_url
                )
            }
            Body::Multipart { fields, file } => {
                let mut out = format!("POST {}\nContent-Type: multipart/form-data", self.shown_url);
                for (name, value) in fields {
                    out.push_str(&format!("\n{name}: {value}"));
                }
                out.push_str(&format!(
                    "\n{}: {} ({}, {} bytes)",
                    file.field,
                    file.filename,
                    file.content_type,
                    file.bytes.len()
                ));
                out
            }
        }
    }

    fn encode(&self) -> (String, Vec<u8>) {
        match &self.body {
            Body::Json(value) => (
                "application/json".to_string(),
                value.to_string().into_bytes(),
            ),
            Body::Multipart { fields, file } => {
                let boundary = "tokenledger-7a1c0e9f3b5d4e2a8c6b0d1f";
                let mut body = Vec::new();
                for (name, value) in fields {
                    body.extend_from_slice(
                        format!(
                            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                        )
                        .as_bytes(),
                    );
                }
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                        file.field, file.filename, file.content_type
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&file.bytes);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                (format!("multipart/form-data; boundary={boundary}"), body)
            }
        }
    }
}

/// How hard to try. The defaults keep one channel's worst case under a
/// minute, so a cron job never piles up behind a dead API.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    /// A server asking for a longer wait than this is not waited for.
    pub max_wait: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
    policy: RetryPolicy,
}

impl Client {
    pub fn new(policy: RetryPolicy) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(policy.timeout))
            .timeout_connect(Some(Duration::from_secs(10)))
            .user_agent(concat!("tokenledger/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, policy }
    }

    /// Sends `request`, retrying what may succeed later. `secrets` are
    /// scrubbed from any text that ends up in an error.
    pub fn send(&self, request: &Request, secrets: &[Secret]) -> Result<(), Error> {
        let endpoint = request.shown_url.clone();
        let (content_type, bytes) = request.encode();
        let mut backoff = self.policy.first_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self
                .agent
                .post(&request.url)
                .header("Content-Type", &content_type)
                .send(&bytes[..]);
            let (reason, wait) = match outcome {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let header_wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok());
                    let text = response
                        .body_mut()
                        .with_config()
                        .limit(1 << 20)
                        .read_to_string()
                        .unwrap_or_default();
                    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
                    let reason = scrub(&api_reason(json.as_ref(), &text), secrets);
                    let ok_field = json
                        .as_ref()
                        .and_then(|j| j.get("ok"))
                        .and_then(|v| v.as_bool());
                    if (200..300).contains(&status) {
                        if request.expect_ok_field && ok_field != Some(true) {
                            return Err(Error::Rejected {
                                endpoint,
                                status,
                                reason,
                            });
                        }
                        return Ok(());
                    }
                    if status != 429 && status < 500 {
                        return Err(Error::Rejected {
                            endpoint,
                            status,
                            reason,
                        });
                    }
                    let wait = header_wait.or_else(|| body_retry_after(json.as_ref()));
                    (format!("HTTP {status}: {reason}"), wait)
                }
                Err(e) => (scrub(&transport_reason(&e), secrets), None),
            };
            let wait = wait.map_or(backoff, |s| Duration::from_secs_f64(s.clamp(0.0, 86_400.0)));
            if attempt >= self.policy.attempts {
                return Err(Error::GaveUp {
                    endpoint,
                    attempts: attempt,
                    reason,
                });
            }
            if wait > self.policy.max_wait {
                return Err(Error::GaveUp {
                    endpoint,
                    attempts: attempt,
                    reason: format!(
                        "{reason} (asked to wait {} s; try again later)",
                        wait.as_secs()
                    ),
                });
            }
            std::thread::sleep(wait);
            backoff = backoff.saturating_mul(2);
        }
    }
}

/// The API's own words: Telegram's `description`, Discord's `message`,
/// Slack's plain-text body.
fn api_reason(json: Option<&serde_json::Value>, text: &str) -> String {
    let field = |k: &str| json.and_then(|j| j.get(k)).and_then(|v| v.as_str());
    let reason = field("description")
        .or_else(|| field("message"))
        .or_else(|| field("error"))
        .unwrap_or(text)
        .trim();
    let reason: String = reason.chars().take(300).collect();
    if reason.is_empty() {
        "no details given".to_string()
    } else {
        reason
    }
}

/// Telegram: `parameters.retry_after`; Discord: `retry_after` (seconds, may be fractional).
fn body_retry_after(json: Option<&serde_json::Value>) -> Option<f64> {
    let json = json?;
    json.pointer("/parameters/retry_after")
        .or_else(|| json.get("retry_after"))
        .and_then(|v| v.as_f64())
}

/// Built from the error's kind, never from its text alone, which may quote the URL.
fn transport_reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) => format!("network error: {io}"),
        ureq::Error::BadUri(_) => "invalid URL; check api_url or the webhook URL".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_comes_from_telegram_or_discord_bodies() {
        let tg = json!({"ok": false, "parameters": {"retry_after": 5}});
        assert_eq!(body_retry_after(Some(&tg)), Some(5.0));
        assert_eq!(
            body_retry_after(Some(&json!({"retry_after": 0.5}))),
            Some(0.5)
        );
        assert_eq!(body_retry_after(None), None);
    }

    #[test]
    fn reasons_are_the_apis_own_words() {
        let tg = json!({"ok": false, "description": "Bad Request: chat not found"});
        assert_eq!(api_reason(Some(&tg), ""), "Bad Request: chat not found");
        assert_eq!(api_reason(None, "invalid_payload\n"), "invalid_payload");
        assert_eq!(api_reason(None, ""), "no details given");
    }

    #[test]
    fn dry_run_shows_the_redacted_url_and_describes_files() {
        let request = Request {
            url: "https://api.telegram.org/bot1:SECRET/sendPhoto".into(),
            shown_url: "https://api.telegram.org/bot<redacted>/sendPhoto".into(),
            body: Body::Multipart {
                fields: vec![("chat_id".into(), "42".into())],
                file: FilePart {
                    field: "photo".into(),
                    filename: "chart.png".into(),
                    content_type: "image/png".into(),
                    bytes: vec![0; 10],
                },
            },
            expect_ok_field: true,
        };
        let shown = request.describe();
        assert!(!shown.contains("SECRET"));
        assert!(
            shown.contains("photo: chart.png (image/png, 10 bytes)"),
            "{shown}"
        );
        let (ct, body) = request.encode();
        assert!(ct.starts_with("multipart/form-data; boundary="));
        assert!(String::from_utf8_lossy(&body).contains("name=\"chat_id\"\r\n\r\n42\r\n"));
    }
}
