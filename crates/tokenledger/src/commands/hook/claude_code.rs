//! `tokenledger hook claude-code`: one Claude Code hook payload on stdin.
//!
//! SessionStart (and Stop, for sessions begun before the hook was installed)
//! records the CLEO session start; PreToolUse for the Task/Agent tool records
//! a spawn_start for the task id its prompt names; SubagentStop ties the
//! subagent run to that task and records its actual usage; SessionEnd
//! records the end and logs the session's actual totals to the register.
//! It prints nothing (SessionStart output would enter the model's context),
//! always exits 0, and writes errors to `hook.log` in the home.

use crate::commands::estimate::estimator;
use crate::commands::session::{claude_locations, log_actuals};
use crate::context::Context;
use anyhow::Context as _;
use clap::Args;
use serde_json::Map;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokenledger_cleo::config::{CleoConfig, CleoEnv};
use tokenledger_cleo::hook_payload::{HookPayload, PayloadError};
use tokenledger_cleo::lifecycle::{self, SessionRef};
use tokenledger_cleo::track::{Tracker, prompt_hash};
use tokenledger_cleo::usage::{self, EventType};
use tokenledger_cleo::{links, sessions, transcript};
use tokenledger_core::Warning;

/// Payloads carry at most a last message; anything bigger is not a payload.
const MAX_PAYLOAD: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct ClaudeCodeHookArgs {}

pub fn run(ctx: &Context, _args: ClaudeCodeHookArgs) -> anyhow::Result<ExitCode> {
    let mut log = HookLog::new(&ctx.home);
    if let Err(err) = handle(ctx, &mut log) {
        log.line(&format!("error: {err:#}"));
    }
    Ok(ExitCode::SUCCESS)
}

struct HookLog {
    path: PathBuf,
    event: String,
}

impl HookLog {
    fn new(home: &Path) -> HookLog {
        HookLog {
            path: home.join("hook.log"),
            event: "?".into(),
        }
    }

    /// Best effort: a hook that cannot log still must not fail the agent.
    fn line(&self, message: &str) {
        let _ = std::fs::create_dir_all(self.path.parent().unwrap_or(Path::new(".")));
        let text = format!(
            "{} claude-code {}: {message}\n",
            tokenledger_core::time::format_register_timestamp(jiff::Timestamp::now()),
            self.event
        );
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            let _ = file.write_all(text.as_bytes());
        }
    }

    fn warnings(&self, warnings: &[Warning]) {
        for w in warnings {
            self.line(&format!("warning: {w}"));
        }
    }
}

fn handle(ctx: &Context, log: &mut HookLog) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_PAYLOAD)
        .read_to_end(&mut bytes)
        .context("reading the hook payload from standard input")?;
    let payload = HookPayload::parse(&bytes).inspect_err(|e| {
        if let PayloadError::NoSession { event } = e {
            log.event = event.clone();
        }
    })?;
    log.event = payload.event.clone();
    let cwd = match payload.str("/cwd") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_dir().context("reading the working directory")?,
    };
    let (config, warnings) = CleoConfig::discover(&cwd, &CleoEnv::from_process());
    log.warnings(&warnings);
    match payload.event.as_str() {
        "SessionStart" | "Stop" if config.sessions_on() => {
            ensure_started(ctx, &config, &payload, log)?;
        }
        "PreToolUse" if config.spawns_on() => spawn_start(ctx, &config, &payload, log)?,
        "SubagentStop" if config.spawns_on() => subagent_stop(ctx, &config, &payload, log)?,
        "SessionEnd" if config.sessions_on() => {
            let session = session_ref(&payload);
            let prices = ctx.prices()?;
            let now = jiff::Timestamp::now();
            let ended = lifecycle::end(&config, &session, None, &prices, now)?;
            log.warnings(&ended.warnings);
            if !ended.had_start {
                log.line(
                    "no start record for this session; its end is recorded without a duration",
                );
            }
            log_actuals(ctx, &ended, "claude-code-hook")?;
        }
        _ => {}
    }
    Ok(())
}

fn session_ref(payload: &HookPayload) -> SessionRef {
    SessionRef {
        id: None,
        claude_session_id: Some(payload.session.clone()),
        transcript: payload.transcript.clone(),
        claude_locations: claude_locations(),
        collector: crate::commands::remote::collector_from_env(),
    }
}

/// The CLEO session of this Claude session, started now if no hook did yet.
/// With session tracking off, the Claude session id stands in.
fn ensure_started(
    ctx: &Context,
    config: &CleoConfig,
    payload: &HookPayload,
    log: &HookLog,
) -> anyhow::Result<String> {
    if !config.sessions_on() {
        return Ok(payload.session.clone());
    }
    let (records, warnings) = sessions::read(&config.sessions_path())?;
    log.warnings(&warnings);
    if let Some(start) = sessions::find_start(&records, None, Some(&payload.session)) {
        let ended = records.iter().any(|r| {
            r.event == sessions::Event::End
                && r.session_id == start.session_id
                && r.line > start.line
        });
        if !ended {
            return Ok(start.session_id.clone());
        }
    }
    let prices = ctx.prices()?;
    let (record, warnings) = lifecycle::start(
        config,
        &session_ref(payload),
        &prices,
        jiff::Timestamp::now(),
    )?;
    log.warnings(&warnings);
    Ok(record.session_id)
}

