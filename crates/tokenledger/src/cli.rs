//! Every flag is defined once, here; help, the man page and shell completions
//! are all generated from these definitions.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "tokenledger",
    version,
    about = "Record and report the tokens and money AI agents spend",
    long_about = "Record and report the tokens and money AI agents spend.\n\n\
        Agents log one line per finished session to an append-only register \
        (token-usage-register.jsonl, compatible with Better Claw's Token Logging \
        System v2); reports group it by day, hour, model, agent, task and more.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Data directory [default: $TOKENLEDGER_HOME, else $XDG_DATA_HOME/tokenledger, else ~/.local/share/tokenledger]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Config file [default: $TOKENLEDGER_CONFIG, else ~/.config/tokenledger/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to colour output; NO_COLOR is honoured under `auto`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory and a commented example config (idempotent)
    Init,
    /// Append one session-end record to the register, safely
    Log(LogArgs),
    /// Report usage, grouped and filtered; `report daily` gives the daily digest
    Report(ReportArgs),
    /// Move entries older than the kept months into monthly gzip archives
    Rotate(RotateArgs),
    /// Show which price applies to a model and where it came from
    Pricing(PricingArgs),
    /// List each usage source: paths searched, files and sessions found, time span, unreadable lines
    Sources(SourcesArgs),
    /// Copy new events from the agents' logs into the ledger, so they outlive the agents' cleanup
    Sync(SyncArgs),
    /// What the agents' hooks call, and installing those hooks
    Hook(crate::commands::hook::HookArgs),
    /// CLEO tier 1: record a session's start or end in SESSIONS.jsonl
    Session(crate::commands::session::SessionArgs),
    /// CLEO tier 2: record a spawn, manifest read or skill injection estimate in TOKEN_USAGE.jsonl
    Track(crate::commands::track::TrackArgs),
    /// Estimate a file's tokens (BPE with a calibration factor, or the seed's bytes / 4)
    Estimate(crate::commands::estimate::EstimateArgs),
    /// CLEO's dashboard: session totals, per-task attribution, manifest savings
    Metrics(crate::commands::metrics::MetricsArgs),
    /// Budget alerts: `alert check` sends one alert per budget, threshold and period
    Alert(crate::commands::alert::AlertArgs),
    /// Run a tokenledger command daily at a set time (user crontab or systemd timer)
    Schedule(crate::commands::schedule::ScheduleArgs),
    /// Run the collector: agents send events and OpenTelemetry here, reports read from here
    Serve(crate::commands::serve::ServeArgs),
    /// Copy the home's history (register, archives, ledger) into a PostgreSQL store; safe to run again
    Migrate(crate::commands::migrate::MigrateArgs),
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Default, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger log test-001 main anthropic/claude-sonnet-4-5 1000 500 0.0075\n  \
    tokenledger log --session s-42 --agent backend --model claude-opus-4-5 --input 12000 --output 900 --cache-read 40000 --task T1234")]
