//! The register line: byte-compatible with Better Claw's `log-session-tokens.sh`
//! when writing, tolerant of what people and scripts really write when reading.

use super::fast::{Flat, SESSION_KEY, TIMESTAMP};
use crate::error::{Error, Result};
use crate::jsonl::{NameCache, utf8};
use crate::time::{format_register_timestamp, parse_compact_utc, parse_timestamp};
use jiff::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

/// A cost exactly as it will be written: the user's own literal when given,
/// so `0.0075` stays `0.0075`, or a computed figure.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLiteral {
    text: String,
    value: f64,
}

impl CostLiteral {
    /// Accepts a JSON number that is finite and not negative.
    pub fn parse(text: &str) -> Result<CostLiteral> {
        let trimmed = text.trim();
        let number: serde_json::Number = serde_json::from_str(trimmed).map_err(|_| {
            Error::invalid(
                "cost",
                format!("{text:?} is not a number; pass USD like 0.0075"),
            )
        })?;
        let value = number
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::invalid("cost", format!("{text:?} is not a finite number")))?;
        if value < 0.0 {
            return Err(Error::invalid(
                "cost",
                format!("{text:?} is negative; costs are zero or more"),
            ));
        }
        Ok(CostLiteral {
            text: trimmed.to_string(),
            value,
        })
    }

    pub fn computed(value: f64) -> CostLiteral {
        // Rounded to a nano-dollar so float noise (0.010499999999999999) never reaches the file.
        let rounded = (value * 1e9).round() / 1e9;
        CostLiteral {
            text: format!("{rounded}"),
            value: rounded,
        }
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// One register entry as written by `tokenledger log`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub timestamp: Timestamp,
    pub session_key: String,
    pub agent_id: String,
    pub model: String,
    pub tokens_input: u64,
    pub tokens_output: u64,
    pub cost: Option<CostLiteral>,
    pub tokens_cache_read: Option<u64>,
    pub tokens_cache_write: Option<u64>,
    pub tokens_cache_write_1h: Option<u64>,
    pub task_id: Option<String>,
    pub project: Option<String>,
    pub source: Option<String>,
}

impl NewEntry {
    /// The seed's key order first, optional keys after, one `\n`.
    pub fn to_line(&self) -> String {
        let mut line = String::with_capacity(256);
        line.push_str("{\"timestamp\":\"");
        line.push_str(&format_register_timestamp(self.timestamp));
        line.push('"');
        push_str_field(&mut line, "session_key", &self.session_key);
        push_str_field(&mut line, "agent_id", &self.agent_id);
        push_str_field(&mut line, "model", &self.model);
        push_raw_field(&mut line, "tokens_input", &self.tokens_input.to_string());
        push_raw_field(&mut line, "tokens_output", &self.tokens_output.to_string());
        if let Some(cost) = &self.cost {
            push_raw_field(&mut line, "cost", cost.as_str());
        }
        let optional_counts = [
            ("tokens_cache_read", self.tokens_cache_read),
            ("tokens_cache_write", self.tokens_cache_write),
            ("tokens_cache_write_1h", self.tokens_cache_write_1h),
        ];
        for (key, value) in optional_counts {
            if let Some(value) = value {
                push_raw_field(&mut line, key, &value.to_string());
            }
        }
        for (key, value) in [
            ("task_id", &self.task_id),
            ("project", &self.project),
            ("source", &self.source),
        ] {
            if let Some(value) = value {
                push_str_field(&mut line, key, value);
            }
        }
        line.push_str("}\n");
        line
    }
}

fn push_str_field(line: &mut String, key: &str, value: &str) {
    line.push_str(",\"");
    line.push_str(key);
    line.push_str("\":");
    line.push_str(&serde_json::to_string(value).expect("a str always serializes"));
}

fn push_raw_field(line: &mut String, key: &str, raw: &str) {
    line.push_str(",\"");
    line.push_str(key);
    line.push_str("\":");
    line.push_str(raw);
}

/// An entry as read back from a register line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredEntry {
    pub timestamp: Timestamp,
    pub session_key: Arc<str>,
    pub agent_id: Arc<str>,
    pub model: Arc<str>,
    pub tokens_input: u64,
    pub tokens_output: u64,
    pub tokens_cache_read: u64,
    pub tokens_cache_write: u64,
    pub tokens_cache_write_1h: u64,
    pub cost: Option<f64>,
    pub task_id: Option<Arc<str>>,
    pub project: Option<Arc<str>>,
    pub source: Option<Arc<str>>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawEntry<'a> {
    #[serde(borrow, default)]
    pub(super) timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) session_key: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) agent_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) model: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) tokens_input: Option<Count>,
    #[serde(default)]
    pub(super) tokens_output: Option<Count>,
    #[serde(default)]
    pub(super) tokens_cache_read: Option<Count>,
    #[serde(default)]
    pub(super) tokens_cache_write: Option<Count>,
    #[serde(default)]
    pub(super) tokens_cache_write_1h: Option<Count>,
    #[serde(default)]
    pub(super) cost: Option<Money>,
    #[serde(borrow, default, alias = "task")]
    pub(super) task_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) project: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) source: Option<Cow<'a, str>>,
}

/// What a line holds: nothing to count (blank or comment), an entry, or a reason it was skipped.
#[derive(Debug)]
pub enum ParsedLine {
    Ignorable,
    Entry(StoredEntry),
    Malformed(String),
}

/// Strip what never belongs to the JSON: a BOM, CR and surrounding blanks.
pub fn trim_line(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    raw.trim_ascii()
}

pub fn is_ignorable(trimmed: &[u8]) -> bool {
    trimmed.is_empty() || trimmed[0] == b'#'
}

