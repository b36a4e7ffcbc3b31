//! `tokenledger sources`: what every source found, so a user can see why a
//! number is what it is.

use crate::cli::{Format, SourcesArgs};
use crate::context::Context;
use jiff::Timestamp;
use rustc_hash::FxHashSet;
use std::process::ExitCode;
use tokenledger_core::query::TimeWindow;

pub fn run(ctx: &Context, args: SourcesArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for source in ctx.sources(&[])?.iter().chain(undetected(ctx)?.iter()) {
        let mut sessions = FxHashSet::default();
        let mut span: Option<(Timestamp, Timestamp)> = None;
        let scan = source.scan(&TimeWindow::ALL, &mut |event| {
            sessions.insert(xxhash_rust::xxh3::xxh3_64(event.session.as_bytes()));
            span = Some(match span {
                None => (event.timestamp, event.timestamp),
                Some((a, b)) => (a.min(event.timestamp), b.max(event.timestamp)),
            });
        })?;
        reports.push((source.kind(), source.detected(), scan, sessions.len(), span));
    }
    if args.format == Format::Json {
        let rows: Vec<_> = reports
            .iter()
            .map(|(kind, detected, scan, sessions, span)| {
                serde_json::json!({
                    "source": kind.as_str(),
                    "detected": detected,
                    "searched": scan.searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                    "files": scan.files.len(),
                    "events": scan.events,
                    "sessions": sessions,
                    "duplicates": scan.duplicates,
                    "first": span.map(|s| s.0.to_string()),
                    "last": span.map(|s| s.1.to_string()),
                    "unreadable": scan.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema_version": 1, "sources": rows})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (kind, detected, scan, sessions, span) in &reports {
        println!(
            "{}{}",
            kind.as_str(),
            if *detected { "" } else { " (not found)" }
        );
        for root in &scan.searched {
            let mark = if root.exists() { "found" } else { "missing" };
            println!("  searched {} ({mark})", root.display());
        }
        println!(
            "  {} files, {} sessions, {} events, {} duplicates dropped",
            scan.files.len(),
            sessions,
            scan.events,
            scan.duplicates
        );
        if let Some((first, last)) = span {
            println!(
                "  from {} to {}",
                first.strftime("%Y-%m-%d %H:%M UTC"),
                last.strftime("%Y-%m-%d %H:%M UTC")
            );
        }
        if !scan.warnings.is_empty() {
            println!(
                "  {} lines or files could not be read:",
                scan.warnings.len()
            );
            for warning in scan.warnings.iter().take(20) {
                println!("    {warning}");
            }
            if scan.warnings.len() > 20 {
                println!(
                    "    … and {} more (see --format json)",
                    scan.warnings.len() - 20
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sources with nothing on this machine are listed too, with where they were looked for.
fn undetected(
    ctx: &Context,
) -> anyhow::Result<Vec<Box<dyn tokenledger_core::source::Source + Send + Sync>>> {
    let detected: Vec<_> = ctx.sources(&[])?.iter().map(|s| s.kind()).collect();
    let names: Vec<String> = tokenledger_sources::AGENT_KINDS
        .iter()
        .filter(|k| !detected.contains(k))
        .map(|k| k.as_str().to_string())
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    ctx.sources(&names)
}
