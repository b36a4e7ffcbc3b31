//! `TOKEN_USAGE.jsonl`, tier 2: one compact line per tracked boundary, keys
//! in CLEO's order `timestamp, event_type, estimated_tokens, source, task_id,
//! session_id, context`. Reading accepts CLEO's eleven event types and the
//! published spec's names.

use crate::error::Result;
use crate::jsonl::{self, count_field, str_field};
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::path::Path;
use tokenledger_core::Warning;
use tokenledger_core::time::{format_register_timestamp, parse_timestamp};

/// What a record tracked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    // The published spec's boundaries (T2897 §3.2).
    SpawnStart,
    SpawnEnd,
    ManifestRead,
    SkillInject,
    // What CLEO's code wrote (`TokenEventType`).
    FullFileRead,
    ProtocolInject,
    FileRead,
    ManifestQuery,
    PromptBuild,
    SpawnOutput,
    SpawnComplete,
    SessionStart,
    SessionEnd,
    // Named in the spec's plans, never written by CLEO.
    OrchestratorPrompt,
    OrchestratorOutput,
    /// Anything else, kept so a newer writer's lines are not lost.
    Other(String),
}

const NAMES: [(&str, EventType); 15] = [
    ("spawn_start", EventType::SpawnStart),
    ("spawn_end", EventType::SpawnEnd),
    ("manifest_read", EventType::ManifestRead),
    ("skill_inject", EventType::SkillInject),
    ("full_file_read", EventType::FullFileRead),
    ("protocol_inject", EventType::ProtocolInject),
    ("file_read", EventType::FileRead),
    ("manifest_query", EventType::ManifestQuery),
    ("prompt_build", EventType::PromptBuild),
    ("spawn_output", EventType::SpawnOutput),
    ("spawn_complete", EventType::SpawnComplete),
    ("session_start", EventType::SessionStart),
    ("session_end", EventType::SessionEnd),
    ("orchestrator_prompt", EventType::OrchestratorPrompt),
    ("orchestrator_output", EventType::OrchestratorOutput),
];

impl EventType {
    pub fn parse(name: &str) -> EventType {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| EventType::Other(name.to_string()), |(_, t)| t.clone())
    }

    pub fn as_str(&self) -> &str {
        match self {
            EventType::Other(name) => name,
            known => NAMES
                .iter()
                .find(|(_, t)| t == known)
                .map_or("unknown", |(n, _)| n),
        }
    }

    /// Whether the tokens are work done for the record's task. Session
    /// records carry session totals, and `spawn_complete` repeats its
    /// prompt and output records, so counting them would count twice.
    pub fn is_task_work(&self) -> bool {
        !matches!(
            self,
            EventType::SessionStart | EventType::SessionEnd | EventType::SpawnComplete
        )
    }
}

/// One `TOKEN_USAGE.jsonl` record.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub timestamp: Timestamp,
    pub event_type: EventType,
    pub estimated_tokens: u64,
    pub source: String,
    pub task_id: Option<String>,
    pub session_id: Option<String>,
    pub context: Map<String, Value>,
}

impl UsageRecord {
    /// CLEO's byte format: compact, its key order, `null` for missing ids.
    pub fn to_line(&self) -> String {
        let id = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        let mut line = String::with_capacity(256);
        line.push_str("{\"timestamp\":\"");
        line.push_str(&format_register_timestamp(self.timestamp));
        line.push_str("\",\"event_type\":");
        line.push_str(&Value::from(self.event_type.as_str()).to_string());
        line.push_str(",\"estimated_tokens\":");
        line.push_str(&self.estimated_tokens.to_string());
        line.push_str(",\"source\":");
        line.push_str(&Value::from(self.source.as_str()).to_string());
        line.push_str(",\"task_id\":");
        line.push_str(&id(&self.task_id).to_string());
        line.push_str(",\"session_id\":");
        line.push_str(&id(&self.session_id).to_string());
        line.push_str(",\"context\":");
        line.push_str(&Value::Object(self.context.clone()).to_string());
        line.push_str("}\n");
        line
    }

    pub fn append(&self, path: &Path) -> Result<()> {
        jsonl::append_line(path, &self.to_line())
    }

    /// A string from `context`.
    pub fn context_str(&self, key: &str) -> Option<&str> {
        self.context.get(key).and_then(Value::as_str)
    }

    /// CLEO wrote its session id inside `context` (top level null); either place counts.
    pub fn session(&self) -> Option<&str> {
        self.session_id
            .as_deref()
            .or_else(|| self.context_str("session_id"))
    }

