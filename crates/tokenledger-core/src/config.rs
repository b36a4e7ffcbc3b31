//! `config.toml`: every setting optional, every default sensible.

use crate::error::{Error, Result, Warning};
use crate::pricing::PricingConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub register: RegisterConfig,
    pub report: ReportConfig,
    pub rotate: RotateConfig,
    pub pricing: PricingConfig,
    pub merge: MergeConfig,
    pub estimate: EstimateConfig,
    pub notify: NotifyConfig,
    /// `[[budget]]` tables, checked by `budget::validate` when used.
    #[serde(rename = "budget")]
    pub budgets: Vec<crate::budget::BudgetConfig>,
    pub alert: AlertConfig,
    pub server: crate::server_config::ServerConfig,
}

/// Where reports and alerts are delivered. Secrets never live here: each
/// channel names the environment variable that holds its secret.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    pub telegram: Option<TelegramConfig>,
    pub discord: Option<WebhookConfig>,
    pub slack: Option<WebhookConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramConfig {
    /// The variable holding the bot token [default: TELEGRAM_BOT_TOKEN].
    pub bot_token_env: Option<String>,
    /// A numeric chat id or `@channelname`.
    #[serde(deserialize_with = "int_or_string")]
    pub chat_id: Option<String>,
    /// A forum topic (`message_thread_id`).
    pub thread_id: Option<i64>,
    /// The Bot API base URL [default: https://api.telegram.org].
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// The variable holding the webhook URL [default: DISCORD_WEBHOOK_URL / SLACK_WEBHOOK_URL].
    pub webhook_url_env: Option<String>,
    /// Replaces the webhook URL's scheme and host (tests, proxies); the path stays secret.
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Channels `alert check` sends to, as for `report daily --send`.
    pub send: Vec<String>,
}

/// Chat ids are numbers to Telegram but `@name` strings for channels.
fn int_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        Str(String),
    }
    Ok(Option::<IntOrString>::deserialize(d)?.map(|v| match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::Str(s) => s,
    }))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EstimateConfig {
    /// The model whose calibration applies when `--model` is not given.
    pub model: Option<String>,
    /// Multipliers on BPE counts per model family, keyed by a prefix of the
    /// canonical model name (`claude`, `claude-opus-4-7`); the longest match
    /// wins. Claude's tokenizer is not public, so counts from an OpenAI
    /// vocabulary are scaled by what the user measured.
    pub calibration: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MergeConfig {
    /// `log` (default): a session found in an agent's log is counted from the
    /// log; `register`: from the register entry, as the seed did.
    pub prefer: crate::report::Prefer,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterConfig {
    /// Use a register outside the home (for example the seed's `~/clawd/data/token-usage-register.jsonl`).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Display time zone when `--tz` is not given (IANA name); UTC when unset.
    pub tz: Option<String>,
    /// Where `report daily` writes its dataset when `--dataset-output` is not given.
    pub dataset_output: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotateConfig {
    pub keep_months: u32,
}

impl Default for RotateConfig {
    fn default() -> Self {
        RotateConfig { keep_months: 2 }
    }
}

/// Sections later versions add; accepted so that a newer config does not break an older binary.
const KNOWN_SECTIONS: [&str; 10] = [
    "register", "report", "rotate", "pricing", "merge", "estimate", "notify", "budget", "alert",
    "server",
];

impl Config {
    /// Loads `path`; a missing file is the default config.
    pub fn load(path: &Path) -> Result<(Config, Vec<Warning>)> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Config::default(), Vec::new()));
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<(Config, Vec<Warning>)> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("{e}fix the TOML syntax or move the file aside"),
        })?;
        let warnings = table
            .keys()
            .filter(|k| !KNOWN_SECTIONS.contains(&k.as_str()))
            .map(|k| Warning {
                path: path.to_path_buf(),
                line: None,
                message: format!("unknown section [{k}] ignored"),
            })
            .collect();
        let mut config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        // Relative paths in the config are relative to the config file.
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut config.register.path,
            &mut config.report.dataset_output,
            &mut config.pricing.litellm_file,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok((config, warnings))
    }
}

