//! Talking to a collector (`tokenledger serve`): `report --remote`, and
//! `log`/`sync --remote`, which spool events under the home while the
//! collector is unreachable and deliver them on the next call. The
//! collector stores by dedupe key, so delivering a batch twice counts once.

use crate::context::{Context, invalid, warn};
use anyhow::{Context as _, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokenledger_cleo::lifecycle::{CollectorLookup, CollectorTotals};
use tokenledger_core::event::TokenCounts;

/// The bearer token for the collector, from the environment (never a flag:
/// flags end up in shell history and process lists).
const TOKEN_ENV: &str = "TOKENLEDGER_TOKEN";
/// Events per request: well under the collector's default body limit.
const BATCH: usize = 500;

pub struct Remote {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// What a delivery did: the collector's counts, or that it was spooled.
#[derive(Debug, Default)]
pub struct Delivered {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<String>,
    pub spooled: Option<PathBuf>,
}

enum Failure {
    /// Not reached, or it failed on its side: try again later.
    Unreachable(String),
    /// It refused the request: retrying the same bytes will not help.
    Refused(String),
}

impl Remote {
    pub fn new(url: &str) -> anyhow::Result<Remote> {
        Remote::with_timeout(url, Duration::from_secs(60))
    }

    pub fn with_timeout(url: &str, timeout: Duration) -> anyhow::Result<Remote> {
        let base = url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid(format!(
                "--remote {url:?}: use an http:// or https:// URL"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .build()
            .into();
        let token = std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty());
        Ok(Remote { base, agent, token })
    }

    fn call(&self, path: &str, body: Option<&[u8]>) -> Result<Vec<u8>, Failure> {
        let url = format!("{}{path}", self.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let response = match body {
            Some(body) => {
                let mut request = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/x-ndjson");
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.send(body)
            }
            None => {
                let mut request = self.agent.get(&url);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.call()
            }
        };
        let mut response = response.map_err(|e| Failure::Unreachable(format!("{url}: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_vec()
            .map_err(|e| Failure::Unreachable(format!("{url}: reading the answer: {e}")))?;
        if status == 200 {
            return Ok(text);
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let reason = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        let message = format!("{url}: HTTP {status}: {reason}");
        if status == 429 || status >= 500 {
            Err(Failure::Unreachable(message))
        } else {
            Err(Failure::Refused(message))
        }
    }

    /// `GET /v1/report` with `pairs` as the query; the JSON contract as sent.
    /// The report as the collector renders it (a PNG is bytes, not text).
    pub fn report(&self, pairs: &[(&str, String)]) -> anyhow::Result<Vec<u8>> {
        let query: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        match self.call(&format!("/v1/report?{query}"), None) {
            Ok(text) => Ok(text),
            Err(Failure::Unreachable(m)) => bail!("the collector is unreachable: {m}"),
            Err(Failure::Refused(m)) => bail!("the collector refused the report: {m}"),
        }
    }

    /// Delivers what the spool holds, then `events`; what cannot be
    /// delivered now is spooled (one file per batch, written atomically).
    pub fn deliver(&self, ctx: &Context, events: &[Value]) -> anyhow::Result<Delivered> {
        let spool = ctx.home.join("spool");
        let mut delivered = Delivered::default();
        let mut reachable = self.flush_spool(&spool, &mut delivered)?;
        for chunk in events.chunks(BATCH) {
            let body = ndjson(chunk);
            if reachable {
                match self.post(&body, &mut delivered) {
                    Ok(()) => continue,
                    Err(Failure::Refused(m)) => bail!("the collector refused the events: {m}"),
                    Err(Failure::Unreachable(m)) => {
                        warn(&format_args!(
                            "the collector is unreachable ({m}); spooling"
                        ));
                        reachable = false;
                    }
                }
            }
            delivered.spooled = Some(spool_batch(&spool, &body)?);
        }
        Ok(delivered)
    }

    fn post(&self, body: &[u8], delivered: &mut Delivered) -> Result<(), Failure> {
        let text = self.call("/v1/events", Some(body))?;
        let text = String::from_utf8_lossy(&text);
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| Failure::Refused(format!("unexpected answer {text:?}: {e}")))?;
        delivered.accepted += answer["accepted"].as_u64().unwrap_or(0);
        delivered.duplicates += answer["duplicates"].as_u64().unwrap_or(0);
        for r in answer["rejected"].as_array().into_iter().flatten() {
            delivered
                .rejected
                .push(r["reason"].as_str().unwrap_or("?").to_string());
        }
        Ok(())
    }

    /// Oldest first; stops at the first batch that cannot be delivered.
    fn flush_spool(&self, spool: &Path, delivered: &mut Delivered) -> anyhow::Result<bool> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(spool) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
                .collect(),
            Err(_) => return Ok(true),
        };
        files.sort();
        for file in files {
            // Another `--remote` call flushing the same spool may deliver and
            // remove a batch first: gone means delivered.
            let body = match std::fs::read(&file) {
                Ok(body) => body,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
            };
            match self.post(&body, delivered) {
                Ok(()) => match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e)
                            .with_context(|| format!("removing delivered {}", file.display()));
                    }
                    _ => {}
                },
                Err(Failure::Unreachable(_)) => return Ok(false),
                Err(Failure::Refused(m)) => {
                    warn(&format_args!(
                        "{} was refused and stays in the spool: {m}",
                        file.display()
                    ));
                }
            }
        }
        Ok(true)
    }
}

fn ndjson(events: &[Value]) -> Vec<u8> {
    let mut body = Vec::new();
    for event in events {
        body.extend_from_slice(event.to_string().as_bytes());
        body.push(b'\n');
    }
    body
}

/// Temp file, fsync, rename: a batch is in the spool whole or not at all.
fn spool_batch(spool: &Path, body: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(spool).with_context(|| format!("creating {}", spool.display()))?;
    let now = jiff::Timestamp::now().as_nanosecond();
    let name = format!("{now:020}-{}.ndjson", std::process::id());
    let path = spool.join(&name);
    let tmp = spool.join(format!(".{name}.tmp"));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut file| file.write_all(body).and_then(|()| file.sync_all()))
        .with_context(|| format!("writing {}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, &path).with_context(|| format!("renaming {}", tmp.display()))
        });
    if written.is_err() {
        // A disk that filled up mid-write must not keep the fragment.
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // The batch is acknowledged as spooled: make the rename durable too.
    std::fs::File::open(spool)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("syncing {}", spool.display()))?;
    Ok(path)
}

/// Percent-encoding for query values: everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a collector may hold a session's OpenTelemetry data:
/// `TOKENLEDGER_COLLECTOR`, else the `OTEL_EXPORTER_OTLP_ENDPOINT` Claude
/// Code exports to (hooks inherit its environment), when it is plain HTTP(S).
pub fn collector_from_env() -> Option<Arc<dyn CollectorLookup>> {
    let url = ["TOKENLEDGER_COLLECTOR", "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|url| url.starts_with("http://") || url.starts_with("https://"))?;
    let remote = Remote::with_timeout(&url, COLLECTOR_TIMEOUT).ok()?;
    Some(Arc::new(CollectorQuery { remote }))
}

/// Hooks have 1.5 s in all; an unreachable collector must not use it up.
const COLLECTOR_TIMEOUT: Duration = Duration::from_millis(1000);

struct CollectorQuery {
    remote: Remote,
}

impl std::fmt::Debug for CollectorQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CollectorQuery({})", self.remote.base)
    }
}

impl CollectorLookup for CollectorQuery {
    fn session_totals(&self, claude_session_id: &str) -> Option<CollectorTotals> {
        let text = self
            .remote
            .report(&[("session", claude_session_id.to_string())])
            .ok()?;
        let doc: Value = serde_json::from_slice(&text).ok()?;
        let totals = doc.get("totals")?;
        let count = |key: &str| totals.get(key).and_then(Value::as_u64).unwrap_or(0);
        if count("events") == 0 {
            return None;
        }
        Some(CollectorTotals {
            tokens: TokenCounts {
                input: count("input_tokens"),
                output: count("output_tokens"),
                cache_read: count("cache_read_tokens"),
                // The contract sums both cache-write TTLs; totals are what matter here.
                cache_write_5m: count("cache_write_tokens"),
                ..TokenCounts::default()
            },
            cost_usd: totals.get("cost_usd").and_then(Value::as_f64),
        })
    }
}
