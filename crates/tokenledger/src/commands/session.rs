//! `tokenledger session start|end`: CLEO's tier 1, a record per session
//! start and end in SESSIONS.jsonl, with actual figures when any exist.

use super::estimate::{cleo_config, cleo_error};
use crate::context::{Context, warn};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tokenledger_cleo::lifecycle::{self, Ended, SessionRef};
use tokenledger_cleo::links;
use tokenledger_cleo::sessions::SessionRecord;
use tokenledger_core::register::AppendOutcome;
use tokenledger_core::store::Store;
use tokenledger_sources::Environment;
use tokenledger_sources::claude_code::ClaudeCodeSource;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger session start\n  \
    tokenledger session end --tasks-completed 3\n  \
    tokenledger session end --claude-session 1e8544aa-de65-4f54-8691-4d138836c981")]
pub struct SessionArgs {
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Record a session start in SESSIONS.jsonl
    Start(Target),
    /// Record a session end, with actual totals when the transcript or a context-state file has them
    End(EndArgs),
}

#[derive(Debug, Args)]
pub struct Target {
    /// The CLEO session id [default: start: a new session_YYYYMMDD_HHMMSS_xxxxxx; end: the open session]
    #[arg(long)]
    pub id: Option<String>,
    /// The Claude Code session id, whose transcript gives actual figures
    #[arg(long, value_name = "ID")]
    pub claude_session: Option<String>,
    /// The Claude Code transcript itself (its subagents' files are read too)
    #[arg(long, value_name = "PATH")]
    pub transcript: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EndArgs {
    #[command(flatten)]
    pub target: Target,
    /// Tasks completed in the session [default: tasks with a spawn_end record in it]
    #[arg(long, value_name = "N")]
    pub tasks_completed: Option<u64>,
}

pub fn run(ctx: &Context, args: SessionArgs) -> anyhow::Result<ExitCode> {
    let config = cleo_config(None)?;
    if !config.sessions_on() {
        warn(&format_args!(
            "session not recorded: {}",
            config.why_off("sessionLevel")
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let now = jiff::Timestamp::now();
    let prices = ctx.prices()?;
    match args.command {
        SessionCommand::Start(target) => {
            let session = session_ref(target);
            let (record, warnings) =
                lifecycle::start(&config, &session, &prices, now).map_err(cleo_error)?;
            warnings.iter().for_each(|w| warn(w));
            println!("Session {} started", record.session_id);
            print_figures(&record);
        }
        SessionCommand::End(args) => {
            let session = session_ref(args.target);
            let ended = lifecycle::end(&config, &session, args.tasks_completed, &prices, now)
                .map_err(cleo_error)?;
            ended.warnings.iter().for_each(|w| warn(w));
            if !ended.had_start {
                warn(&format_args!(
                    "no start record for session {} in {}; its end is recorded without a duration or delta",
                    ended.record.session_id,
                    config.sessions_path().display()
                ));
            }
            println!("Session {} ended", ended.record.session_id);
            print_figures(&ended.record);
            log_actuals(ctx, &ended, "cleo-session")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The session's actual totals to the register (once per session key) and
/// its tasks' shares to the task links, so reports see both tiers.
pub(super) fn log_actuals(ctx: &Context, ended: &Ended, source: &str) -> anyhow::Result<()> {
    let Some(entry) = &ended.entry else {
        return Ok(());
    };
    let mut entry = entry.clone();
    entry.source = Some(source.to_string());
    match ctx.store().append(&entry)? {
        AppendOutcome::Appended { .. } => {}
        AppendOutcome::Duplicate => warn(&format_args!(
            "session {} is already in the register; not logged again",
            entry.session_key
        )),
    }
    for split in &ended.splits {
        links::append_split(&ctx.home, &entry.session_key, split).map_err(cleo_error)?;
    }
    Ok(())
}

fn print_figures(r: &SessionRecord) {
    let mark = if r.source.is_estimate() { "~" } else { "" };
    println!(
        "   Tokens: {mark}{} total ({} in, {} out, {} cache read, {} cache write) | Source: {}{}",
        r.total,
        r.tokens.input,
        r.tokens.output,
        r.tokens.cache_read,
        r.tokens.cache_write(),
        r.source.as_str(),
        if r.source.is_estimate() {
            " (estimate)"
        } else {
            ""
        }
    );
}

/// The session as the flags name it; its transcript is found from the
/// Claude session id in Claude Code's locations when not given.
pub(super) fn session_ref(target: Target) -> SessionRef {
    SessionRef {
        id: target.id,
        claude_session_id: target.claude_session,
        transcript: target.transcript,
        claude_locations: claude_locations(),
        collector: super::remote::collector_from_env(),
    }
}

pub(super) fn claude_locations() -> Vec<PathBuf> {
    ClaudeCodeSource::from_env(&Environment::from_process())
        .roots()
        .to_vec()
}