    fn from_value(value: &Value) -> std::result::Result<UsageRecord, String> {
        if !value.is_object() {
            return Err("not a JSON object".into());
        }
        let timestamp = str_field(value, "timestamp")
            .ok_or("no timestamp")
            .and_then(|t| parse_timestamp(t).map_err(|_| "timestamp is not ISO 8601"))?;
        let event_type = str_field(value, "event_type").ok_or("no event_type")?;
        let estimated_tokens = match value.get("estimated_tokens") {
            None | Some(Value::Null) => 0,
            Some(_) => count_field(value, "estimated_tokens")
                .ok_or("estimated_tokens is not a count of 0 or more")?,
        };
        let context = match value.get("context") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        Ok(UsageRecord {
            timestamp,
            event_type: EventType::parse(event_type),
            estimated_tokens,
            source: str_field(value, "source").unwrap_or("").to_string(),
            task_id: str_field(value, "task_id").map(str::to_string),
            session_id: str_field(value, "session_id").map(str::to_string),
            context,
        })
    }
}

/// Every record in `path`; a missing file has none. Records that cannot be
/// read are skipped with a warning naming file and line.
pub fn read(path: &Path) -> Result<(Vec<UsageRecord>, Vec<Warning>)> {
    let (values, mut warnings) = jsonl::read_values(path)?;
    let mut records = Vec::with_capacity(values.len());
    for read in values {
        match UsageRecord::from_value(&read.value) {
            Ok(record) => records.push(record),
            Err(message) => warnings.push(Warning {
                path: path.to_path_buf(),
                line: Some(read.line),
                message: format!("record skipped: {message}"),
            }),
        }
    }
    Ok((records, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CLEO's committed file @ 84a565d2b, and the spec's example.
    const CLEO_LINES: &str = r#"{"timestamp":"2026-02-01T07:05:03Z","event_type":"skill_inject","estimated_tokens":500,"source":"skills/test-skill","task_id":"T9999","session_id":null,"context":{"skill":"test-skill","tier":1}}
{"timestamp":"2026-02-01T07:05:13Z","event_type":"manifest_read","estimated_tokens":106069,"source":"claudedocs/agent-outputs/MANIFEST.jsonl","task_id":"T1000","session_id":null,"context":{}}
{"timestamp":"2026-02-01T07:05:13Z","event_type":"manifest_query","estimated_tokens":1000,"source":"MANIFEST.jsonl:filter","task_id":"T1000","session_id":null,"context":{"query_type":"filter","result_count":5}}
{"timestamp":"2026-02-01T07:38:53Z","event_type":"session_start","estimated_tokens":89122,"source":"session","task_id":"T2900","session_id":null,"context":{"session_id":"session_20260131_233852_372961","scope_type":"epic","focus_task":"T2900"}}
{"timestamp":"2026-02-01T10:35:00Z","event_type":"spawn_start","task_id":"T1234","session_id":"session_20260201_103000_abc123","estimated_tokens":3500,"context":{"protocol":"research","skill":"ct-research-agent"}}
{"timestamp":"2026-02-01T10:36:00Z","event_type":"orchestrator_output","estimated_tokens":7,"source":"x","task_id":"","session_id":null}
{"timestamp":"2026-02-01T10:37:00Z","event_type":"brand_new","estimated_tokens":1,"source":"x","task_id":null,"session_id":null,"context":{}}
{"timestamp":"2026-02-01T10:38:00Z","event_type":"spawn_end","estimated_tokens":-5}
"#;

    #[test]
    fn reads_every_cleo_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("TOKEN_USAGE.jsonl");
        std::fs::write(&path, CLEO_LINES).unwrap();
        let (records, warnings) = read(&path).unwrap();
        assert_eq!(records.len(), 7);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(8));
        let types: Vec<&str> = records.iter().map(|r| r.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "skill_inject",
                "manifest_read",
                "manifest_query",
                "session_start",
                "spawn_start",
                "orchestrator_output",
                "brand_new"
            ]
        );
        assert_eq!(records[3].session(), Some("session_20260131_233852_372961"));
        assert_eq!(records[4].session(), Some("session_20260201_103000_abc123"));
        assert_eq!(records[5].task_id, None, "an empty task id is none");
        assert_eq!(records[6].event_type, EventType::Other("brand_new".into()));
    }

    #[test]
    fn writes_cleos_key_order_byte_for_byte() {
        let first = CLEO_LINES.lines().next().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("U.jsonl");
        std::fs::write(&path, first).unwrap();
        let (records, _) = read(&path).unwrap();
        assert_eq!(records[0].to_line(), format!("{first}\n"));
    }
}
