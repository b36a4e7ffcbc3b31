//! `tokenledger alert check`: measure every `[[budget]]` for its current
//! period and send one alert per budget, threshold, period and channel.
//! Meant for cron every few minutes: a second run in the same period sends
//! nothing, and concurrent runs serialize on a lock so they cannot both send.

mod state;

use super::data::Data;
use super::send::{self, Message, Target};
use crate::context::{Context, invalid};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use state::{AlertState, Sent};
use std::process::ExitCode;
use tokenledger_core::budget::{self, BudgetStatus};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::lock::HomeLock;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::source::Source;
use tokenledger_render::text::TextStyle;

#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub command: AlertCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Measure each budget and send the alerts due (default thresholds 80% and 100%)
    #[command(after_help = "Examples:\n  \
        tokenledger alert check\n  \
        tokenledger alert check --dry-run\n  \
        */5 * * * * tokenledger alert check   (crontab)")]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the alerts that are due and their exact payloads; send and remember nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Channels, as for `report daily --send` [default: config alert.send]
    #[arg(long, value_delimiter = ',', value_name = "CHANNELS")]
    pub send: Vec<String>,
}

pub fn run(ctx: &Context, args: AlertArgs) -> anyhow::Result<ExitCode> {
    run_on(ctx, args, None)
}

/// Over this machine's sources, or over `store` (the collector's scheduled
/// `alert check`).
pub fn run_on(
    ctx: &Context,
    args: AlertArgs,
    store: Option<&dyn EventStore>,
) -> anyhow::Result<ExitCode> {
    let AlertCommand::Check(args) = args.command;
    check(ctx, &args, store)
}

/// Every budget measured at `now` on the display calendar (`report.tz`).
/// An invalid `[[budget]]` is a config error (exit 2) naming the budget.
pub fn statuses(
    ctx: &Context,
    events: &Data<'_>,
    prices: &PriceTable,
    tz: &TimeZone,
    now: Timestamp,
) -> anyhow::Result<Vec<BudgetStatus>> {
    let budgets = &ctx.config.budgets;
    budget::validate(budgets)
        .map_err(|e| invalid(format!("{}: {e}", ctx.config_path.display())))?;
    Ok(events.budgets(prices, budgets, tz, ctx.config.merge.prefer, now)?)
}

fn check(
    ctx: &Context,
    args: &CheckArgs,
    store: Option<&dyn EventStore>,
) -> anyhow::Result<ExitCode> {
    let (origin, list) = if args.send.is_empty() {
        ("[alert] send", &ctx.config.alert.send)
    } else {
        ("--send", &args.send)
    };
    let targets = Target::parse_list(list, origin)?;
    if ctx.config.budgets.is_empty() {
        println!(
            "No budgets configured: add [[budget]] tables to {} (see `tokenledger init`).",
            ctx.config_path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (tz, tz_name) = super::report::display_zone(ctx, None)?;
    // Held from reading the state to writing it: a concurrent run waits, then
    // sees what this one sent.
    let _lock = if args.dry_run {
        None
    } else {
        std::fs::create_dir_all(&ctx.home)
            .with_context(|| format!("creating {}", ctx.home.display()))?;
        Some(HomeLock::exclusive(&ctx.home.join(state::LOCK))?)
    };
    let state_path = ctx.home.join(state::FILE);
    let mut state = AlertState::load(&state_path);
    let now = Timestamp::now();
    let owned = match store {
        Some(_) => Vec::new(),
        None => ctx.report_sources(&[])?,
    };
    let sources: Vec<&dyn Source> = owned.iter().map(|s| s.as_ref() as &dyn Source).collect();
    let events = match store {
        Some(store) => Data::Store(store),
        None => Data::Sources(&sources),
    };
    let statuses = statuses(ctx, &events, &ctx.prices()?, &tz, now)?;
    let style = TextStyle {
        color: ctx.color,
        width: None,
    };
    println!("{}", tokenledger_render::budget::lines(&statuses, &style));
    if targets.is_empty() {
        crate::context::warn(&format!(
            "no channels in [alert] send in {}; nothing sent",
            ctx.config_path.display()
        ));
    }
    let chat_style = TextStyle {
        color: true,
        width: None,
    };
    let mut failed = false;
    for status in &statuses {
        let (name, period) = (&status.config.name, &status.bounds.key);
        let crossed = status.crossed();
        let Some(&highest) = crossed.last() else {
            continue;
        };
        // A channel is due when any threshold reached is new to it: the
        // alert names the highest, and covers the lower ones too.
        let due: Vec<Target> = targets
            .iter()
            .filter(|t| {
                let channel = channel_key(t);
                crossed
                    .iter()
                    .any(|&th| !state.was_sent(name, period, th, &channel))
            })
            .cloned()
            .collect();
        let level = tokenledger_render::budget::threshold_label(highest);
        if due.is_empty() {
            if !targets.is_empty() {
                println!("{name}: {level} alert already sent for {period}");
            }
            continue;
        }
        let message = Message {
            ansi: tokenledger_render::budget::alert_text(status, highest, &tz_name, &chat_style),
            png: None,
        };
        let plans = send::plan_all(ctx, &due, &message, args.dry_run)?;
        let channels: Vec<String> = due.iter().map(channel_key).collect();
        if args.dry_run {
            println!(
                "{name}: {level} alert would be sent to {}",
                channels.join(", ")
            );
            send::deliver(&plans, true);
            continue;
        }
        for delivery in send::deliver(&plans, false) {
            match delivery.result {
                Ok(_) => {
                    println!("{name}: {level} alert sent to {}", delivery.channel);
                    for &threshold in &crossed {
                        state.sent.push(Sent {
                            budget: name.clone(),
                            period: period.clone(),
                            threshold,
                            channel: delivery.channel.clone(),
                            at: now.to_string(),
                        });
                    }
                }
                Err(_) => failed = true,
            }
        }
    }
    if !args.dry_run {
        let current: Vec<(String, String)> = statuses
            .iter()
            .map(|s| (s.config.name.clone(), s.bounds.key.clone()))
            .collect();
        state.prune(&current);
        state.save(&state_path)?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The channel's name in the state file and in messages, as the plan names it.
fn channel_key(target: &Target) -> String {
    match target {
        Target::Telegram => "telegram".into(),
        Target::Discord => "discord".into(),
        Target::Slack => "slack".into(),
        Target::OpenClaw { channel, target } => format!("openclaw:{channel}:{target}"),
    }
}