pub struct LogArgs {
    /// The seed's positional form: SESSION_KEY AGENT_ID MODEL TOKENS_INPUT TOKENS_OUTPUT [COST]
    #[arg(value_name = "FIELDS", num_args = 0..=6, allow_negative_numbers = true)]
    pub positional: Vec<String>,
    /// Session key (unique per session) [default: unknown]
    #[arg(long, value_name = "KEY")]
    pub session: Option<String>,
    /// Agent id [default: main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Model, with or without provider prefix [default: unknown]
    #[arg(long)]
    pub model: Option<String>,
    /// Uncached input tokens [default: 0]
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub input: Option<String>,
    /// Output tokens [default: 0]
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub output: Option<String>,
    /// Cache-read input tokens
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub cache_read: Option<String>,
    /// Cache-write input tokens with the 5-minute TTL
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub cache_write: Option<String>,
    /// Cache-write input tokens with the 1-hour TTL
    #[arg(long, value_name = "TOKENS", allow_negative_numbers = true)]
    pub cache_write_1h: Option<String>,
    /// Cost in USD; computed from the price table when omitted
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    pub cost: Option<String>,
    /// Task id the session worked on (e.g. T1234)
    #[arg(long)]
    pub task: Option<String>,
    /// Project or working directory
    #[arg(long)]
    pub project: Option<String>,
    /// Who wrote the entry (e.g. claude-code-hook)
    #[arg(long)]
    pub source: Option<String>,
    /// When the session ended (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub timestamp: Option<String>,
    /// Exit 1 when the session key is already logged
    #[arg(long, conflicts_with = "best_effort")]
    pub strict: bool,
    /// Never fail: turn every error into a warning and exit 0 (for hooks)
    #[arg(long)]
    pub best_effort: bool,
    /// Send the entry to a collector (`tokenledger serve`) instead of the local
    /// register; spooled under the home while it is unreachable. Bearer token: $TOKENLEDGER_TOKEN
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

#[derive(Debug, Default, Args)]
pub struct SyncArgs {
    /// Send the agents' events to a collector instead of the local ledger;
    /// spooled under the home while it is unreachable. Bearer token: $TOKENLEDGER_TOKEN
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportView {
    /// The seed's daily digest: summary, by model, by agent, hourly
    Daily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    Markdown,
    /// `report` only: one self-contained page of SVG charts and the tables
    Html,
    /// `report` only: the main chart (tokens over time by model) as a PNG image
    Png,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger report --by day,model --period 7d\n  \
    tokenledger report daily --tz Europe/Berlin\n  \
    tokenledger report --by agent --since 2026-02-01 --format json\n  \
    tokenledger report --period 7d --format html --output usage.html\n  \
    tokenledger report --period 24h --format png --output chart.png")]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub view: Option<ReportView>,
    /// Look-back window: 24h, 7d, 30d, all, or any Nh / Nd [default: 24h for daily, all otherwise]
    #[arg(long)]
    pub period: Option<String>,
    /// Start (date or RFC 3339); overrides --period
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End, exclusive (date or RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only these agents (repeat or comma-separate)
    #[arg(long, value_delimiter = ',')]
    pub agent: Vec<String>,
    /// Only these models (matched after stripping provider prefixes and dates)
    #[arg(long, value_delimiter = ',')]
    pub model: Vec<String>,
    /// Only these tasks
    #[arg(long, value_delimiter = ',')]
    pub task: Vec<String>,
    /// Only these sessions
    #[arg(long, value_delimiter = ',')]
    pub session: Vec<String>,
    /// Group by: day, hour, week, month, model, agent, session, task, project, source, agent_kind
    #[arg(long, value_name = "KEYS")]
    pub by: Option<String>,
    /// Read only these sources: register, claude-code, codex, openclaw [default: every detected one]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub source: Vec<String>,
    /// List sessions whose register totals differ from their agent logs by more than 1%
    #[arg(long, conflicts_with_all = ["view", "by"])]
    pub check: bool,
    /// Display time zone (IANA name); stored data stays UTC [default: config report.tz, else UTC]
    #[arg(long)]
    pub tz: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With `daily`: also write the seed's token-usage-daily.json dataset here
    #[arg(long, value_name = "PATH")]
    pub dataset_output: Option<PathBuf>,
    /// After reporting, rotate old entries into archives (as `tokenledger rotate`)
    #[arg(long)]
    pub rotate: bool,
    /// Months kept live by --rotate [default: config rotate.keep_months, else 2]
    #[arg(long, value_name = "N")]
    pub keep_months: Option<u32>,
    /// Write the report to this file instead of stdout (replaced atomically)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With `daily`: also deliver the digest to telegram, discord, slack or
    /// openclaw:<channel>:<target> (comma-separate several), as configured in [notify.*]
    #[arg(long, value_delimiter = ',', value_name = "CHANNELS")]
    pub send: Vec<String>,
    /// With --send: print the exact payloads (secrets redacted) instead of sending them
    #[arg(long, requires = "send")]
    pub dry_run: bool,
    /// Ask a collector (`tokenledger serve`) instead of reading local files
    /// (--format json; bearer token: $TOKENLEDGER_TOKEN)
    #[arg(long, value_name = "URL", conflicts_with_all = ["view", "check", "send", "source"])]
    pub remote: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Keep the current month and N-1 previous months live [default: config rotate.keep_months, else 2]
    #[arg(long, value_name = "N")]
    pub keep_months: Option<u32>,
}

#[derive(Debug, Args)]
pub struct PricingArgs {
    /// A model name; without it, list every priced model
    pub model: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SourcesArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
