//! `tokenledger hook claude-code`: one Claude Code hook payload on stdin.

use crate::context::Context;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ClaudeCodeHookArgs {}

pub fn run(_ctx: &Context, _args: ClaudeCodeHookArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("hook claude-code is not built yet")
}
