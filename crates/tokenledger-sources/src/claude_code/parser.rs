//! One transcript line → at most one usage record.
//!
//! Only lines containing `"usage"` are parsed at all (most lines are user
//! prompts, tool results and progress without usage). Parsing borrows from the
//! line and skips everything it does not name (`content` is most of a line).
//! The validity rules mirror ccusage v20 so per-day totals agree with it: a
//! line is dropped when one of its identifying fields is `null` or empty, its
//! `version` is not semver, or its usage lacks input/output counts.

use super::fields::{Field, Obj, Str};
use jiff::Timestamp;
use memchr::memmem::Finder;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::sync::LazyLock;
use tokenledger_core::event::TokenCounts;

/// A usage record, owned: big files are parsed on other threads into reused buffers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    pub timestamp: Timestamp,
    pub message_id: Option<Box<str>>,
    pub request_id: Option<Box<str>>,
    pub model: Option<Box<str>>,
    /// The line's `sessionId` (the parent session's id, even in subagent files).
    pub session_id: Option<Box<str>>,
    pub agent_id: Option<Box<str>>,
    pub cwd: Option<Box<str>>,
    pub tokens: TokenCounts,
    /// `usage.speed` is present (either value): it breaks dedupe ties.
    pub has_speed: bool,
    pub fast: bool,
    pub sidechain: bool,
    /// Mirrored into a parent transcript as a nested `progress` entry.
    pub progress: bool,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, PartialEq)]
pub(super) enum Parsed {
    /// No usage here (most lines), or usage never counted (`<synthetic>`).
    Nothing,
    Record(Box<Record>),
    /// Valid JSON, skipped for the reason given.
    Skipped(String),
    /// Not JSON (or not an object).
    Malformed(String),
}

static USAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

pub(super) fn parse_line(bytes: &[u8]) -> Parsed {
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Parsed::Nothing;
    };
    if bytes[first] != b'{' {
        return Parsed::Malformed("not a JSON object".into());
    }
    if USAGE.find(bytes).is_none() {
        return Parsed::Nothing;
    }
    match serde_json::from_slice::<Line<'_>>(bytes) {
        Ok(line) => line.into_record(),
        Err(e) if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() => {
            Parsed::Skipped(format!("unexpected shape: {e}"))
        }
        Err(e) => Parsed::Malformed(format!("invalid JSON: {e}")),
    }
}

impl Line<'_> {
    fn into_record(self) -> Parsed {
        // Top-level fields ccusage refuses as null; only usage lines are judged.
        let null = [
            ("cwd", self.cwd.is_null()),
            ("version", self.version.is_null()),
            ("sessionId", self.session_id.is_null()),
            ("requestId", self.request_id.is_null()),
            ("costUSD", self.cost_usd.is_null()),
            ("isApiErrorMessage", self.is_api_error.is_null()),
        ]
        .into_iter()
        .find_map(|(name, null)| null.then_some(name));
        if let Some(message) = self.message.0
            && let Field::Value(usage) = message.usage
        {
            if let Some(name) = null {
                return null_field(name);
            }
            if let Field::Value(v) = &self.version
                && !is_semver_prefix(v)
            {
                return Parsed::Skipped(format!("version {:?} is not semver", v.0));
            }
            if self.session_id.is_empty() {
                return Parsed::Skipped("empty sessionId".into());
            }
            let head = Head {
                timestamp: self.timestamp,
                request_id: self.request_id,
                is_sidechain: self.is_sidechain,
                cost_usd: self.cost_usd,
                agent_id: self.agent_id,
            };
            return build(head, message.id, message.model, usage, false).map_or_else(
                |p| p,
                |mut r| {
                    r.session_id = self.session_id.into_box();
                    r.cwd = self.cwd.into_box();
                    Parsed::Record(r)
                },
            );
        }
        let Some(data) = self.data.0 else {
            return Parsed::Nothing;
        };
        let Some(inner) = data.message.0 else {
            return Parsed::Nothing;
        };
        let Some(message) = inner.message.0 else {
            return Parsed::Nothing;
        };
        let Field::Value(usage) = message.usage else {
            return Parsed::Nothing;
        };
        if let Some(name) = null {
            return null_field(name);
        }
        if inner.request_id.is_null() || inner.cost_usd.is_null() {
            return null_field("requestId/costUSD (progress)");
        }
        let head = Head {
            timestamp: inner.timestamp,
            request_id: inner.request_id,
            is_sidechain: inner.is_sidechain,
            cost_usd: inner.cost_usd,
            agent_id: inner.agent_id.or(data.agent_id),
        };
        build(head, message.id, message.model, usage, true).map_or_else(
            |p| p,
            |mut r| {
                r.cwd = self.cwd.into_box();
                Parsed::Record(r)
            },
        )
    }
}

/// The fields a direct line and a progress entry's inner line share.
struct Head<'a> {
    timestamp: Field<Str<'a>>,
    request_id: Field<Str<'a>>,
    is_sidechain: Field<bool>,
    cost_usd: Field<f64>,
    agent_id: Field<Str<'a>>,
}

