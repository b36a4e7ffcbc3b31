//! OpenClaw: `tokenledger hook openclaw-stats` (a subagent announce on stdin)
//! and the AGENTS.md section `hook install openclaw` prints.
//!
//! OpenClaw has no hook settings file to edit: agents log because AGENTS.md
//! tells them to, and a subagent's result reaches its parent as an announce
//! message whose `Stats:` line (`buildSubagentStatsLine`) carries the figures.

use super::announce::{AnnounceStats, agent_from_session_key, find_stats_line, parse_stats_line};
use crate::cli::LogArgs;
use crate::context::{Context, warn};
use clap::Args;
use std::io::Read;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger hook openclaw-stats --model anthropic/claude-sonnet-4-5 < announce.txt\n  \
    echo 'Stats: runtime 2m30s • tokens 15.2k (in 12.1k / out 3.1k) • est $0.05 • sessionKey agent:main:subagent:42' | tokenledger hook openclaw-stats")]
pub struct OpenclawStatsArgs {
    /// Agent id [default: the <id> of an `agent:<id>:...` session key, else main]
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Session key [default: the line's sessionKey, else its sessionId]
    #[arg(long, value_name = "KEY")]
    pub session: Option<String>,
    /// Model the subagent ran (the Stats line does not say) [default: unknown]
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Never fail: turn every error into a warning and exit 0 (for hooks)
    #[arg(long)]
    pub best_effort: bool,
}

/// An announce is a chat message; anything bigger is not one, and reading it
/// all would only cost memory.
const MAX_ANNOUNCE_BYTES: u64 = 16 << 20;

pub fn stats(ctx: &Context, args: OpenclawStatsArgs) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    if let Err(err) = std::io::stdin()
        .take(MAX_ANNOUNCE_BYTES)
        .read_to_end(&mut bytes)
    {
        if args.best_effort {
            warn(&format_args!(
                "reading the announce on stdin: {err} (not logged; --best-effort)"
            ));
            return Ok(ExitCode::SUCCESS);
        }
        return Err(anyhow::anyhow!("reading the announce on stdin: {err}"));
    }
    let text = String::from_utf8_lossy(&bytes);
    // Hooks pipe every message through here; one without stats is normal, not a failure.
    let Some(line) = find_stats_line(&text) else {
        warn(
            &"no `Stats:` line on stdin (expected an OpenClaw subagent announce ending in \
               `Stats: runtime … • tokens … (in … / out …) • sessionKey …`); nothing logged",
        );
        return Ok(ExitCode::SUCCESS);
    };
    let stats = parse_stats_line(line);
    let Some(log_args) = to_log_args(&stats, &args) else {
        return Ok(ExitCode::SUCCESS);
    };
    // The same path as `tokenledger log`: validation, pricing, dedupe, locking, output.
    crate::commands::log::run(ctx, log_args)
}

/// Builds the `log` arguments, or warns and returns `None` when the line holds
/// nothing worth an entry.
fn to_log_args(stats: &AnnounceStats, args: &OpenclawStatsArgs) -> Option<LogArgs> {
    if stats.tokens_input.is_none() && stats.tokens_output.is_none() {
        // `tokens n/a`, or only the total: that total is OpenClaw's context
        // snapshot, not what the run consumed, so it is not logged as usage.
        warn(
            &"the `Stats:` line has no `in`/`out` token counts (OpenClaw writes `tokens n/a` \
               when the session store had none); nothing logged",
        );
        return None;
    }
    let session = args
        .session
        .clone()
        .or_else(|| stats.session_key.clone())
        .or_else(|| stats.session_id.clone());
    let Some(session) = session else {
        warn(
            &"the `Stats:` line has no sessionKey or sessionId; pass --session KEY; nothing logged",
        );
        return None;
    };
    if stats.abbreviated {
        warn(&format_args!(
            "the Stats line shows rounded counts (OpenClaw writes 12.1k, 1.2m); logged as {} in, {} out",
            stats.tokens_input.unwrap_or(0),
            stats.tokens_output.unwrap_or(0)
        ));
    }
    if stats.tokens_input.is_none() || stats.tokens_output.is_none() {
        warn(
            &"the `Stats:` line lacks the `in` or the `out` count; the missing one is logged as 0",
        );
    }
    let agent = args
        .agent
        .clone()
        .or_else(|| agent_from_session_key(&session).map(str::to_string));
    Some(LogArgs {
        session: Some(session),
        agent,
        model: args.model.clone(),
        input: Some(stats.tokens_input.unwrap_or(0).to_string()),
        output: Some(stats.tokens_output.unwrap_or(0).to_string()),
        // OpenClaw's own estimate, from the prices in its config; without it
        // `log` prices the tokens from our table.
        cost: stats.cost_usd.clone(),
        source: Some("openclaw-announce".to_string()),
        best_effort: args.best_effort,
        ..LogArgs::default()
    })
}

