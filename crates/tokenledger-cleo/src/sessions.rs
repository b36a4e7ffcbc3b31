//! `SESSIONS.jsonl`, tier 1: one record when a session starts and one when
//! it ends, in the spec's shape (`timestamp, session_id, event,
//! tokens{input, output, total, delta}, duration_minutes, tasks_completed`)
//! plus where the figures came from. The reader also takes the shape CLEO
//! really wrote (`start_timestamp`, `tokens{start, end, consumed, max}`),
//! pretty-printed or compact, and two records for one session.

use crate::error::Result;
use crate::jsonl::{self, count_field, str_field};
use jiff::Timestamp;
use serde_json::Value;
use std::path::Path;
use tokenledger_core::Warning;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::time::{format_register_timestamp, parse_timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Start,
    End,
}

/// Where a record's token figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokensSource {
    /// The session's Claude Code transcript (and its subagents'): billed usage.
    Transcript,
    /// A tokenledger collector's totals for the session: its OpenTelemetry
    /// data (Claude Code's `api_request` events and token metrics).
    Collector,
    /// A `.claude/context-state.json` in the spec's shape.
    ContextState,
    /// Estimated from the session's TOKEN_USAGE records.
    Estimate,
    /// CLEO's own records: context-window size, not billed tokens.
    CleoContext,
}

impl TokensSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TokensSource::Transcript => "claude-code-transcript",
            TokensSource::Collector => "collector-otel",
            TokensSource::ContextState => "context-state",
            TokensSource::Estimate => "estimate",
            TokensSource::CleoContext => "cleo-context-window",
        }
    }

    fn parse(text: &str) -> TokensSource {
        match text {
            "claude-code-transcript" => TokensSource::Transcript,
            "collector-otel" => TokensSource::Collector,
            "context-state" => TokensSource::ContextState,
            "cleo-context-window" => TokensSource::CleoContext,
            _ => TokensSource::Estimate,
        }
    }

    pub fn is_estimate(self) -> bool {
        matches!(self, TokensSource::Estimate | TokensSource::CleoContext)
    }
}

/// One session record, written or read.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub timestamp: Timestamp,
    pub session_id: String,
    pub event: Event,
    /// The session's cumulative tokens at this point.
    pub tokens: TokenCounts,
    /// `tokens.total()`, or for CLEO's own records the only figure they have.
    pub total: u64,
    /// Tokens since the start record (the whole total without one).
    pub delta: u64,
    pub duration_minutes: Option<u64>,
    pub tasks_completed: Option<u64>,
    pub source: TokensSource,
    pub claude_session_id: Option<String>,
    pub model: Option<String>,
    pub cost_usd: Option<f64>,
    /// The line the record starts on, when read.
    pub line: u64,
}

