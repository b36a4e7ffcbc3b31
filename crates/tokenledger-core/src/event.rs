//! The one normalized usage event every source produces and every report consumes.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Token counts of one event. Every field is disjoint from the others:
/// `input` is uncached input only, so `total()` never double-counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Cache writes with the 5-minute TTL (or writes whose TTL is unknown).
    pub cache_write_5m: u64,
    /// Cache writes with the 1-hour TTL (priced at twice the base input rate).
    pub cache_write_1h: u64,
    /// Reasoning tokens, informational only: they are already inside `output`.
    pub reasoning: u64,
}

impl TokenCounts {
    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m.saturating_add(self.cache_write_1h)
    }

    /// Everything billed: input, output, cache reads and cache writes.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write())
    }

    /// The whole prompt of a request, which decides long-context pricing.
    pub fn prompt(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write())
    }

    pub fn add(&mut self, other: &TokenCounts) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.cache_write_5m = self.cache_write_5m.saturating_add(other.cache_write_5m);
        self.cache_write_1h = self.cache_write_1h.saturating_add(other.cache_write_1h);
        self.reasoning = self.reasoning.saturating_add(other.reasoning);
    }
}

/// Where an event came from. Register entries are what an agent said it used;
/// agent logs (added by later sources) hold what the API billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Register,
    ClaudeCode,
    Codex,
    OpenClaw,
    Otel,
    Active,
}

impl SourceKind {
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Register,
        SourceKind::ClaudeCode,
        SourceKind::Codex,
        SourceKind::OpenClaw,
        SourceKind::Otel,
        SourceKind::Active,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Register => "register",
            SourceKind::ClaudeCode => "claude-code",
            SourceKind::Codex => "codex",
            SourceKind::OpenClaw => "openclaw",
            SourceKind::Otel => "otel",
            SourceKind::Active => "active",
        }
    }

    /// The agent product behind this event: the log's own kind, or for a
    /// register entry the agent named by its `source` key ("unknown" without one).
    pub fn agent_kind_of(self, origin: Option<&str>) -> &str {
        match self {
            SourceKind::Register | SourceKind::Active => {
                let origin = origin.unwrap_or("");
                SourceKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .find(|k| *k != "register" && origin.starts_with(k))
                    .unwrap_or(if origin.is_empty() { "unknown" } else { origin })
            }
            other => other.as_str(),
        }
    }

    /// Sources whose every event is a whole session (one line per finished
    /// session), each session once: the register and polled active sessions.
    pub fn is_session_level(self) -> bool {
        matches!(self, SourceKind::Register | SourceKind::Active)
    }

    pub fn parse(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a cost figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "usd", rename_all = "snake_case")]
pub enum Cost {
    /// The source stated the cost itself (the register's `cost`, a log's `costUSD`).
    Reported(f64),
    /// Computed from the price table.
    Computed(f64),
    /// The model is not in any price table: never shown as $0.
    Unpriced,
}

impl Cost {
    pub fn usd(&self) -> Option<f64> {
        match *self {
            Cost::Reported(v) | Cost::Computed(v) => Some(v),
            Cost::Unpriced => None,
        }
    }
}

/// One usage record, normalized. Timestamps are UTC; conversion to a display
/// time zone happens only when grouping for output. Strings are shared
/// (`Arc<str>`): agents, models and tasks repeat across millions of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub timestamp: Timestamp,
    pub source: SourceKind,
    pub agent_id: Arc<str>,
    pub session: Arc<str>,
    pub model: Arc<str>,
    pub tokens: TokenCounts,
    /// Claude's fast mode (`usage.speed: "fast"`): the whole request costs a multiple.
    #[serde(default)]
    pub fast: bool,
    /// The cost the source reported, if it did; otherwise reports price the tokens.
    pub reported_cost: Option<f64>,
    pub task: Option<Arc<str>>,
    pub project: Option<Arc<str>>,
    /// Who wrote a session-level record (the register's `source` key, e.g.
    /// `claude-code-hook`); `None` for the agents' own logs.
    #[serde(default)]
    pub origin: Option<Arc<str>>,
    /// Unique per billed request; `None` for session-level sources (the
    /// register), whose session key is their identity.
    pub dedupe_key: Option<Arc<str>>,
}
