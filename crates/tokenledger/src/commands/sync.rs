use crate::cli::SyncArgs;
use crate::context::{Context, warn};
use std::process::ExitCode;
use tokenledger_core::ledger::Ledger;
use tokenledger_core::source::Source;

/// Safe to run from cron at any interval: a second run adds nothing, and a
/// run killed at any instant loses nothing and doubles nothing.
pub fn run(ctx: &Context, args: SyncArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.remote {
        return sync_remote(ctx, url);
    }
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
    for s in &summary.per_source {
        println!(
            "{}: {} new events, {} already in the ledger (read {} of {} files, {} bytes)",
            s.kind, s.added, s.held, s.files_read, s.files, s.bytes_read
        );
    }
    println!("ledger: {}", ledger.path().display());
    Ok(ExitCode::SUCCESS)
}

/// Every event of the agents' logs to a collector, which keeps each once
/// (by dedupe key): sending history again costs bandwidth, never a double count.
fn sync_remote(ctx: &Context, url: &str) -> anyhow::Result<ExitCode> {
    let mut events = Vec::new();
    for source in ctx.live_agent_sources().iter().filter(|s| s.detected()) {
        let scan = source.scan(&tokenledger_core::query::TimeWindow::ALL, &mut |event| {
            events.push(serde_json::to_value(event).expect("events always serialize"));
        })?;
        for warning in &scan.warnings {
            warn(warning);
        }
    }
    let delivered = super::remote::Remote::new(url)?.deliver(ctx, &events)?;
    for reason in delivered.rejected.iter().take(5) {
        warn(&format_args!("rejected by the collector: {reason}"));
    }
    match &delivered.spooled {
        Some(path) => println!(
            "collector unreachable: {} events spooled under {} (sent on the next --remote call)",
            events.len(),
            path.parent().unwrap_or(path).display()
        ),
        None => println!(
            "{url}: {} new events, {} already stored, {} rejected",
            delivered.accepted,
            delivered.duplicates,
            delivered.rejected.len()
        ),
    }
    Ok(ExitCode::SUCCESS)
}