impl SessionRecord {
    /// `total` is everything billed (input, output, cache reads and writes),
    /// tokenledger's meaning of total everywhere; the spec's example had no
    /// cache figures, where both meanings agree.
    pub fn to_line(&self) -> String {
        let t = &self.tokens;
        let json = |v: Value| v.to_string();
        // serde_json's maps sort their keys; the spec's order is kept by hand.
        let tokens = format!(
            "{{\"input\":{},\"output\":{},\"total\":{},\"delta\":{},\"cache_read\":{},\"cache_write\":{},\"cache_write_1h\":{}}}",
            t.input,
            t.output,
            self.total,
            self.delta,
            t.cache_read,
            t.cache_write(),
            t.cache_write_1h
        );
        let fields = [
            (
                "timestamp",
                json(format_register_timestamp(self.timestamp).into()),
            ),
            ("session_id", json(self.session_id.as_str().into())),
            ("event", json(self.event_name().into())),
            ("tokens", tokens),
            ("duration_minutes", json(self.duration_minutes.into())),
            ("tasks_completed", json(self.tasks_completed.into())),
            ("tokens_source", json(self.source.as_str().into())),
            ("estimated", json(self.source.is_estimate().into())),
            (
                "claude_session_id",
                json(self.claude_session_id.clone().into()),
            ),
            ("model", json(self.model.clone().into())),
            ("cost_usd", json(self.cost_usd.into())),
        ];
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}\n", body.join(","))
    }

    pub fn event_name(&self) -> &'static str {
        match self.event {
            Event::Start => "start",
            Event::End => "end",
        }
    }

    pub fn append(&self, path: &Path) -> Result<()> {
        jsonl::append_line(path, &self.to_line())
    }

    fn from_value(v: &Value, line: u64) -> std::result::Result<SessionRecord, String> {
        let session_id = str_field(v, "session_id").ok_or("no session_id")?;
        let time = |key| {
            str_field(v, key)
                .map(|t| parse_timestamp(t).map_err(|_| format!("{key} is not ISO 8601")))
        };
        let tokens_v = v.get("tokens").cloned().unwrap_or(Value::Null);
        let count = |key| count_field(&tokens_v, key);
        // CLEO's real writers: start/end timestamps and context-window sizes.
        if let Some(end) = time("end_timestamp") {
            let end = end?;
            let start = time("start_timestamp").transpose()?;
            let total = count("consumed").unwrap_or(0);
            return Ok(SessionRecord {
                timestamp: end,
                session_id: session_id.to_string(),
                event: Event::End,
                tokens: TokenCounts::default(),
                total,
                delta: total,
                duration_minutes: start.map(|s| minutes(s, end)),
                tasks_completed: v
                    .get("stats")
                    .and_then(|s| count_field(s, "tasks_completed")),
                source: TokensSource::CleoContext,
                claude_session_id: None,
                model: None,
                cost_usd: None,
                line,
            });
        }
        let timestamp = time("timestamp").ok_or("no timestamp")??;
        let event = match str_field(v, "event") {
            Some("start") => Event::Start,
            Some("end") | None => Event::End,
            Some(other) => return Err(format!("event {other:?} is neither start nor end")),
        };
        let cache_write = count("cache_write").unwrap_or(0);
        let cache_write_1h = count("cache_write_1h").unwrap_or(0).min(cache_write);
        let tokens = TokenCounts {
            input: count("input").unwrap_or(0),
            output: count("output").unwrap_or(0),
            cache_read: count("cache_read").unwrap_or(0),
            cache_write_5m: cache_write - cache_write_1h,
            cache_write_1h,
            reasoning: 0,
        };
        let total = count("total").unwrap_or_else(|| tokens.total());
        let source = match str_field(v, "tokens_source") {
            Some(s) => TokensSource::parse(s),
            // The spec's records say nothing; its source was "actual data".
            None => TokensSource::ContextState,
        };
        Ok(SessionRecord {
            timestamp,
            session_id: session_id.to_string(),
            event,
            tokens,
            total,
            delta: count("delta").unwrap_or(total),
            duration_minutes: count_field(v, "duration_minutes"),
            tasks_completed: count_field(v, "tasks_completed"),
            source,
            claude_session_id: str_field(v, "claude_session_id").map(str::to_string),
            model: str_field(v, "model").map(str::to_string),
            cost_usd: v.get("cost_usd").and_then(Value::as_f64),
            line,
        })
    }
}

pub fn minutes(start: Timestamp, end: Timestamp) -> u64 {
    (end.as_second() - start.as_second()).max(0) as u64 / 60
}

/// Every record in `path` in file order; a missing file has none.
pub fn read(path: &Path) -> Result<(Vec<SessionRecord>, Vec<Warning>)> {
    let (values, mut warnings) = jsonl::read_values(path)?;
    let mut records = Vec::with_capacity(values.len());
    for read in values {
        match SessionRecord::from_value(&read.value, read.line) {
            Ok(record) => records.push(record),
            Err(message) => warnings.push(Warning {
                path: path.to_path_buf(),
                line: Some(read.line),
                message: format!("session record skipped: {message}"),
            }),
        }
    }
    Ok((records, warnings))
}

/// One end record per session: CLEO wrote two per session (one of them all
/// zeros), so an actual figure beats an estimate, then the bigger total,
/// then the later record.
pub fn ends_by_session(records: &[SessionRecord]) -> Vec<&SessionRecord> {
    let mut best: Vec<&SessionRecord> = Vec::new();
    for r in records.iter().filter(|r| r.event == Event::End) {
        match best.iter_mut().find(|b| b.session_id == r.session_id) {
            Some(b) => {
                let rank = |x: &SessionRecord| (!x.source.is_estimate(), x.total);
                if rank(r) >= rank(b) {
                    *b = r;
                }
            }
            None => best.push(r),
        }
    }
    best
}

/// The latest start record of `session_id` (or of the Claude session `claude`).
pub fn find_start<'a>(
    records: &'a [SessionRecord],
    session_id: Option<&str>,
    claude: Option<&str>,
) -> Option<&'a SessionRecord> {
    records.iter().rev().find(|r| {
        r.event == Event::Start
            && (session_id.is_some_and(|s| r.session_id == s)
                || claude.is_some_and(|c| r.claude_session_id.as_deref() == Some(c)))
    })
}

/// The latest session started and not yet ended.
pub fn open_session(records: &[SessionRecord]) -> Option<&SessionRecord> {
    records.iter().rev().find(|r| {
        r.event == Event::Start
            && !records
                .iter()
                .any(|e| e.event == Event::End && e.session_id == r.session_id && e.line > r.line)
    })
}

/// `session_YYYYMMDD_HHMMSS_xxxxxx`, the spec's id, with six digits from
/// `salt` (a Claude session id, so every hook names the session alike).
pub fn new_session_id(at: Timestamp, salt: &str) -> String {
    let n = xxhash_rust::xxh3::xxh3_64(salt.as_bytes()) % 1_000_000;
    format!("session_{}_{n:06}", at.strftime("%Y%m%d_%H%M%S"))
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
