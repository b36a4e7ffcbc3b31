use crate::context::{Context, warn};
use std::process::ExitCode;
use tokenledger_core::ledger::Ledger;
use tokenledger_core::source::Source;

/// Safe to run from cron at any interval: a second run adds nothing, and a
/// run killed at any instant loses nothing and doubles nothing.
pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::in_home(&ctx.home);
    let owned = ctx.live_agent_sources();
    let sources: Vec<&dyn Source> = owned
        .iter()
        .filter(|s| s.detected())
        .map(|s| s.as_ref() as &dyn Source)
        .collect();
    let summary = ledger.sync(&sources)?;
    for warning in &summary.warnings {
        warn(warning);
    }
    if summary.per_source.is_empty() {
        println!("no agent logs found; nothing to sync (see `tokenledger sources`)");
    }
    for (kind, added, kept) in &summary.per_source {
        println!("{kind}: {added} new events, {kept} already in the ledger");
    }
    println!("ledger: {}", ledger.path().display());
    Ok(ExitCode::SUCCESS)
}
