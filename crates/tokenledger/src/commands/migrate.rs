//! `tokenledger migrate --to postgres://…`: copies what the home's reports
//! read (the register with its rotated archives, the ledger's agent-log
//! events, and agent-log events not synced yet, with CLEO's task links
//! applied) into a PostgreSQL store, in batches. Inserts are idempotent by
//! event identity, so a second run copies nothing new, and a run stopped
//! half-way is finished by running it again.

use crate::context::{Context, warn};
use anyhow::Context as _;
use clap::Args;
use std::process::ExitCode;
use tokenledger_core::event::UsageEvent;
use tokenledger_core::event_store::{EventStore, Inserted};
use tokenledger_core::query::TimeWindow;
use tokenledger_store_pg::PgStore;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger migrate --to postgres://tokenledger@db.internal/tokenledger\n  \
    PGPASSWORD=… tokenledger migrate --to 'host=/run/postgresql dbname=tokenledger'")]
pub struct MigrateArgs {
    /// The PostgreSQL store to copy into (URL or key=value string); its schema is created or upgraded
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Events per insert (one transaction each)
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub batch_size: usize,
}

pub fn run(ctx: &Context, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let store = PgStore::connect(&args.to).context("opening the PostgreSQL store")?;
    let batch_size = args.batch_size.max(1);
    let mut total = Inserted::default();
    for source in ctx.sources(&[])? {
        let kind = source.kind();
        let mut batch: Vec<UsageEvent> = Vec::with_capacity(batch_size);
        let mut copied = Inserted::default();
        let mut failed: Option<tokenledger_core::Error> = None;
        let flush = |batch: &mut Vec<UsageEvent>, copied: &mut Inserted| {
            let done = store.insert(batch)?;
            copied.accepted += done.accepted;
            copied.duplicates += done.duplicates;
            batch.clear();
            Ok::<_, tokenledger_core::Error>(())
        };
        let scan = source.scan(&TimeWindow::ALL, &mut |event| {
            if failed.is_some() {
                return;
            }
            batch.push(event.clone());
            if batch.len() >= batch_size
                && let Err(e) = flush(&mut batch, &mut copied)
            {
                failed = Some(e);
            }
        });
        let scan = scan.with_context(|| format!("reading {kind}"))?;
        if let Some(e) = failed {
            return Err(e).with_context(|| format!("copying {kind} events"));
        }
        if !batch.is_empty() {
            flush(&mut batch, &mut copied).with_context(|| format!("copying {kind} events"))?;
        }
        for warning in &scan.warnings {
            warn(warning);
        }
        println!(
            "{kind}: {} accepted, {} duplicates",
            copied.accepted, copied.duplicates
        );
        total.accepted += copied.accepted;
        total.duplicates += copied.duplicates;
    }
    println!(
        "migrated to {}: {} accepted, {} duplicates",
        store.describe(),
        total.accepted,
        total.duplicates
    );
    Ok(ExitCode::SUCCESS)
}
