//! `tokenledger hook ...`: what the agents' hooks call, and installing those hooks.

mod announce;
mod claude_code;
mod install;
mod openclaw;
mod settings_file;

use crate::context::{Context, invalid};
use clap::{Args, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Handle one Claude Code hook payload on stdin (SessionStart, SessionEnd, Stop, SubagentStop, PreToolUse); always exits 0
    ClaudeCode(claude_code::ClaudeCodeHookArgs),
    /// Add tokenledger's hooks to an agent's settings (idempotent, keeps a backup)
    Install(install::InstallArgs),
    /// Remove only the hooks `install` added
    Uninstall(install::UninstallArgs),
    /// Read an OpenClaw subagent announce (its `Stats:` line) on stdin and log it to the register
    OpenclawStats(openclaw::OpenclawStatsArgs),
}

/// The agents whose hooks `install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookAgent {
    ClaudeCode,
    Openclaw,
}

pub fn run(ctx: &Context, args: HookArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        HookCommand::ClaudeCode(args) => claude_code::run(ctx, args),
        HookCommand::Install(args) => install::install(ctx, args),
        HookCommand::Uninstall(args) => install::uninstall(ctx, args),
        HookCommand::OpenclawStats(args) => openclaw::stats(ctx, args),
    }
}

/// The running binary as a shell word. Hooks run with whatever PATH the agent
/// has, so they name this exact binary instead of relying on `tokenledger`
/// being found.
fn this_binary_for_shell() -> anyhow::Result<String> {
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot tell where this tokenledger binary is: {e}"))?;
    let text = exe.to_str().ok_or_else(|| {
        invalid(format!(
            "the path of this binary ({}) is not UTF-8, so it cannot be written into a hook \
             command; install tokenledger under a UTF-8 path",
            exe.display()
        ))
    })?;
    Ok(shell_quote(text))
}

/// POSIX shell quoting, only when needed, so the common case stays readable.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_only_what_the_shell_would_split_or_expand() {
        assert_eq!(
            shell_quote("/usr/local/bin/tokenledger"),
            "/usr/local/bin/tokenledger"
        );
        assert_eq!(
            shell_quote("/Users/Jo Doe/bin/tokenledger"),
            "'/Users/Jo Doe/bin/tokenledger'"
        );
        assert_eq!(shell_quote("/tmp/it's/tl"), r"'/tmp/it'\''s/tl'");
        assert_eq!(shell_quote("/opt/$HOME/tl"), "'/opt/$HOME/tl'");
    }
}
