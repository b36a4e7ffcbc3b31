//! `tokenledger hook openclaw-stats`: an OpenClaw subagent announce on stdin.

use crate::context::Context;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct OpenclawStatsArgs {}

pub fn stats(_ctx: &Context, _args: OpenclawStatsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("hook openclaw-stats is not built yet")
}
