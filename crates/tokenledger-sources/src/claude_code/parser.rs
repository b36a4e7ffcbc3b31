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
use std::borrow::Cow;
use std::sync::LazyLock;
use tokenledger_core::event::TokenCounts;

/// A usage record, borrowing from its line (strings with escapes are owned).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record<'a> {
    pub timestamp: Timestamp,
    pub message_id: Option<Cow<'a, str>>,
    pub request_id: Option<Cow<'a, str>>,
    pub model: Option<Cow<'a, str>>,
    /// The line's `sessionId` (the parent session's id, even in subagent files).
    pub session_id: Option<Cow<'a, str>>,
    pub agent_id: Option<Cow<'a, str>>,
    pub cwd: Option<Cow<'a, str>>,
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
// Records are the case that matters, and boxing one would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub(super) enum Parsed<'a> {
    /// No usage here (most lines), or usage never counted (`<synthetic>`).
    Nothing,
    Record(Record<'a>),
    /// Valid JSON, skipped for the reason given.
    Skipped(String),
    /// Not JSON (or not an object).
    Malformed(String),
}

/// Only lines with this are parsed.
pub(super) static USAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

#[cfg(test)]
pub(super) fn parse_line(bytes: &[u8]) -> Parsed<'_> {
    parse_line_knowing(bytes, USAGE.find(bytes).is_some())
}

/// One line, which the caller found to contain `"usage"` or not.
pub(super) fn parse_line_knowing(bytes: &[u8], has_usage: bool) -> Parsed<'_> {
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Parsed::Nothing;
    };
    if bytes[first] != b'{' {
        return Parsed::Malformed("not a JSON object".into());
    }
    if !has_usage {
        return Parsed::Nothing;
    }
    if let Some(line) = super::fast::line(bytes) {
        return line.into_record();
    }
    match serde_json::from_slice::<Line<'_>>(bytes) {
        Ok(line) => line.into_record(),
        Err(e) if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() => {
            Parsed::Skipped(format!("unexpected shape: {e}"))
        }
        Err(e) => Parsed::Malformed(format!("invalid JSON: {e}")),
    }
}

impl<'a> Line<'a> {
    fn into_record(self) -> Parsed<'a> {
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
            let mut parsed = build(head, message.id, message.model, usage, false);
            if let Parsed::Record(r) = &mut parsed {
                r.session_id = self.session_id.into_cow();
                r.cwd = self.cwd.into_cow();
            }
            return parsed;
        }
        let Some(data) = self.data.0.map(|d| *d) else {
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
        let mut parsed = build(head, message.id, message.model, usage, true);
        if let Parsed::Record(r) = &mut parsed {
            r.cwd = self.cwd.into_cow();
        }
        parsed
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

fn build<'a>(
    head: Head<'a>,
    id: Field<Str<'a>>,
    model: Field<Str<'a>>,
    usage: Usage<'a>,
    progress: bool,
) -> Parsed<'a> {
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
        return null_field(name);
    }
    if let Field::Value(m) = &model
        && m.0 == "<synthetic>"
    {
        return Parsed::Nothing;
    }
    if head.request_id.is_empty() || id.is_empty() || model.is_empty() {
        return Parsed::Skipped("empty requestId, message.id or model".into());
    }
    let (Field::Value(input), Field::Value(output)) = (usage.input, usage.output) else {
        return Parsed::Skipped("usage without input_tokens/output_tokens".into());
    };
    let Field::Value(ts) = head.timestamp else {
        return Parsed::Skipped("usage line without a timestamp".into());
    };
    let timestamp = match tokenledger_core::time::parse_timestamp(&ts.0) {
        Ok(timestamp) => timestamp,
        Err(e) => return Parsed::Skipped(format!("timestamp {:?}: {e}", ts.0)),
    };
    // ccusage's rule: the TTL split, when present, replaces the flat count.
    let (cache_write_5m, cache_write_1h) = match usage.cache_creation {
        Field::Value(split) => (split.five_minutes.unwrap_or(0), split.one_hour.unwrap_or(0)),
        _ => (usage.cache_creation_flat.value().unwrap_or(0), 0),
    };
    let speed = usage.speed.into_cow();
    Parsed::Record(Record {
        timestamp,
        message_id: id.into_cow(),
        request_id: head.request_id.into_cow(),
        model: model.into_cow(),
        session_id: None,
        agent_id: head.agent_id.into_cow(),
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
    })
}

fn null_field(name: &str) -> Parsed<'static> {
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

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct Line<'a> {
    #[serde(borrow, default)]
    pub(super) timestamp: Field<Str<'a>>,
    #[serde(borrow, default, rename = "sessionId")]
    pub(super) session_id: Field<Str<'a>>,
    #[serde(borrow, default, rename = "requestId")]
    pub(super) request_id: Field<Str<'a>>,
    #[serde(borrow, default, rename = "agentId")]
    pub(super) agent_id: Field<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) cwd: Field<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) version: Field<Str<'a>>,
    #[serde(default, rename = "isSidechain")]
    pub(super) is_sidechain: Field<bool>,
    #[serde(default, rename = "isApiErrorMessage")]
    pub(super) is_api_error: Field<bool>,
    #[serde(default, rename = "costUSD")]
    pub(super) cost_usd: Field<f64>,
    #[serde(borrow, default)]
    pub(super) message: Obj<Message<'a>>,
    #[serde(borrow, default)]
    pub(super) data: Obj<Box<ProgressData<'a>>>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct ProgressData<'a> {
    #[serde(borrow, default)]
    pub(super) message: Obj<ProgressMessage<'a>>,
    #[serde(borrow, default, rename = "agentId")]
    pub(super) agent_id: Field<Str<'a>>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct ProgressMessage<'a> {
    #[serde(borrow, default)]
    pub(super) timestamp: Field<Str<'a>>,
    #[serde(borrow, default, rename = "requestId")]
    pub(super) request_id: Field<Str<'a>>,
    #[serde(default, rename = "isSidechain")]
    pub(super) is_sidechain: Field<bool>,
    #[serde(default, rename = "costUSD")]
    pub(super) cost_usd: Field<f64>,
    #[serde(borrow, default, rename = "agentId")]
    pub(super) agent_id: Field<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) message: Obj<Message<'a>>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct Message<'a> {
    #[serde(borrow, default)]
    pub(super) id: Field<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) model: Field<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) usage: Field<Usage<'a>>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct Usage<'a> {
    #[serde(default, rename = "input_tokens")]
    pub(super) input: Field<u64>,
    #[serde(default, rename = "output_tokens")]
    pub(super) output: Field<u64>,
    #[serde(default, rename = "cache_read_input_tokens")]
    pub(super) cache_read: Field<u64>,
    #[serde(default, rename = "cache_creation_input_tokens")]
    pub(super) cache_creation_flat: Field<u64>,
    #[serde(default)]
    pub(super) cache_creation: Field<CacheSplit>,
    #[serde(borrow, default)]
    pub(super) speed: Field<Str<'a>>,
    #[serde(default, rename = "output_tokens_details")]
    pub(super) details: Field<OutputDetails>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct CacheSplit {
    #[serde(default, rename = "ephemeral_5m_input_tokens")]
    pub(super) five_minutes: Option<u64>,
    #[serde(default, rename = "ephemeral_1h_input_tokens")]
    pub(super) one_hour: Option<u64>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub(super) struct OutputDetails {
    #[serde(default)]
    pub(super) thinking_tokens: Option<u64>,
}
