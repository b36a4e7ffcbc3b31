//! Reading a ledger line: borrowed strings, names shared across events, the
//! register's fast timestamp parser. A report after `sync` reads little else,
//! so this is most of its time.

use crate::event::{SourceKind, TokenCounts, UsageEvent};
use crate::intern::shared;
use crate::time::parse_timestamp;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Deserialize)]
pub(super) struct LedgerLine<'a> {
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    source: SourceKind,
    #[serde(borrow)]
    agent_id: Cow<'a, str>,
    #[serde(borrow)]
    session: Cow<'a, str>,
    #[serde(borrow)]
    model: Cow<'a, str>,
    tokens: TokenCounts,
    #[serde(default)]
    fast: bool,
    #[serde(default)]
    reported_cost: Option<f64>,
    #[serde(borrow, default)]
    task: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    project: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    origin: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dedupe_key: Option<Cow<'a, str>>,
}

impl LedgerLine<'_> {
    pub(super) fn into_event(self) -> Result<UsageEvent, String> {
        Ok(UsageEvent {
            timestamp: parse_timestamp(&self.timestamp)?,
            source: self.source,
            agent_id: shared(&self.agent_id),
            session: shared(&self.session),
            model: shared(&self.model),
            tokens: self.tokens,
            fast: self.fast,
            reported_cost: self.reported_cost,
            task: self.task.as_deref().map(shared),
            project: self.project.as_deref().map(shared),
            origin: self.origin.as_deref().map(shared),
            // Unique per event: sharing would only churn the name cache.
            dedupe_key: self.dedupe_key.as_deref().map(Arc::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sync` writes (serde's own form of the event) reads back unchanged.
    #[test]
    fn written_events_read_back_unchanged() {
        let event = UsageEvent {
            timestamp: "2026-01-05T10:00:00.123Z".parse().unwrap(),
            source: SourceKind::ClaudeCode,
            agent_id: Arc::from("subagent:6e067db7"),
            session: Arc::from("11111111-1111-4111-8111-111111111111"),
            model: Arc::from("claude-sonnet-4-5-20250929"),
            tokens: TokenCounts {
                input: 3,
                output: 420,
                cache_read: 12_000,
                cache_write_5m: 0,
                cache_write_1h: 1_500,
                reasoning: 7,
            },
            fast: true,
            reported_cost: Some(0.0123),
            task: None,
            project: Some(Arc::from("/home/me/src/app \"quoted\"")),
            origin: None,
            dedupe_key: Some(Arc::from("cc:msg_A1:req_A1")),
        };
        let text = serde_json::to_string(&event).unwrap();
        let line: LedgerLine<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(line.into_event().unwrap(), event);
    }
}
