//! One file per command.

mod check;
mod completions;
pub mod hook;
mod init;
mod log;
mod pricing;
mod report;
mod rotate;
mod sources;
mod sync;

use crate::cli::{Cli, Command};
use crate::context::Context;
use std::process::ExitCode;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
        command => {
            let ctx = Context::load(&cli.global)?;
            match command {
                Command::Init => init::run(&ctx),
                Command::Log(args) => log::run(&ctx, args),
                Command::Report(args) => report::run(&ctx, args),
                Command::Rotate(args) => rotate::run(&ctx, args),
                Command::Pricing(args) => pricing::run(&ctx, args),
                Command::Sources(args) => sources::run(&ctx, args),
                Command::Sync => sync::run(&ctx),
                Command::Hook(args) => hook::run(&ctx, args),
                Command::Completions { .. } | Command::Man => unreachable!("handled above"),
            }
        }
    }
}
