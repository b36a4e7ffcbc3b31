use super::data::Data;
use super::output::report_format;
use crate::cli::{Format, ReportArgs, ReportView};
use crate::context::{Context, invalid, warn};
use anyhow::Context as _;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::process::ExitCode;
use tokenledger_core::event_store::EventStore;
use tokenledger_core::report::ReportData;
use tokenledger_core::report_query::ReportQuery;
use tokenledger_core::session::SessionState;
use tokenledger_core::source::Source;
use tokenledger_render::daily::{self, DailyReport};
use tokenledger_render::text::TextStyle;

pub fn run(ctx: &Context, args: ReportArgs) -> anyhow::Result<ExitCode> {
    run_on(ctx, args, None)
}

/// The report over this machine's sources, or over `store` (the collector's
/// scheduled `report daily`).
pub fn run_on(
    ctx: &Context,
    args: ReportArgs,
    store: Option<&dyn EventStore>,
) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.remote {
        return remote(url, &args);
    }
    let now = Timestamp::now();
    let daily = args.view == Some(ReportView::Daily);
    let query = query(&args);
    // Zone, window and groupings follow the collector's rules (`ReportQuery`),
    // so `report` and `report --remote` answer alike.
    let mut spec = query
        .spec_for(
            ctx.config.report.tz.as_deref(),
            ctx.config.merge.prefer,
            now,
            daily,
            "--",
        )
        .map_err(invalid)?;
    if args.check {
        if store.is_some() {
            return Err(invalid(
                "report --check reads this machine's logs: run it outside the collector",
            ));
        }
        return super::check::run(ctx, &args, &spec.window);
    }
    let targets = super::send::Target::parse_list(&args.send, "--send")?;
    if !targets.is_empty() && !daily {
        return Err(invalid(
            "--send delivers the daily digest: use `tokenledger report daily --send ...`",
        ));
    }
    // The charts' groupings ride along in the same pass over the data.
    for extra in report_format(args.format).chart_groupings(daily) {
        if !spec.groupings.contains(&extra) {
            spec.groupings.push(extra);
        }
    }
    let filters = spec.filters.clone();
    let (tz, tz_name) = (spec.tz.clone(), spec.tz_name.clone());
    let owned = match store {
        Some(_) => Vec::new(),
        None => ctx.report_sources(&args.source)?,
    };
    let sources: Vec<&dyn Source> = owned.iter().map(|s| s.as_ref() as &dyn Source).collect();
    let events = match store {
        Some(store) => Data::Store(store),
        None => Data::Sources(&sources),
    };
    let prices = ctx.prices()?;
    let mut data = events.report(&prices, spec, now)?;
    let states = if daily {
        events.session_states(&filters, &mut data.warnings)
    } else {
        Vec::new()
    };
    for warning in &data.warnings {
        warn(warning);
    }
    let budgets = if daily {
        super::alert::statuses(ctx, &events, &prices, &tz, now)?
    } else {
        Vec::new()
    };
    let style = TextStyle {
        color: ctx.color,
        width: None,
    };
    // The digest also writes its dataset, whatever the output format.
    let mut daily_report = None;
    let digest = if daily {
        let (text, report) =
            render_daily(ctx, &args, &data, &states, budgets, (&tz, &tz_name), &style)?;
        daily_report = Some(report);
        Some(text)
    } else {
        None
    };
    let output: Vec<u8> = match (args.format, digest) {
        // Pictures draw the same data whichever the view.
        (Format::Html | Format::Png, _) | (_, None) => {
            report_format(args.format).render(&data, &style)?
        }
        (_, Some(digest)) => digest.into_bytes(),
    };
    super::output::emit(args.output.as_deref(), args.format, &output)?;
    // The report is out locally first; a failed delivery then loses nothing but the message.
    let delivered = match &daily_report {
        Some(report) if !targets.is_empty() => {
            super::send::daily(ctx, &targets, report, &data, args.dry_run)?
        }
        _ => true,
    };
    if args.rotate {
        super::rotate::rotate(ctx, args.keep_months)?;
    }
    // Freeing every held event one by one took a tenth of a report after a
    // sync; the process ends here, and the OS takes the memory back at once.
    drop(sources);
    std::mem::forget(owned);
    Ok(if delivered {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The collector's answer to the same question, rendered there by the same
/// renderers (`format=`). (clap refuses `report daily --remote`: the digest
/// is the collector's own scheduled job.)
fn remote(url: &str, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let format = report_format(args.format);
    let mut pairs = query(args).to_pairs();
    pairs.push(("format", format.name().to_string()));
    let body = super::remote::Remote::new(url)?.report(&pairs)?;
    super::output::emit(args.output.as_deref(), args.format, &body)?;
    Ok(ExitCode::SUCCESS)
}

/// The flags as a report request, the form both the store and the collector read.
fn query(args: &ReportArgs) -> ReportQuery {
    ReportQuery {
        period: args.period.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        tz: args.tz.clone(),
        agent: args.agent.clone(),
        model: args.model.clone(),
        task: args.task.clone(),
        session: args.session.clone(),
        by: args.by.clone(),
    }
}

fn render_daily(
    ctx: &Context,
    args: &ReportArgs,
    data: &ReportData,
    states: &[SessionState],
    budgets: Vec<tokenledger_core::budget::BudgetStatus>,
    (tz, tz_name): (&TimeZone, &str),
    style: &TextStyle,
) -> anyhow::Result<(String, DailyReport)> {
    let local_now = data.generated_at.to_zoned_datetime(tz.clone());
    let date = local_now.strftime("%Y-%m-%d").to_string();
    let dataset_path = args
        .dataset_output
        .clone()
        .or_else(|| ctx.config.report.dataset_output.clone());
    let shown_path = dataset_path.as_ref().map(|p| p.display().to_string());
    let report = DailyReport::from_data(
        data,
        &date,
        shown_path.as_deref(),
        &local_now.strftime("%H:%M").to_string(),
        tz_name,
    )
    .with_session_states(data, states)
    .with_budgets(budgets);
    if let Some(path) = &dataset_path {
        write_atomically(path, daily::render_dataset(&report).as_bytes())?;
    }
    let output = match args.format {
        Format::Json => daily::render_json(data, &report),
        // Pictures are drawn by the caller; the digest text is unused then.
        Format::Text | Format::Html | Format::Png => daily::render_text(&report, style),
        Format::Csv => tokenledger_render::csv::render(data),
        Format::Markdown => tokenledger_render::markdown::render(data),
    };
    Ok((output, report))
}

/// The display zone: `--tz`, else `[report] tz`, else UTC.
pub(super) fn display_zone(
    ctx: &Context,
    flag: Option<&str>,
) -> anyhow::Result<(TimeZone, String)> {
    let query = ReportQuery {
        tz: flag.map(str::to_string),
        ..ReportQuery::default()
    };
    query
        .zone(ctx.config.report.tz.as_deref(), "--")
        .map_err(invalid)
}

/// Temp file plus rename, so a reader never sees half a dataset.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
