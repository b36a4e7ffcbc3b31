//! The JSON Claude Code sends `tokenledger hook claude-code` on standard
//! input, read without side effects: which event, which session, and what
//! the handler of each event needs from it.

use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the hook payload on standard input is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// With the payload's event, which the hook's log still names.
    #[error("the payload has no session_id")]
    NoSession { event: String },
}

#[derive(Debug)]
pub struct HookPayload {
    value: Value,
    /// `hook_event_name`; empty when absent.
    pub event: String,
    /// The Claude Code session, never empty.
    pub session: String,
    pub transcript: Option<PathBuf>,
}

impl HookPayload {
    pub fn parse(bytes: &[u8]) -> Result<HookPayload, PayloadError> {
        let value: Value = serde_json::from_slice(bytes).map_err(PayloadError::NotJson)?;
        let event = value
            .get("hook_event_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(session) = value
            .get("session_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
        else {
            return Err(PayloadError::NoSession { event });
        };
        let transcript = value
            .get("transcript_path")
            .and_then(Value::as_str)
            .map(PathBuf::from);
        Ok(HookPayload {
            value,
            event,
            session,
            transcript,
        })
    }

    /// The non-empty string at a JSON pointer (`/tool_input/prompt`).
    pub fn str(&self, pointer: &str) -> Option<&str> {
        self.value
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// PreToolUse of the Task/Agent tool: the prompt it gives the subagent
    /// (empty when none); `None` for any other tool.
    pub fn spawn_prompt(&self) -> Option<&str> {
        matches!(self.str("/tool_name"), Some("Task" | "Agent"))
            .then(|| self.str("/tool_input/prompt").unwrap_or(""))
    }

    /// SubagentStop: the subagent's transcript, as the payload names it or
    /// where Claude Code keeps it beside the main transcript
    /// (`<session>/subagents/agent-<id>.jsonl`).
    pub fn subagent_transcript(&self) -> Option<PathBuf> {
        if let Some(path) = self.str("/agent_transcript_path") {
            return Some(PathBuf::from(path));
        }
        let (main, id) = (self.transcript.as_ref()?, self.str("/agent_id")?);
        let dir = main.with_extension("");
        Some(dir.join("subagents").join(format!("agent-{id}.jsonl")))
    }
}
