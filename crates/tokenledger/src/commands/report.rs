use crate::cli::{Format, ReportArgs, ReportView};
use crate::context::{Context, invalid, warn};
use anyhow::Context as _;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::process::ExitCode;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{self, ReportData, ReportSpec};
use tokenledger_core::session::SessionState;
use tokenledger_core::source::Source;
use tokenledger_core::time::{Period, parse_bound};
use tokenledger_render::daily::{self, DailyReport};
use tokenledger_render::text::TextStyle;

pub fn run(ctx: &Context, args: ReportArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.remote {
        return remote(url, &args);
    }
    let now = Timestamp::now();
    let daily = args.view == Some(ReportView::Daily);
    let (tz, tz_name) = display_zone(ctx, args.tz.as_deref())?;
    let window = window(&args, daily, &tz, now)?;
    if args.check {
        return super::check::run(ctx, &args, &window);
    }
    let targets = super::send::Target::parse_list(&args.send, "--send")?;
    if !targets.is_empty() && !daily {
        return Err(invalid(
            "--send delivers the daily digest: use `tokenledger report daily --send ...`",
        ));
    }
    let mut groupings = if daily {
        daily_groupings()
    } else {
        let keys = match &args.by {
            Some(text) => GroupKey::parse_list(text).map_err(invalid)?,
            None => Vec::new(),
        };
        vec![keys]
    };
    // The charts' groupings ride along in the same pass over the data.
    for extra in super::output::chart_groupings(args.format, daily) {
        if !groupings.contains(&extra) {
            groupings.push(extra);
        }
    }
    let filters = Filters {
        agents: args.agent.clone(),
        models: args.model.clone(),
        tasks: args.task.clone(),
        sessions: args.session.clone(),
    };
    let spec = ReportSpec {
        window,
        filters: filters.clone(),
        tz: tz.clone(),
        tz_name: tz_name.clone(),
        groupings,
        prefer: ctx.config.merge.prefer,
    };
    let owned = ctx.sources(&args.source)?;
    let sources: Vec<&dyn Source> = owned.iter().map(|s| s.as_ref() as &dyn Source).collect();
    let prices = ctx.prices()?;
    let mut data = report::run(&sources, &prices, spec, now)?;
    // The digest lists running sessions, which only the sources' own
    // session records (not their events) can show.
    let states = if daily {
        report::session_states(&sources, &filters, &mut data.warnings)
    } else {
        Vec::new()
    };
    for warning in &data.warnings {
        warn(warning);
    }
    let budgets = if daily {
        super::alert::statuses(ctx, &sources, &prices, &tz, now)?
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
        (Format::Html, _) => tokenledger_render::html::render(&data).into_bytes(),
        (Format::Png, _) => tokenledger_render::png::main_chart_png(&data)?,
        (_, Some(digest)) => digest.into_bytes(),
        (Format::Text, None) => tokenledger_render::text::render(&data, &style).into_bytes(),
        (Format::Json, None) => tokenledger_render::json::render(&data).into_bytes(),
        (Format::Csv, None) => tokenledger_render::csv::render(&data).into_bytes(),
        (Format::Markdown, None) => tokenledger_render::markdown::render(&data).into_bytes(),
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

/// The collector's answer to the same question, in the same JSON contract.
fn remote(url: &str, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    if args.format != Format::Json {
        return Err(invalid(
            "report --remote prints the collector's JSON: add --format json",
        ));
    }
    let query = tokenledger_core::report_query::ReportQuery {
        period: args.period.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        tz: args.tz.clone(),
        agent: args.agent.clone(),
        model: args.model.clone(),
        task: args.task.clone(),
        session: args.session.clone(),
        by: args.by.clone(),
    };
    let body = super::remote::Remote::new(url)?.report(&query.to_pairs())?;
    super::output::emit(args.output.as_deref(), args.format, body.as_bytes())?;
    Ok(ExitCode::SUCCESS)
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

/// The groupings the daily digest needs, all computed in one pass.
fn daily_groupings() -> Vec<Vec<GroupKey>> {
    use GroupKey::*;
    vec![
        vec![],
        vec![Model],
        vec![Agent],
        vec![Hour],
        vec![Hour, Model],
        vec![Hour, Agent],
        vec![Session, Agent, Model, GroupKey::Source],
    ]
}

pub(super) fn display_zone(
    ctx: &Context,
    flag: Option<&str>,
) -> anyhow::Result<(TimeZone, String)> {
    let name = flag
        .map(str::to_string)
        .or_else(|| ctx.config.report.tz.clone())
        .unwrap_or_else(|| "UTC".to_string());
    let tz = TimeZone::get(&name).map_err(|e| {
        invalid(format!(
            "--tz {name:?} is not a known IANA time zone ({e}); try Europe/Berlin or UTC"
        ))
    })?;
    Ok((tz, name))
}

fn window(
    args: &ReportArgs,
    daily: bool,
    tz: &TimeZone,
    now: Timestamp,
) -> anyhow::Result<TimeWindow> {
    let bound = |text: &Option<String>, flag: &str| -> anyhow::Result<Option<Timestamp>> {
        text.as_deref()
            .map(|t| parse_bound(t, tz).map_err(|e| invalid(format!("--{flag}: {e}"))))
            .transpose()
    };
    let since = bound(&args.since, "since")?;
    let until = bound(&args.until, "until")?;
    let period = match &args.period {
        Some(text) => Period::parse(text).map_err(|e| invalid(format!("--period: {e}")))?,
        None if daily => Period::Hours(24),
        None => Period::All,
    };
    let window = match since {
        Some(since) => TimeWindow {
            since: Some(since),
            until,
        },
        None => {
            let end = until.unwrap_or(now);
            let since = period.since(end);
            // A lookback window ends now; an explicit --until ends where it says.
            let until = until.or(if period == Period::All {
                None
            } else {
                Some(now_inclusive(now))
            });
            TimeWindow { since, until }
        }
    };
    if let (Some(s), Some(u)) = (window.since, window.until)
        && s >= u
    {
        return Err(invalid(format!("--since {s} is not before --until {u}")));
    }
    Ok(window)
}

/// `until` is exclusive; an entry logged this very second still belongs to "now".
fn now_inclusive(now: Timestamp) -> Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(1))
        .unwrap_or(now)
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
