//! `report --check`: register totals against the agents' logs.

use crate::cli::{Format, ReportArgs};
use crate::context::{Context, warn};
use std::process::ExitCode;
use tokenledger_core::event::SourceKind;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::reconcile::reconcile;
use tokenledger_core::source::Source;

/// Exit 0 when every session agrees within 1%, 1 when some do not.
pub fn run(ctx: &Context, args: &ReportArgs, window: &TimeWindow) -> anyhow::Result<ExitCode> {
    let owned = ctx.report_sources(&args.source)?;
    let register = ctx.register();
    let logs: Vec<&dyn Source> = owned
        .iter()
        .filter(|s| s.kind() != SourceKind::Register)
        .map(|s| s.as_ref() as &dyn Source)
        .collect();
    let outcome = reconcile(&register, &logs, window, 0.01)?;
    for warning in &outcome.warnings {
        warn(warning);
    }
    if args.format == Format::Json {
        let rows: Vec<_> = outcome
            .discrepancies
            .iter()
            .map(|d| {
                serde_json::json!({
                    "session": &*d.session,
                    "log_source": d.log_kind.as_str(),
                    "register_total_tokens": d.register.total(),
                    "log_total_tokens": d.log.total(),
                    "register_input_tokens": d.register.input,
                    "log_input_tokens": d.log.input,
                    "register_output_tokens": d.register.output,
                    "log_output_tokens": d.log.output,
                    "difference_percent": finite(d.difference_percent),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema_version": 1,
            "sessions_compared": outcome.compared,
            "tolerance_percent": 1.0,
            "discrepancies": rows,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if outcome.discrepancies.is_empty() {
        println!(
            "{} session(s) are in both the register and an agent log; all agree within 1%.",
            outcome.compared
        );
    } else {
        println!(
            "{:<40} {:<12} {:>14} {:>14} {:>9}",
            "session", "log", "register", "log total", "diff"
        );
        for d in &outcome.discrepancies {
            println!(
                "{:<40} {:<12} {:>14} {:>14} {:>8.1}%",
                d.session,
                d.log_kind.as_str(),
                d.register.total(),
                d.log.total(),
                d.difference_percent
            );
        }
        println!(
            "{} of {} sessions differ by more than 1% (totals include cache tokens).",
            outcome.discrepancies.len(),
            outcome.compared
        );
    }
    Ok(if outcome.discrepancies.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn finite(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!((v * 100.0).round() / 100.0)
    } else {
        serde_json::Value::Null
    }
}