/// The commented example `tokenledger init` writes.
pub const EXAMPLE_CONFIG: &str = r#"# tokenledger configuration. Every setting is optional; the values shown
# commented out are the defaults.

[register]
# Use a register outside the home, e.g. the Better Claw default:
# path = "/home/ubuntu/clawd/data/token-usage-register.jsonl"

[report]
# Display time zone (IANA name). Stored data is always UTC.
# tz = "UTC"
# Where `report daily` writes token-usage-daily.json when --dataset-output is not given.
# dataset_output = "token-usage-daily.json"

[rotate]
# Keep the current month plus this many minus one previous months in the live register.
# keep_months = 2

[merge]
# When the register and an agent's log describe the same session, count the
# log ("log", the billed per-request data) or the register entry ("register").
# prefer = "log"

[pricing]
# A LiteLLM-format price file, e.g. a copy of model_prices_and_context_window.json.
# litellm_file = "model_prices_and_context_window.json"

# Override or add prices, in USD per 1M tokens:
# [pricing.models."my-company/custom-model"]
# input = 1.0
# output = 4.0
# cache_read = 0.1
# cache_write_5m = 1.25
# cache_write_1h = 2.0

[estimate]
# `tokenledger estimate` and the CLEO tracking commands count tokens with the
# o200k_base BPE vocabulary (embedded). Claude's tokenizer is not public:
# scale the counts per model family (longest prefix of the model name wins).
# model = "claude-sonnet-4-5"
# [estimate.calibration]
# claude = 1.0
# "claude-opus-4-7" = 1.3

# Delivery: `report daily --send telegram,discord,slack` and `alert check`.
# Secrets never go in this file: each channel names the environment
# variable holding its secret.
# [notify.telegram]
# bot_token_env = "TELEGRAM_BOT_TOKEN"   # variable holding the bot token
# chat_id = -1001234567890               # numeric chat id or "@channelname"
# thread_id = 42                         # forum topic (message_thread_id)
# api_url = "https://api.telegram.org"   # Bot API base URL
# [notify.discord]
# webhook_url_env = "DISCORD_WEBHOOK_URL"  # variable holding the webhook URL
# api_url = "https://discord.com"          # replaces the webhook URL's scheme and host
# [notify.slack]
# webhook_url_env = "SLACK_WEBHOOK_URL"    # variable holding the webhook URL
# api_url = "https://hooks.slack.com"      # replaces the webhook URL's scheme and host

# Budgets, shown in `report daily` and checked by `tokenledger alert check`.
# Days and months follow report.tz. Set exactly one of usd or tokens; agent,
# model and task narrow what counts.
# [[budget]]
# name = "daily-spend"
# period = "day"              # "day" or "month"
# usd = 20.0
# thresholds = [0.8, 1.0]     # alert at 80% and 100% (the default)
# [[budget]]
# name = "opus-tokens"
# period = "month"
# tokens = 5_000_000
# model = "claude-opus-4-5"   # also: agent = "backend", task = "T1234"

[alert]
# Channels `alert check` sends to (as for --send); empty sends nothing.
# send = ["telegram"]

# The collector, `tokenledger serve` (see the README's collector section).
# [server]
# otel_prefer = "events"        # OTLP log events or "metrics" count for a session that sent both
# body_limit_bytes = 8388608    # larger request bodies get 413
# rate_per_second = 200         # per token (per peer address without tokens); 0 = off
# rate_burst = 400
# run_schedules = false         # run `schedule install --backend server` jobs in the collector
# Bearer tokens, kept as SHA-256 only (`tokenledger serve hash-token`).
# With none, the server is open: keep it on loopback then.
# [[server.token]]
# name = "team-a-agents"
# sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# scope = "write"               # "write", "read" or "both"
# prefix = "team-a/"            # only agents whose id starts with this
"#;