fn spawn_start(
    ctx: &Context,
    config: &CleoConfig,
    payload: &HookPayload,
    log: &HookLog,
) -> anyhow::Result<()> {
    let Some(prompt) = payload.spawn_prompt() else {
        return Ok(());
    };
    let Some(task) = transcript::task_ids(prompt).into_iter().next() else {
        log.line("the Task/Agent prompt names no task id (T1234); not tracked");
        return Ok(());
    };
    let session = ensure_started(ctx, config, payload, log)?;
    // The tool's `model` is an alias (`sonnet`) or absent: the configured
    // default family applies.
    let estimator = estimator(ctx, "bpe", None)?;
    let mut context = Map::new();
    for (key, pointer) in [
        ("protocol", "/tool_input/subagent_type"),
        ("description", "/tool_input/description"),
        ("tool_use_id", "/tool_use_id"),
    ] {
        if let Some(v) = payload.str(pointer) {
            context.insert(key.into(), v.into());
        }
    }
    context.insert("claude_session_id".into(), payload.session.clone().into());
    let tracker = Tracker {
        config,
        estimator: &estimator,
        session: Some(session),
        now: jiff::Timestamp::now(),
    };
    tracker.spawn_start(&task, prompt, "hook:PreToolUse".into(), context)?;
    Ok(())
}

fn subagent_stop(
    ctx: &Context,
    config: &CleoConfig,
    payload: &HookPayload,
    log: &HookLog,
) -> anyhow::Result<()> {
    let agent_id = payload.str("/agent_id").map(str::to_string);
    let Some(path) = payload.subagent_transcript() else {
        log.line("no agent_transcript_path and no agent_id; nothing to attribute");
        return Ok(());
    };
    let prompt = transcript::first_prompt(&path).unwrap_or_default();
    let session = ensure_started(ctx, config, payload, log)?;
    let (records, warnings) = usage::read(&config.usage_path())?;
    log.warnings(&warnings);
    let starts: Vec<_> = records
        .iter()
        .filter(|r| r.event_type == EventType::SpawnStart && r.session() == Some(&session))
        .collect();
    let hash = prompt_hash(&prompt);
    let by_hash = starts
        .iter()
        .rev()
        .find(|r| r.context_str("prompt_hash") == Some(&hash))
        .and_then(|r| r.task_id.clone());
    let named = transcript::task_ids(&prompt);
    let (task, linked_by) = match by_hash {
        Some(task) => (task, "prompt-hash"),
        None => match named
            .iter()
            .find(|t| starts.iter().any(|r| r.task_id.as_ref() == Some(*t)))
            .or(named.first())
        {
            Some(task) => (task.clone(), "prompt-task-id"),
            None => {
                log.line(&format!(
                    "the prompt in {} names no task id; not attributed",
                    path.display()
                ));
                return Ok(());
            }
        },
    };
    let agent = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("agent-"))
        .map(str::to_string)
        .or(agent_id)
        .unwrap_or_else(|| "unknown".into());
    let agent_key = format!("subagent:{agent}");
    let prices = ctx.prices()?;
    let actual = transcript::actual(vec![path.clone()], &prices)?;
    log.warnings(&actual.warnings);
    let estimator = estimator(ctx, "bpe", actual.model.as_deref())?;
    let t = actual.tokens;
    let mut context = Map::new();
    context.insert("agent_id".into(), agent.into());
    context.insert(
        "agent_transcript_path".into(),
        path.display().to_string().into(),
    );
    context.insert("claude_session_id".into(), payload.session.clone().into());
    context.insert("linked_by".into(), linked_by.into());
    context.insert(
        "actual".into(),
        serde_json::json!({
            "agent_id": agent_key,
            "input": t.input,
            "output": t.output,
            "cache_read": t.cache_read,
            "cache_write_5m": t.cache_write_5m,
            "cache_write_1h": t.cache_write_1h,
            "total": t.total(),
            "cost_usd": actual.cost_usd,
            "model": actual.model,
            "requests": actual.requests,
        }),
    );
    let tracker = Tracker {
        config,
        estimator: &estimator,
        session: Some(session),
        now: jiff::Timestamp::now(),
    };
    let output = estimator.text(payload.str("/last_assistant_message").unwrap_or(""));
    tracker.record(
        EventType::SpawnEnd,
        &output,
        "hook:SubagentStop".into(),
        &task,
        context,
    )?;
    links::append_subagent(&ctx.home, &payload.session, &agent_key, &task)?;
    Ok(())
}
