//! `tokenledger hook ...`: what the agents' hooks call, and installing those hooks.

mod claude_code;
mod install;
mod openclaw;

use crate::context::Context;
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
