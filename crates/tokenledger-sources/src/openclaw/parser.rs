//! OpenClaw's two formats: transcript lines (pi-ai entries, one billed
//! request per assistant message) and the `sessions.json` store.

use jiff::Timestamp;
use memchr::memmem::Finder;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::time::parse_timestamp;

// Tool output and user text make up most of a transcript; only lines with a
// `usage` key can bill anything.
static USAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "time")]
    timestamp: Option<Timestamp>,
    #[serde(default, borrow)]
    message: Option<RawMessage<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(default, borrow)]
    provider: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "time")]
    timestamp: Option<Timestamp>,
    #[serde(default)]
    usage: Option<RawUsage>,
}

/// pi-ai's `Usage`: four disjoint counts (no TTL on cache writes) and the
/// cost OpenClaw computed from its own pricing config, 0 when it has none.
#[derive(Deserialize)]
struct RawUsage {
    #[serde(default, deserialize_with = "count")]
    input: u64,
    #[serde(default, deserialize_with = "count")]
    output: u64,
    #[serde(default, rename = "cacheRead", deserialize_with = "count")]
    cache_read: u64,
    #[serde(default, rename = "cacheWrite", deserialize_with = "count")]
    cache_write: u64,
    #[serde(default)]
    cost: Option<RawCost>,
}

#[derive(Deserialize)]
struct RawCost {
    #[serde(default)]
    total: Option<f64>,
}

/// One billed request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Billed {
    pub id: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub model: Option<String>,
    pub tokens: TokenCounts,
    pub cost: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// The transcript's first line: `{"type":"session","id":…,"cwd":…}`.
    Header {
        cwd: Option<String>,
    },
    Billed(Billed),
}

/// `Ok(None)` for lines that bill nothing; `Err` for broken ones.
pub(crate) fn parse_line(bytes: &[u8], first: bool) -> Result<Option<Record>, String> {
    if !first && USAGE.find(bytes).is_none() {
        return Ok(None);
    }
    let entry: RawEntry<'_> = serde_json::from_slice(bytes).map_err(|e| {
        match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => format!("unexpected entry shape ({e}); line skipped"),
            Err(_) => format!("malformed JSON ({e}); line skipped"),
        }
    })?;
    if first && entry.kind.as_deref() == Some("session") {
        let cwd = entry.cwd.map(Cow::into_owned).filter(|c| !c.is_empty());
        return Ok(Some(Record::Header { cwd }));
    }
    let (message_usage, provider, model, message_time) = match entry.message {
        Some(m) => (m.usage, m.provider, m.model, m.timestamp),
        None => (None, None, None, None),
    };
    let Some(usage) = message_usage.or(entry.usage) else {
        return Ok(None);
    };
    let tokens = TokenCounts {
        input: usage.input,
        output: usage.output,
        cache_read: usage.cache_read,
        cache_write_5m: usage.cache_write,
        ..TokenCounts::default()
    };
    // 0 means OpenClaw had no price for the model, not that it was free.
    let cost = usage
        .cost
        .and_then(|c| c.total)
        .filter(|c| c.is_finite() && *c > 0.0);
    if tokens.total() == 0 && cost.is_none() {
        return Ok(None);
    }
    Ok(Some(Record::Billed(Billed {
        id: entry.id.map(Cow::into_owned).filter(|i| !i.is_empty()),
        timestamp: entry.timestamp.or(message_time),
        model: model.map(|m| strip_provider(&m, provider.as_deref()).to_string()),
        tokens,
        cost,
    })))
}

/// `anthropic/claude-sonnet-4-5` with provider `anthropic` → `claude-sonnet-4-5`;
/// other slashes (OpenRouter's `anthropic/…` under provider `openrouter`) stay.
fn strip_provider<'m>(model: &'m str, provider: Option<&str>) -> &'m str {
    provider
        .and_then(|p| model.strip_prefix(p)?.strip_prefix('/'))
        .filter(|m| !m.is_empty())
        .unwrap_or(model)
}

/// A token count: integers, floats and null alike, never negative.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Count;
    impl<'de> Visitor<'de> for Count {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a token count")
        }
        fn visit_u64<E>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E>(self, v: i64) -> Result<u64, E> {
            Ok(v.max(0) as u64)
        }
        fn visit_f64<E>(self, v: f64) -> Result<u64, E> {
            Ok(if v.is_finite() && v > 0.0 {
                v.round() as u64
            } else {
                0
            })
        }
        fn visit_unit<E>(self) -> Result<u64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(Count)
}

/// An ISO time or epoch milliseconds; anything else is no time at all.
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    struct Time;
    impl<'de> Visitor<'de> for Time {
        type Value = Option<Timestamp>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a timestamp")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(parse_timestamp(v).ok())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok().and_then(millis))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(millis(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(v.is_finite().then(|| millis(v as i64)).flatten())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(Time)
}

pub(crate) fn millis(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// What we take from one `sessions.json` entry. Its token and cost numbers
/// (`inputTokens`, `totalTokens`, `estimatedCostUsd`, …) are last-run and
/// context snapshots, not totals, so they are deliberately not read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreEntry {
    pub key: String,
    pub session_id: Option<String>,
    pub updated_at: Option<Timestamp>,
    pub spawned_by: Option<String>,
    pub status: Option<String>,
    pub session_file: Option<String>,
    /// The model of the last run, without its provider prefix.
    pub model: Option<String>,
    /// Earlier session ids of the same key (rotated by resets).
    pub family: Vec<String>,
}

impl StoreEntry {
    fn from_value(key: String, value: &Value) -> Option<StoreEntry> {
        let obj = value.as_object()?;
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(StoreEntry {
            session_id: text("sessionId"),
            updated_at: obj
                .get("updatedAt")
                .and_then(Value::as_f64)
                .and_then(|ms| millis(ms as i64)),
            spawned_by: text("spawnedBy"),
            status: text("status"),
            session_file: text("sessionFile"),
            model: text("model").map(|m| {
                let provider = text("modelProvider");
                strip_provider(&m, provider.as_deref()).to_string()
            }),
            family: obj
                .get("usageFamilySessionIds")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|i| Some(i.as_str()?.to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            key,
        })
    }
}

/// Reads a store one entry at a time: an entry can carry large snapshots
/// (skills, system prompt reports) that we skip without holding the file.
pub(crate) fn read_store(reader: impl std::io::Read) -> Result<Vec<StoreEntry>, serde_json::Error> {
    struct Store;
    impl<'de> Visitor<'de> for Store {
        type Value = Vec<StoreEntry>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of session keys to session entries")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let value: Value = map.next_value()?;
                out.extend(StoreEntry::from_value(key, &value));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let entries = de.deserialize_map(Store)?;
    de.end()?;
    Ok(entries)
}
