//! The thin command-line edge: parse flags, run one command, map errors to exit codes.

mod cli;
mod commands;
mod context;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes: 0 success, 1 failure (I/O, config, `--strict` duplicate), 2 invalid input or usage.
fn main() -> ExitCode {
    // Like every Unix filter, end quietly when the reader goes away
    // (`tokenledger report | head`): Rust ignores SIGPIPE, which turns each
    // later print into a panic.
    // SAFETY: called first thing, before any thread exists; restoring a
    // signal's default disposition has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let code = context::exit_code_for(&err);
            eprintln!("tokenledger: error: {err:#}");
            ExitCode::from(code)
        }
    }
}
