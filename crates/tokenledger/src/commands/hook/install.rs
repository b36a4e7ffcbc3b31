//! `tokenledger hook install|uninstall AGENT`.

use super::HookAgent;
use crate::context::Context;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[arg(value_enum)]
    pub agent: HookAgent,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[arg(value_enum)]
    pub agent: HookAgent,
}

pub fn install(_ctx: &Context, _args: InstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("hook install is not built yet")
}

pub fn uninstall(_ctx: &Context, _args: UninstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("hook uninstall is not built yet")
}
