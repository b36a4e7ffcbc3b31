//! `tokenledger metrics tokens|savings`: CLEO's dashboard over the project's
//! SESSIONS.jsonl and TOKEN_USAGE.jsonl.

use super::estimate::{cleo_config, cleo_error};
use crate::cli::Format;
use crate::context::{Context, invalid, warn};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use tokenledger_cleo::attribution;
use tokenledger_cleo::dashboard::Dashboard;
use tokenledger_cleo::savings::Savings;
use tokenledger_cleo::usage::EventType;
use tokenledger_cleo::{sessions, usage};
use tokenledger_core::time::Period;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger metrics tokens --period 7d\n  \
    tokenledger metrics tokens --by-task --format json\n  \
    tokenledger metrics savings")]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub command: MetricsCommand,
    /// Look-back window: 24h, 7d, 30d, all, or any Nh / Nd
    #[arg(long, global = true, default_value = "7d")]
    pub period: String,
    /// `text` (the seed's dashboard) or `json` (the report contract); csv and markdown are not offered here
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Session totals, tasks and savings; `--by-task` for actual next to estimated per task
    Tokens {
        #[arg(long)]
        by_task: bool,
    },
    /// What reading manifest entries instead of full files saved, measured
    Savings,
}

pub fn run(_ctx: &Context, args: MetricsArgs) -> anyhow::Result<ExitCode> {
    if matches!(args.format, Format::Csv | Format::Markdown) {
        return Err(invalid("metrics prints --format text or json"));
    }
    let period = Period::parse(&args.period).map_err(|e| invalid(format!("--period: {e}")))?;
    let config = cleo_config(None)?;
    let now = jiff::Timestamp::now();
    let since = period.since(now);
    let in_window = |ts: jiff::Timestamp| since.is_none_or(|s| ts >= s);
    let (session_records, mut warnings) =
        sessions::read(&config.sessions_path()).map_err(cleo_error)?;
    let (usage_records, more) = usage::read(&config.usage_path()).map_err(cleo_error)?;
    warnings.extend(more);
    for warning in &warnings {
        warn(warning);
    }
    let usage_in: Vec<_> = usage_records
        .into_iter()
        .filter(|r| in_window(r.timestamp))
        .collect();
    let ends: Vec<_> = sessions::ends_by_session(&session_records)
        .into_iter()
        .filter(|r| in_window(r.timestamp))
        .collect();
    let dashboard = Dashboard {
        title: title(period),
        generated_at: now,
        since,
        until: None,
        tasks: attribution::tasks(&usage_in, &ends),
        savings: Savings::from_records(&usage_in),
        manifest_reads: usage_in
            .iter()
            .filter(|r| r.event_type == EventType::ManifestRead)
            .collect(),
        sessions: ends,
        warnings: warnings.iter().map(ToString::to_string).collect(),
    };
    let json = args.format == Format::Json;
    let out = match args.command {
        MetricsCommand::Tokens { by_task: true } if json => dashboard.by_task_json(),
        MetricsCommand::Tokens { by_task: true } => dashboard.by_task_text(),
        MetricsCommand::Tokens { by_task: false } if json => dashboard.tokens_json(),
        MetricsCommand::Tokens { by_task: false } => dashboard.tokens_text(),
        MetricsCommand::Savings if json => dashboard.savings_json(),
        MetricsCommand::Savings => dashboard.savings_text(),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn title(period: Period) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("Last {unit}")
        } else {
            format!("Last {n} {unit}s")
        }
    };
    match period {
        Period::Hours(h) => plural(h, "Hour"),
        Period::Days(d) => plural(d, "Day"),
        Period::All => "All Time".into(),
    }
}
