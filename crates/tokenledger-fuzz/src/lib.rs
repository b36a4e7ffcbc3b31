//! One function per fuzz target: each runs a tokenledger parser on
//! arbitrary bytes and checks what must hold beyond "does not panic". The
//! cargo-fuzz project in `fuzz/` calls them, one target each, and
//! `tests/regressions.rs` replays every seed and every committed crash
//! through them, so `cargo test` needs no fuzzer.

mod cleo;
mod config;
pub mod corpus;
mod hooks;
pub mod mutate;
mod otlp;
mod register;
mod scratch;
mod sources;

pub use cleo::{cleo_config, cleo_sessions, cleo_token_usage};
pub use config::{config_toml, schedules_toml};
pub use hooks::{hook_payload, hook_settings};
pub use otlp::{otlp_logs_json, otlp_logs_protobuf, otlp_metrics_json, otlp_metrics_protobuf};
pub use register::{register_file, register_line};
pub use sources::{
    claude_code_line, claude_code_transcript, codex_rollout, openclaw_sessions, openclaw_transcript,
};

use tokenledger_core::event::UsageEvent;
use tokenledger_core::pricing::{PriceTable, TierRule, cost_usd};

/// A target: runs its parser on the input, panics on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target by name; `fuzz/fuzz_targets/<name>.rs` calls each.
pub const TARGETS: &[(&str, Target)] = &[
    ("register_line", register_line),
    ("register_file", register_file),
    ("claude_code_line", claude_code_line),
    ("claude_code_transcript", claude_code_transcript),
    ("codex_rollout", codex_rollout),
    ("openclaw_transcript", openclaw_transcript),
    ("openclaw_sessions", openclaw_sessions),
    ("cleo_sessions", cleo_sessions),
    ("cleo_token_usage", cleo_token_usage),
    ("cleo_config", cleo_config),
    ("hook_payload", hook_payload),
    ("hook_settings", hook_settings),
    ("config_toml", config_toml),
    ("schedules_toml", schedules_toml),
    ("otlp_metrics_protobuf", otlp_metrics_protobuf),
    ("otlp_metrics_json", otlp_metrics_json),
    ("otlp_logs_protobuf", otlp_logs_protobuf),
    ("otlp_logs_json", otlp_logs_json),
];

/// The lines of `data` as the readers split them: at `\n`, with a last line
/// that lacks its `\n` only when it holds something. `true`: terminated.
fn lines(data: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut parts = data.split(|&b| b == b'\n').peekable();
    std::iter::from_fn(move || {
        let part = parts.next()?;
        let terminated = parts.peek().is_some();
        (terminated || !part.is_empty()).then_some((part, terminated))
    })
}

/// Lines holding `needle` (the readers parse no other line for usage).
fn lines_with(data: &[u8], needle: &[u8]) -> u64 {
    lines(data)
        .filter(|(line, _)| line.windows(needle.len()).any(|w| w == needle))
        .count() as u64
}

/// What every event must be for a report to add it up: a cost it may sum,
/// and a model the price table can look up and price.
fn check_event(event: &UsageEvent) {
    if let Some(cost) = event.reported_cost {
        assert!(cost.is_finite() && cost >= 0.0, "reported cost {cost}");
    }
    if let Some(found) = PriceTable::embedded().lookup(&event.model) {
        for rule in [
            TierRule::WholeRequest,
            TierRule::PerCategory,
            TierRule::None,
        ] {
            let cost = cost_usd(found.price, &event.tokens, rule, event.fast);
            assert!(cost >= 0.0, "priced at {cost}: {event:?}");
        }
    }
}
