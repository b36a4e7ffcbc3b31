//! `[server]` in `config.toml`: what `tokenledger serve` reads. Tokens are
//! kept as SHA-256 hashes only, so the config file never holds a secret.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Which OpenTelemetry record counts when a session sent both the
    /// per-request log events and the counters describing the same requests.
    pub otel_prefer: OtelPrefer,
    /// Largest request body accepted, in bytes (after gzip decoding too).
    pub body_limit_bytes: usize,
    /// Sustained requests per second allowed per token (or per peer address
    /// when no tokens are configured); `0` turns the limit off.
    pub rate_per_second: f64,
    /// Requests a token may send at once above the sustained rate.
    pub rate_burst: f64,
    /// Run the home's `schedules.toml` jobs of the `server` backend (or of
    /// none) inside the collector, over its store.
    pub run_schedules: bool,
    #[serde(rename = "token")]
    pub tokens: Vec<TokenConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            otel_prefer: OtelPrefer::Events,
            body_limit_bytes: 8 << 20,
            rate_per_second: 200.0,
            rate_burst: 400.0,
            run_schedules: false,
            tokens: Vec::new(),
        }
    }
}

/// Dedupe keys of events made from OTLP log records start with this. Every
/// store reads an OpenTelemetry event's kind (log or metric) from its key,
/// so each applies the [`OtelPrefer`] rule to the same events.
pub const OTEL_LOG_KEY_PREFIX: &str = "otel-log:";
/// Dedupe keys of events made from OTLP metric points (delta, cumulative).
pub const OTEL_METRIC_KEY_PREFIXES: [&str; 2] = ["otel-metric:", "otel-cum:"];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtelPrefer {
    /// `claude_code.api_request` log events: one per request, with its id.
    #[default]
    Events,
    /// The `*.token.usage` / `*.cost.usage` counters.
    Metrics,
}

/// One `[[server.token]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    /// Hex SHA-256 of the bearer token (`tokenledger serve hash-token`).
    pub sha256: String,
    #[serde(default)]
    pub scope: TokenScope,
    /// When set, the token only writes and reads agents whose id starts with it.
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Write,
    Read,
    #[default]
    Both,
}

impl TokenScope {
    pub fn may_write(self) -> bool {
        matches!(self, TokenScope::Write | TokenScope::Both)
    }

    pub fn may_read(self) -> bool {
        matches!(self, TokenScope::Read | TokenScope::Both)
    }
}
