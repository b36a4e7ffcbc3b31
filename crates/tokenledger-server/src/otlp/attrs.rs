//! Reading OTLP attributes, and the fields every usage event made from
//! OpenTelemetry shares: agent, session, model and time.

use jiff::Timestamp;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use std::sync::Arc;
use tokenledger_core::intern::shared;

/// A record's attributes over its resource's: the record's own win.
pub struct Attrs<'a> {
    pub own: &'a [KeyValue],
    pub resource: &'a [KeyValue],
}

impl Attrs<'_> {
    fn get(&self, key: &str) -> Option<&AnyValue> {
        self.own
            .iter()
            .chain(self.resource)
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
    }

    pub fn str(&self, key: &str) -> Option<String> {
        self.get(key)
            .and_then(value_str)
            .filter(|s| !s.trim().is_empty())
    }

    pub fn first_str(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.str(k))
    }

    /// A number, whether sent as int, double or numeric string.
    pub fn num(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(value_num)
    }
}

pub fn value_str(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        Value::DoubleValue(d) => Some(d.to_string()),
        Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn value_num(value: &AnyValue) -> Option<f64> {
    match value.value.as_ref()? {
        Value::IntValue(i) => Some(*i as f64),
        Value::DoubleValue(d) => Some(*d),
        Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Attributes as one canonical text (sorted `key=value`), skipping `skip`:
/// the identity of a metric series, hashed into dedupe keys.
pub fn canonical(attrs: &[KeyValue], skip: &[&str]) -> String {
    let mut parts: Vec<String> = attrs
        .iter()
        .filter(|kv| !skip.contains(&kv.key.as_str()))
        .map(|kv| {
            let value = kv.value.as_ref().and_then(value_str).unwrap_or_default();
            format!("{}={value}", kv.key)
        })
        .collect();
    parts.sort();
    parts.join("\u{1f}")
}

pub fn hash(parts: &[&str]) -> String {
    let text = parts.join("\u{1e}");
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// An OTLP time (nanoseconds since the epoch); 0 means "not set".
pub fn time(nanos: u64) -> Option<Timestamp> {
    if nanos == 0 {
        return None;
    }
    Timestamp::from_nanosecond(i128::from(nanos)).ok()
}

/// Who, which session and which model a record belongs to.
pub struct Identity {
    pub agent_id: Arc<str>,
    pub session: Arc<str>,
    pub model: Arc<str>,
}

/// The agent is `tokenledger.agent_id` (set it with `OTEL_RESOURCE_ATTRIBUTES`)
/// or else the service name. A token scoped to a prefix may only write
/// agents under it: a named agent outside is refused, an unnamed one is
/// filed under the prefix.
pub fn identity(attrs: &Attrs<'_>, prefix: Option<&str>) -> Result<Identity, String> {
    let agent = match (attrs.str("tokenledger.agent_id"), prefix) {
        (Some(agent), Some(p)) if !agent.starts_with(p) => {
            return Err(format!(
                "agent {agent:?} is outside this token's prefix {p:?}"
            ));
        }
        (Some(agent), _) => agent,
        (None, prefix) => {
            let service = attrs
                .str("service.name")
                .unwrap_or_else(|| "unknown".into());
            format!("{}{service}", prefix.unwrap_or(""))
        }
    };
    let session = attrs
        .first_str(&["session.id", "gen_ai.conversation.id", "conversation.id"])
        .unwrap_or_else(|| "unknown".into());
    let model = attrs
        .first_str(&["model", "gen_ai.response.model", "gen_ai.request.model"])
        .unwrap_or_else(|| "unknown".into());
    Ok(Identity {
        agent_id: shared(&agent),
        session: shared(&session),
        model: shared(&model),
    })
}
