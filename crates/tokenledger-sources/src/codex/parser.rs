//! One rollout line to one record. This runs in the parallel stage of
//! `scan_lines`, so it keeps no state: turn accounting happens in `loader`.

use jiff::Timestamp;
use memchr::memmem::Finder;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::sync::LazyLock;
use tokenledger_core::time::parse_timestamp;

// Most rollout lines are large `response_item`s we never need; these needles
// let us skip them without running the JSON parser at all.
static TOKEN_COUNT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"token_count\""));
static TURN_CONTEXT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"turn_context\""));
static SESSION_META: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"session_meta\""));
static TASK_STARTED: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"task_started\""));

/// Codex's `TokenUsage`: `cached_input_tokens` is inside `input_tokens` and
/// `reasoning_output_tokens` inside `output_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct Usage {
    #[serde(default, deserialize_with = "count")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "count", alias = "cache_read_input_tokens")]
    pub cached_input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub reasoning_output_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub total_tokens: u64,
}

impl Usage {
    /// The running total a snapshot stands for. Some builds leave
    /// `total_tokens` at 0, so the parts are taken when they are larger.
    pub fn cumulative(&self) -> u64 {
        self.total_tokens
            .max(self.input_tokens.saturating_add(self.output_tokens))
    }

    pub fn saturating_sub(&self, earlier: &Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_sub(earlier.input_tokens),
            cached_input_tokens: self
                .cached_input_tokens
                .saturating_sub(earlier.cached_input_tokens),
            output_tokens: self.output_tokens.saturating_sub(earlier.output_tokens),
            reasoning_output_tokens: self
                .reasoning_output_tokens
                .saturating_sub(earlier.reasoning_output_tokens),
            total_tokens: self.total_tokens.saturating_sub(earlier.total_tokens),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.input_tokens == 0 && self.output_tokens == 0 && self.cached_input_tokens == 0
    }
}

/// `null` counts as 0: a missing counter and an explicit null mean the same.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    payload: Option<RawPayload<'a>>,
}

/// The union of the payload fields we read from the three line types.
#[derive(Deserialize)]
struct RawPayload<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    info: Option<RawInfo<'a>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    originator: Option<Cow<'a, str>>,
    // The fields below only steer the replay detection of forks: read
    // leniently (a value of another type is no value), so a payload that
    // happens to use one of these names differently still yields its usage.
    /// `session_meta` of a fork: the thread it was forked from.
    #[serde(default, borrow, deserialize_with = "text")]
    forked_from_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "text")]
    parent_thread_id: Option<Cow<'a, str>>,
    /// `session_meta`: `"cli"`, `"exec"`, … or `{"subagent": …}` for a
    /// thread Codex spawned itself.
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default, borrow, deserialize_with = "text")]
    thread_source: Option<Cow<'a, str>>,
    /// `session_meta`: when the thread was created.
    #[serde(default, borrow, rename = "timestamp", deserialize_with = "text")]
    created: Option<Cow<'a, str>>,
    /// `turn_context` and `task_started`: the turn's id (a UUIDv7 in
    /// current builds, so it tells when the turn began).
    #[serde(default, borrow, deserialize_with = "text")]
    turn_id: Option<Cow<'a, str>>,
}

/// A string, or nothing for any other JSON value.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(Cow::Owned(s)),
        _ => None,
    })
}

#[derive(Deserialize)]
struct RawInfo<'a> {
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    last_token_usage: Option<Usage>,
    #[serde(default)]
    total_token_usage: Option<Usage>,
}

/// One `token_count` event that carried usage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub timestamp: Option<Timestamp>,
    pub model: Option<String>,
    pub last: Option<Usage>,
    pub total: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Meta(Meta),
    /// A `turn_context`: the model of the turns that follow.
    Context {
        model: Option<String>,
        turn_id: Option<String>,
    },
    /// A `task_started` event: a turn begins.
    TurnStarted {
        turn_id: Option<String>,
    },
    Count(Snapshot),
}

