//! Readers of the agents' own logs: what the API actually billed, one record
//! per request. Each agent has its own module (paths, parser, loader) behind
//! the core's [`Source`] trait, and each turns its records into the one
//! normalized [`tokenledger_core::event::UsageEvent`].

pub mod claude_code;
pub mod codex;
pub mod env;
pub mod openclaw;

pub use env::Environment;
use tokenledger_core::event::SourceKind;
use tokenledger_core::source::Source;

/// The agent-log sources, configured from `env` (the process environment in
/// the CLI, a fake one in tests).
pub fn agent_sources(env: &Environment) -> Vec<Box<dyn Source + Send + Sync>> {
    vec![
        Box::new(claude_code::ClaudeCodeSource::from_env(env)),
        Box::new(codex::CodexSource::from_env(env)),
        Box::new(openclaw::OpenClawSource::from_env(env)),
    ]
}

/// The source kinds this crate provides, in the order `agent_sources` returns them.
pub const AGENT_KINDS: [SourceKind; 3] = [
    SourceKind::ClaudeCode,
    SourceKind::Codex,
    SourceKind::OpenClaw,
];