fn build(
    head: Head<'_>,
    id: Field<Str<'_>>,
    model: Field<Str<'_>>,
    usage: Usage<'_>,
    progress: bool,
) -> Result<Box<Record>, Parsed> {
    let nulls = [
        ("message.id", id.is_null()),
        ("message.model", model.is_null()),
        ("usage.speed", usage.speed.is_null()),
        ("cache_read_input_tokens", usage.cache_read.is_null()),
        (
            "cache_creation_input_tokens",
            usage.cache_creation_flat.is_null(),
        ),
    ];
    if let Some((name, _)) = nulls.iter().find(|(_, null)| *null) {
        return Err(null_field(name));
    }
    if let Field::Value(m) = &model
        && m.0 == "<synthetic>"
    {
        return Err(Parsed::Nothing);
    }
    if head.request_id.is_empty() || id.is_empty() || model.is_empty() {
        return Err(Parsed::Skipped(
            "empty requestId, message.id or model".into(),
        ));
    }
    let (Field::Value(input), Field::Value(output)) = (usage.input, usage.output) else {
        return Err(Parsed::Skipped(
            "usage without input_tokens/output_tokens".into(),
        ));
    };
    let Field::Value(ts) = head.timestamp else {
        return Err(Parsed::Skipped("usage line without a timestamp".into()));
    };
    let timestamp = tokenledger_core::time::parse_timestamp(&ts.0)
        .map_err(|e| Parsed::Skipped(format!("timestamp {:?}: {e}", ts.0)))?;
    // ccusage's rule: the TTL split, when present, replaces the flat count.
    let (cache_write_5m, cache_write_1h) = match usage.cache_creation {
        Field::Value(split) => (split.five_minutes.unwrap_or(0), split.one_hour.unwrap_or(0)),
        _ => (usage.cache_creation_flat.value().unwrap_or(0), 0),
    };
    let speed = usage.speed.into_box();
    Ok(Box::new(Record {
        timestamp,
        message_id: id.into_box(),
        request_id: head.request_id.into_box(),
        model: model.into_box(),
        session_id: None,
        agent_id: head.agent_id.into_box(),
        cwd: None,
        tokens: TokenCounts {
            input,
            output,
            cache_read: usage.cache_read.value().unwrap_or(0),
            cache_write_5m,
            cache_write_1h,
            reasoning: match usage.details {
                Field::Value(d) => d.thinking_tokens.unwrap_or(0),
                _ => 0,
            },
        },
        has_speed: speed.is_some(),
        fast: speed.as_deref() == Some("fast"),
        sidechain: head.is_sidechain.value() == Some(true),
        progress,
        cost_usd: head.cost_usd.value(),
    }))
}

fn null_field(name: &str) -> Parsed {
    Parsed::Skipped(format!("{name} is null (ccusage drops such lines too)"))
}

/// `1.0.9`, `2.1.233-beta`: three dot-separated numbers at the start.
fn is_semver_prefix(v: &Str<'_>) -> bool {
    let mut parts = v.0.splitn(3, '.');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next())
        && number(parts.next())
        && parts
            .next()
            .is_some_and(|p| p.bytes().next().is_some_and(|b| b.is_ascii_digit()))
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    timestamp: Field<Str<'a>>,
    #[serde(borrow, default, rename = "sessionId")]
    session_id: Field<Str<'a>>,
    #[serde(borrow, default, rename = "requestId")]
    request_id: Field<Str<'a>>,
    #[serde(borrow, default, rename = "agentId")]
    agent_id: Field<Str<'a>>,
    #[serde(borrow, default)]
    cwd: Field<Str<'a>>,
    #[serde(borrow, default)]
    version: Field<Str<'a>>,
    #[serde(default, rename = "isSidechain")]
    is_sidechain: Field<bool>,
    #[serde(default, rename = "isApiErrorMessage")]
    is_api_error: Field<bool>,
    #[serde(default, rename = "costUSD")]
    cost_usd: Field<f64>,
    #[serde(borrow, default)]
    message: Obj<Message<'a>>,
    #[serde(borrow, default)]
    data: Obj<ProgressData<'a>>,
}

#[derive(Deserialize)]
struct ProgressData<'a> {
    #[serde(borrow, default)]
    message: Obj<ProgressMessage<'a>>,
    #[serde(borrow, default, rename = "agentId")]
    agent_id: Field<Str<'a>>,
}

#[derive(Deserialize)]
struct ProgressMessage<'a> {
    #[serde(borrow, default)]
    timestamp: Field<Str<'a>>,
    #[serde(borrow, default, rename = "requestId")]
    request_id: Field<Str<'a>>,
    #[serde(default, rename = "isSidechain")]
    is_sidechain: Field<bool>,
    #[serde(default, rename = "costUSD")]
    cost_usd: Field<f64>,
    #[serde(borrow, default, rename = "agentId")]
    agent_id: Field<Str<'a>>,
    #[serde(borrow, default)]
    message: Obj<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Field<Str<'a>>,
    #[serde(borrow, default)]
    model: Field<Str<'a>>,
    #[serde(borrow, default)]
    usage: Field<Usage<'a>>,
}

#[derive(Deserialize)]
struct Usage<'a> {
    #[serde(default, rename = "input_tokens")]
    input: Field<u64>,
    #[serde(default, rename = "output_tokens")]
    output: Field<u64>,
    #[serde(default, rename = "cache_read_input_tokens")]
    cache_read: Field<u64>,
    #[serde(default, rename = "cache_creation_input_tokens")]
    cache_creation_flat: Field<u64>,
    #[serde(default)]
    cache_creation: Field<CacheSplit>,
    #[serde(borrow, default)]
    speed: Field<Str<'a>>,
    #[serde(default, rename = "output_tokens_details")]
    details: Field<OutputDetails>,
}

#[derive(Deserialize)]
struct CacheSplit {
    #[serde(default, rename = "ephemeral_5m_input_tokens")]
    five_minutes: Option<u64>,
    #[serde(default, rename = "ephemeral_1h_input_tokens")]
    one_hour: Option<u64>,
}

#[derive(Deserialize)]
struct OutputDetails {
    #[serde(default)]
    thinking_tokens: Option<u64>,
}