/// The Better Claw seed's AGENTS.md section (its installation step 3), with
/// `tokenledger log` where the seed had agents append raw JSON with a heredoc:
/// that heredoc wrote unescaped, unvalidated, undeduplicated lines.
pub fn print_agents_section(ctx: &Context) -> anyhow::Result<ExitCode> {
    let bin = super::this_binary_for_shell()?;
    let register = ctx.register().path().display().to_string();
    print!("{}", agents_section(&bin, &register));
    eprintln!(
        "tokenledger: paste the section above into AGENTS.md (before \"Development Rules\" if \
         it has one), then sync the subagents' copies; nothing was written"
    );
    Ok(ExitCode::SUCCESS)
}

fn agents_section(bin: &str, register: &str) -> String {
    format!(
        r#"## 📊 Session-End Token Logging (CRITICAL)

**Every session MUST log token usage before exit** to the shared register for accurate daily reporting.

### When to Log
- When you receive a final message indicating session end
- When your task is complete and you're awaiting cleanup
- Before a long idle period (>1 hour)
- **Automatically on graceful session termination**

### How to Log

```bash
# Get session stats from the session_status tool.
# Extract: session key, agent id, model, input tokens, output tokens, cost.
# Write whole numbers: 15000, not 15k. Leave out --cost if no cost is shown
# (tokenledger prices the tokens itself).
{bin} log --session YOUR_SESSION_KEY --agent YOUR_AGENT_ID --model MODEL_NAME --input INPUT_COUNT --output OUTPUT_COUNT --cost COST_VALUE --best-effort
```

### When a Subagent Reports Back
A subagent's announce ends with a `Stats:` line. Log it by passing that line on:

```bash
{bin} hook openclaw-stats --model MODEL_NAME --best-effort <<'EOF'
Stats: runtime 12m23s • tokens 108.8k (in 1 / out 569) • sessionKey agent:main:subagent:… • sessionId …
EOF
```

### Example
```bash
{bin} log --session abc123 --agent backend-engineer --model anthropic/claude-sonnet-4-5 --input 15000 --output 3000 --cost 0.045 --best-effort
```
appends:
```json
{{"timestamp":"2026-02-05T20:00:00Z","session_key":"abc123","agent_id":"backend-engineer","model":"anthropic/claude-sonnet-4-5","tokens_input":15000,"tokens_output":3000,"cost":0.045}}
```

### Register Location
- **All agents** (main workspace and subagent sandboxes): `{register}`

### Important Notes
- **Always log through `tokenledger log`**: never append to the register by hand
- **Append-only, atomic**: each entry is one complete JSON line, written under a lock
- **No duplicates**: a session key that is already logged is skipped
- **Graceful failure**: `--best-effort` turns any error into a warning and exit 0, so logging never blocks session end

### Verification
After logging, you can verify:
```bash
{bin} report --period 24h --by agent
```

### Monthly Cleanup
`{bin} rotate` moves entries older than the kept months into monthly gzip archives.
"#
    )
}

#[cfg(test)]
#[path = "openclaw_tests.rs"]
mod tests;
