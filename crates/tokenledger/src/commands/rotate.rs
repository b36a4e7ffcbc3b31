use crate::cli::RotateArgs;
use crate::context::Context;
use std::process::ExitCode;
use tokenledger_core::store::Store;

pub fn run(ctx: &Context, args: RotateArgs) -> anyhow::Result<ExitCode> {
    rotate(ctx, args.keep_months)?;
    Ok(ExitCode::SUCCESS)
}

/// Shared with `report --rotate`. The summary goes to stderr so it never mixes into report data.
pub fn rotate(ctx: &Context, keep_months: Option<u32>) -> anyhow::Result<()> {
    let keep = keep_months.unwrap_or(ctx.config.rotate.keep_months);
    let store = ctx.store();
    let summary = store.rotate(keep, jiff::Timestamp::now())?;
    if summary.moved == 0 {
        eprintln!("rotate: nothing older than the last {keep} month(s); register unchanged");
    } else {
        for (path, lines) in &summary.archives {
            eprintln!("rotate: {lines} entries -> {}", path.display());
        }
        eprintln!(
            "rotate: moved {}, kept {} in {}",
            summary.moved,
            summary.kept,
            store.describe()
        );
    }
    Ok(())
}