/// A `session_meta` line.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Meta {
    pub id: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub cwd: Option<String>,
    pub originator: Option<String>,
    /// Set for a fork or a spawned subagent: such a rollout starts by
    /// replaying its parent's history, `token_count`s included.
    pub child: bool,
}

/// `Ok(None)` for lines we do not need, including `token_count` events with
/// `"info":null` (rate-limit-only heartbeats); `Err` for lines that look like
/// ours but do not parse.
pub(crate) fn parse_line(bytes: &[u8]) -> Result<Option<Record>, String> {
    let wanted = TOKEN_COUNT.find(bytes).is_some()
        || TURN_CONTEXT.find(bytes).is_some()
        || SESSION_META.find(bytes).is_some()
        || TASK_STARTED.find(bytes).is_some();
    if !wanted {
        return Ok(None);
    }
    let line: RawLine<'_> = match serde_json::from_slice(bytes) {
        Ok(line) => line,
        Err(e) => return describe_failure(bytes, e).map_or(Ok(None), Err),
    };
    let Some(payload) = line.payload else {
        return Ok(None);
    };
    let owned = |s: Option<Cow<'_, str>>| s.map(Cow::into_owned).filter(|s| !s.is_empty());
    let timestamp = line.timestamp.and_then(|t| parse_timestamp(&t).ok());
    match line.kind.as_deref() {
        Some("session_meta") => Ok(Some(Record::Meta(Meta {
            child: payload.forked_from_id.is_some_and(|p| !p.is_empty())
                || payload.parent_thread_id.is_some_and(|p| !p.is_empty())
                || payload.thread_source.as_deref() == Some("subagent")
                || payload
                    .source
                    .as_ref()
                    .is_some_and(|s| s.get("subagent").is_some()),
            id: owned(payload.id),
            // The later of the two: the replay is written after both.
            timestamp: timestamp.max(payload.created.and_then(|t| parse_timestamp(&t).ok())),
            cwd: owned(payload.cwd),
            originator: owned(payload.originator),
        }))),
        Some("turn_context") => Ok(Some(Record::Context {
            model: owned(payload.model),
            turn_id: owned(payload.turn_id),
        })),
        Some("event_msg") if payload.kind.as_deref() == Some("task_started") => {
            Ok(Some(Record::TurnStarted {
                turn_id: owned(payload.turn_id),
            }))
        }
        Some("event_msg") if payload.kind.as_deref() == Some("token_count") => {
            let Some(info) = payload.info else {
                return Ok(None);
            };
            if info.last_token_usage.is_none() && info.total_token_usage.is_none() {
                return Ok(None);
            }
            Ok(Some(Record::Count(Snapshot {
                timestamp,
                model: owned(info.model),
                last: info.last_token_usage,
                total: info.total_token_usage,
            })))
        }
        _ => Ok(None),
    }
}

/// A line that is valid JSON but of another shape (say, a message quoting
/// the word "token_count") is not ours; only broken JSON or a `token_count`
/// event we cannot read deserves a warning.
fn describe_failure(bytes: &[u8], error: serde_json::Error) -> Option<String> {
    #[derive(Deserialize)]
    struct Kinds<'a> {
        #[serde(default, rename = "type", borrow)]
        kind: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        payload: Option<PayloadKind<'a>>,
    }
    #[derive(Deserialize)]
    struct PayloadKind<'a> {
        #[serde(default, rename = "type", borrow)]
        kind: Option<Cow<'a, str>>,
    }
    match serde_json::from_slice::<Kinds<'_>>(bytes) {
        Ok(k) => {
            let payload_kind = k.payload.and_then(|p| p.kind);
            match (k.kind.as_deref(), payload_kind.as_deref()) {
                (Some("event_msg"), Some("token_count"))
                | (Some("turn_context" | "session_meta"), _) => Some(format!(
                    "unreadable {} record ({error}); line skipped",
                    k.kind.unwrap_or_default()
                )),
                _ => None,
            }
        }
        Err(_) => Some(format!("malformed JSON ({error}); line skipped")),
    }
}
