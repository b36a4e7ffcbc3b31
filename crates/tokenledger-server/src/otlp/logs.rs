//! OTLP log records to usage events: one event per API request, from Claude
//! Code's `claude_code.api_request`, Gemini CLI's `gemini_cli.api_response`,
//! Codex's completed responses, or any record with the GenAI convention's
//! `gen_ai.usage.*` attributes. Other records are not usage and are ignored.

use super::attrs::{self, Attrs, canonical, hash};
use super::families::{Family, Field, Raw};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use tokenledger_core::event::{SourceKind, UsageEvent};

#[derive(Default)]
pub struct Outcome {
    pub events: Vec<UsageEvent>,
    pub rejected: u64,
    pub errors: Vec<String>,
}

/// Attribute names of each token field, per agent.
struct Shape {
    family: Family,
    fields: &'static [(&'static str, Field)],
}

const CLAUDE: Shape = Shape {
    family: Family::Claude,
    fields: &[
        ("input_tokens", Field::Input),
        ("output_tokens", Field::Output),
        ("cache_read_tokens", Field::CacheRead),
        ("cache_creation_tokens", Field::CacheWrite),
        ("cost_usd", Field::Cost),
    ],
};

const GEMINI: Shape = Shape {
    family: Family::Gemini,
    fields: &[
        ("input_token_count", Field::Input),
        ("output_token_count", Field::Output),
        ("cached_content_token_count", Field::CacheRead),
        ("thoughts_token_count", Field::Thought),
        ("tool_token_count", Field::Tool),
    ],
};

const CODEX: Shape = Shape {
    family: Family::Codex,
    fields: &[
        ("input_token_count", Field::Input),
        ("output_token_count", Field::Output),
        ("cached_token_count", Field::CacheRead),
        ("reasoning_token_count", Field::Reasoning),
    ],
};

const GEN_AI: Shape = Shape {
    family: Family::GenAi,
    fields: &[
        ("gen_ai.usage.input_tokens", Field::Input),
        ("gen_ai.usage.prompt_tokens", Field::Input),
        ("gen_ai.usage.output_tokens", Field::Output),
        ("gen_ai.usage.completion_tokens", Field::Output),
        ("gen_ai.usage.cache_read.input_tokens", Field::CacheRead),
        (
            "gen_ai.usage.cache_creation.input_tokens",
            Field::CacheWrite,
        ),
        ("gen_ai.usage.reasoning.output_tokens", Field::Reasoning),
    ],
};

pub fn map(request: &ExportLogsServiceRequest, prefix: Option<&str>) -> Outcome {
    let mut outcome = Outcome::default();
    for rl in &request.resource_logs {
        let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        for record in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let attrs = Attrs {
                own: &record.attributes,
                resource,
            };
            let Some(shape) = shape_of(record, &attrs) else {
                continue;
            };
            match to_event(record, &attrs, shape, prefix) {
                Ok(event) => outcome.events.push(event),
                Err(reason) => {
                    outcome.rejected += 1;
                    outcome.errors.push(reason);
                }
            }
        }
    }
    outcome
}

/// The record's event name: the log's own field, else `event.name`, else its body.
fn event_name(record: &LogRecord, attrs: &Attrs<'_>) -> String {
    if !record.event_name.is_empty() {
        return record.event_name.clone();
    }
    attrs
        .str("event.name")
        .or_else(|| record.body.as_ref().and_then(attrs::value_str))
        .unwrap_or_default()
}

fn shape_of(record: &LogRecord, attrs: &Attrs<'_>) -> Option<&'static Shape> {
    let name = event_name(record, attrs);
    let bare = name.rsplit('.').next().unwrap_or("");
    let service = attrs.str("service.name").unwrap_or_default();
    if name == "claude_code.api_request" || (bare == "api_request" && service.contains("claude")) {
        return Some(&CLAUDE);
    }
    if name == "gemini_cli.api_response" {
        return Some(&GEMINI);
    }
    if name == "codex.sse_event" && attrs.num("input_token_count").is_some() {
        return Some(&CODEX);
    }
    let genai = GEN_AI
        .fields
        .iter()
        .any(|(key, _)| attrs.num(key).is_some());
    genai.then_some(&GEN_AI)
}

fn to_event(
    record: &LogRecord,
    attrs: &Attrs<'_>,
    shape: &Shape,
    prefix: Option<&str>,
) -> Result<UsageEvent, String> {
    let mut raw = Raw::default();
    for (key, field) in shape.fields {
        if let Some(value) = attrs.num(key) {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{key} {value} is negative or not finite"));
            }
            raw.add(*field, value);
        }
    }
    let id = attrs::identity(attrs, prefix)?;
    let timestamp = attrs::time(record.time_unix_nano)
        .or_else(|| {
            attrs
                .str("event.timestamp")
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        })
        .or_else(|| attrs::time(record.observed_time_unix_nano))
        .ok_or("a usage record has no time (timeUnixNano, event.timestamp)")?;
    // A request id names the request across retries and across both of
    // Claude Code's exporters; without one, the record's own content does.
    let key = match attrs.first_str(&["request_id", "gen_ai.response.id"]) {
        Some(request) => format!("otel-log:{}:{request}", shape.family.name()),
        None => format!(
            "otel-log:{}:{}",
            shape.family.name(),
            hash(&[
                &canonical(&record.attributes, &[]),
                &id.session,
                &record.time_unix_nano.to_string(),
                &record.observed_time_unix_nano.to_string(),
            ])
        ),
    };
    Ok(UsageEvent {
        timestamp,
        source: SourceKind::Otel,
        agent_id: id.agent_id,
        session: id.session,
        model: id.model,
        tokens: raw.tokens(shape.family),
        fast: attrs.str("speed").as_deref() == Some("fast"),
        reported_cost: raw.cost(),
        task: None,
        project: None,
        origin: attrs.str("service.name").map(|s| s.as_str().into()),
        dedupe_key: Some(key.into()),
    })
}
