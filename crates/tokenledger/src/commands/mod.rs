//! One file per command.

pub mod alert;
mod check;
mod completions;
mod data;
pub mod estimate;
pub mod hook;
mod init;
mod log;
pub mod metrics;
pub mod migrate;
mod output;
mod pricing;
mod remote;
mod report;
mod rotate;
pub mod schedule;
mod send;
pub mod serve;
mod serve_jobs;
pub mod session;
mod sources;
mod sync;
pub mod track;

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
                Command::Sync(args) => sync::run(&ctx, args),
                Command::Hook(args) => hook::run(&ctx, args),
                Command::Session(args) => session::run(&ctx, args),
                Command::Track(args) => track::run(&ctx, args),
                Command::Estimate(args) => estimate::run(&ctx, args),
                Command::Metrics(args) => metrics::run(&ctx, args),
                Command::Alert(args) => alert::run(&ctx, args),
                Command::Schedule(args) => schedule::run(&ctx, args),
                Command::Serve(args) => serve::run(&ctx, args),
                Command::Migrate(args) => migrate::run(&ctx, args),
                Command::Completions { .. } | Command::Man => unreachable!("handled above"),
            }
        }
    }
}