pub fn parse_line(raw: &[u8]) -> ParsedLine {
    let line = trim_line(raw);
    if is_ignorable(line) {
        return ParsedLine::Ignorable;
    }
    // The fast path reads the flat lines `log` and the seed write; anything
    // it is not sure about goes to serde_json, which also words the errors.
    let entry: RawEntry<'_> = match super::fast::parse_flat(line) {
        Some(entry) => entry,
        None => match serde_json::from_slice(line) {
            Ok(entry) => entry,
            Err(err) => return ParsedLine::Malformed(describe_json_error(&err)),
        },
    };
    match validate(entry) {
        Ok(entry) => ParsedLine::Entry(entry),
        Err(reason) => ParsedLine::Malformed(reason),
    }
}

/// The session key of a line `parse_line` would count, `None` otherwise.
pub fn session_key_of(raw: &[u8]) -> Option<Arc<str>> {
    match parse_line(raw) {
        ParsedLine::Entry(entry) => Some(entry.session_key),
        _ => None,
    }
}

fn describe_json_error(err: &serde_json::Error) -> String {
    match err.classify() {
        serde_json::error::Category::Data => format!("not a register entry: {err}"),
        _ => format!("invalid JSON: {err}"),
    }
}

const NO_TIMESTAMP: &str = "missing \"timestamp\"";
const NO_SESSION_KEY: &str = "missing or empty \"session_key\"";

fn read_timestamp(text: &str) -> Result<Timestamp, String> {
    parse_timestamp(text).map_err(|e| format!("bad \"timestamp\" {text:?}: {e}"))
}

/// `validate`'s checks, in its order and words, on a line the fast path
/// read: the scan turns it into an event without a `StoredEntry`.
pub(super) fn check_flat(flat: &Flat, line: &[u8]) -> Result<Timestamp, String> {
    let timestamp = flat.text(TIMESTAMP).ok_or(NO_TIMESTAMP)?.of(line);
    let timestamp = match parse_compact_utc(timestamp) {
        Some(timestamp) => timestamp,
        None => read_timestamp(&utf8(timestamp))?,
    };
    let blank = |key: &[u8]| match key.first() {
        // A graphic first byte survives `trim`; anything else asks `str` itself.
        Some(c) if c.is_ascii_graphic() => false,
        _ => utf8(key).trim().is_empty(),
    };
    if flat.text(SESSION_KEY).is_none_or(|key| blank(key.of(line))) {
        return Err(NO_SESSION_KEY.to_string());
    }
    Ok(timestamp)
}

fn validate(raw: RawEntry<'_>) -> Result<StoredEntry, String> {
    let timestamp = read_timestamp(raw.timestamp.as_deref().ok_or(NO_TIMESTAMP)?)?;
    let session_key = raw
        .session_key
        .filter(|k| !k.trim().is_empty())
        .ok_or(NO_SESSION_KEY)?;
    let count = |value: Option<Count>| value.map(|c| c.0).unwrap_or(0);
    Ok(StoredEntry {
        timestamp,
        session_key: Arc::from(&*session_key),
        agent_id: shared(
            raw.agent_id
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or("main"),
        ),
        model: shared(
            raw.model
                .as_deref()
                .filter(|m| !m.is_empty())
                .unwrap_or("unknown"),
        ),
        tokens_input: count(raw.tokens_input),
        tokens_output: count(raw.tokens_output),
        tokens_cache_read: count(raw.tokens_cache_read),
        tokens_cache_write: count(raw.tokens_cache_write),
        tokens_cache_write_1h: count(raw.tokens_cache_write_1h),
        cost: raw.cost.and_then(|m| m.0),
        task_id: raw.task_id.as_deref().map(shared),
        project: raw.project.as_deref().map(shared),
        source: raw.source.as_deref().map(shared),
    })
}

/// The same few agent, model and task names repeat on every line: hand out
/// one shared copy per thread instead of allocating each time.
fn shared(text: &str) -> Arc<str> {
    thread_local! {
        static NAMES: std::cell::RefCell<NameCache> = std::cell::RefCell::default();
    }
    NAMES.with_borrow_mut(|names| Arc::clone(names.get(text.as_bytes())))
}

/// A token count written by a person: `1000`, `1000.0` or `"1000"`, never negative or fractional.
pub(super) struct Count(pub(super) u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole, non-negative token count")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v)
                    .map(Count)
                    .map_err(|_| E::custom(format!("negative token count {v}")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Count, E> {
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
                    Ok(Count(v as u64))
                } else {
                    Err(E::custom(format!("token count {v} is not a whole number")))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Count, E> {
                v.trim()
                    .parse::<u64>()
                    .map(Count)
                    .map_err(|_| E::custom(format!("token count {v:?} is not a number")))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Count, E> {
                Ok(Count(0))
            }
        }
        de.deserialize_any(Visitor)
    }
}

/// A cost: a number, a numeric string, or null (no cost stated).
pub(super) struct Money(pub(super) Option<f64>);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a cost in USD")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Ok(Money(Some(v as f64)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Err(E::custom(format!("negative cost {v}")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(Money(Some(v)))
                } else {
                    Err(E::custom(format!("cost {v} is negative or not finite")))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                let v = v.trim().trim_start_matches('$');
                match v.parse::<f64>() {
                    Ok(n) if n.is_finite() && n >= 0.0 => Ok(Money(Some(n))),
                    _ => Err(E::custom(format!("cost {v:?} is not a number"))),
                }
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Money, E> {
                Ok(Money(None))
            }
        }
        de.deserialize_any(Visitor)
    }
}
