//! Two-tier token tracking and per-task attribution, after CLEO's "Token
//! Tracking Architecture" (T2897), measured rather than assumed.
//!
//! Tier 1 records each session's total from actual data (the Claude Code
//! transcript, else a `.claude/context-state.json`, else an estimate) in
//! `SESSIONS.jsonl`; tier 2 records estimates at the boundaries where an
//! orchestrator spawns a subagent, reads a manifest entry or injects a skill
//! in `TOKEN_USAGE.jsonl`. Where a spawn can be tied to a subagent run, the
//! subagent transcript's actual usage replaces the estimate; where it cannot,
//! estimates are scaled to the session's actual total ("reconciled").

pub mod attribution;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod estimate;
pub mod hook_payload;
pub mod hook_settings;
mod jsonl;
pub mod lifecycle;
pub mod links;
pub mod savings;
pub mod sessions;
pub mod source;
pub mod track;
pub mod transcript;
pub mod usage;

pub use error::{CleoError, Result};
