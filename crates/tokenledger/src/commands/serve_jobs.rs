//! `[server] run_schedules = true`: the collector runs the home's
//! `schedules.toml` jobs itself, at their time in their zone, over its own
//! store, with the same code as `tokenledger report daily --send …` and
//! `tokenledger alert check`. A job runs once per due time even with several
//! collectors on one store (`EventStore::claim_run`).

use crate::cli::{Cli, Command, ReportView};
use crate::context::{Context, invalid, warn};
use clap::Parser;
use jiff::Timestamp;
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use tokenledger_core::event_store::EventStore;
use tokenledger_core::schedule::{Backend, Schedule, Schedules};

/// Longest sleep between looks at `schedules.toml`, so a schedule added
/// while the server runs is seen within this.
const POLL: Duration = Duration::from_secs(30);

/// An RFC 3339 instant: runs due after it (not after the start) are run.
/// For tests, which cannot wait for the next minute.
pub const FROM_ENV: &str = "TOKENLEDGER_SCHEDULE_FROM";

/// Runs due jobs until `stop` is signalled (or its sender dropped).
pub fn run(ctx: &Context, store: &dyn EventStore, stop: &Receiver<()>) {
    let path = Schedules::path_in(&ctx.home);
    let mut since = start_instant();
    // Each problem is reported once, not every poll.
    let mut told = HashSet::new();
    let mut tell = |message: String| {
        if told.insert(message.clone()) {
            warn(&message);
        }
    };
    loop {
        let now = Timestamp::now();
        let schedules = match Schedules::load(&path) {
            Ok(all) => all.schedules,
            Err(e) => {
                tell(format!("scheduled jobs not run: {e}"));
                Vec::new()
            }
        };
        let mine: Vec<&Schedule> = schedules
            .iter()
            .filter(|s| match s.backend {
                Some(Backend::Server) | None => true,
                Some(other) => {
                    // Running it here too would send the digest twice.
                    tell(format!(
                        "schedule {}: installed in {} on this machine, so the collector leaves it \
                         to that; `tokenledger schedule install --backend server` moves it here",
                        s.name,
                        other.as_str()
                    ));
                    false
                }
            })
            .collect();
        for schedule in &mine {
            match schedule.next_run(since) {
                Ok(due) if due <= now => run_due(ctx, store, schedule, due),
                Ok(_) => {}
                Err(e) => tell(format!(
                    "schedule {} in {}: {e}",
                    schedule.name,
                    path.display()
                )),
            }
        }
        since = now;
        let wait = mine
            .iter()
            .filter_map(|s| s.next_run(now).ok())
            .filter_map(|due| Duration::try_from(due.duration_since(now)).ok())
            .fold(POLL, Duration::min);
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn start_instant() -> Timestamp {
    let now = Timestamp::now();
    match std::env::var(FROM_ENV) {
        Ok(text) => text.parse().unwrap_or_else(|e| {
            warn(&format!(
                "{FROM_ENV} {text:?} is not an RFC 3339 instant ({e}); using now"
            ));
            now
        }),
        Err(_) => now,
    }
}

fn run_due(ctx: &Context, store: &dyn EventStore, schedule: &Schedule, due: Timestamp) {
    let name = &schedule.name;
    // Checked before claiming, so a job no collector can run claims nothing.
    let job = match Job::parse(&schedule.args) {
        Ok(job) => job,
        Err(e) => {
            warn(&format!("schedule {name}: not run: {e:#}"));
            return;
        }
    };
    match store.claim_run(name, due) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("tokenledger: schedule {name}: the run due {due} is another collector's");
            return;
        }
        Err(e) => {
            warn(&format!(
                "schedule {name}: not run, the run due {due} could not be claimed: {e}"
            ));
            return;
        }
    }
    let command = schedule.args.join(" ");
    eprintln!("tokenledger: schedule {name}: running `tokenledger {command}` (due {due})");
    match job.run(ctx, store) {
        Ok(code) if code == ExitCode::SUCCESS => {
            eprintln!("tokenledger: schedule {name}: done");
        }
        Ok(_) => warn(&format!(
            "schedule {name}: finished, but a channel failed (see above); not retried"
        )),
        Err(e) => warn(&format!("schedule {name}: {e:#}")),
    }
}

/// Fails, saying what the collector can run, when it cannot run `args`.
pub(crate) fn check_runnable(args: &[String]) -> anyhow::Result<()> {
    Job::parse(args).map(|_| ())
}

/// What the collector can run: the two commands that only read the store
/// and deliver.
enum Job {
    Daily(Box<crate::cli::ReportArgs>),
    Alert(super::alert::AlertArgs),
}

impl Job {
    /// The schedule's arguments as the CLI reads them.
    fn parse(args: &[String]) -> anyhow::Result<Job> {
        let argv = std::iter::once("tokenledger".to_string()).chain(args.iter().cloned());
        let cli = Cli::try_parse_from(argv).map_err(|e| {
            invalid(format!(
                "its command does not parse: {}",
                e.render().to_string().trim()
            ))
        })?;
        match cli.command {
            Command::Report(report) if report.view == Some(ReportView::Daily) => {
                Ok(Job::Daily(Box::new(report)))
            }
            Command::Alert(alert) => Ok(Job::Alert(alert)),
            _ => Err(invalid(
                "only `report daily …` and `alert check …` run inside the collector; install \
                 others with `tokenledger schedule install --backend cron`",
            )),
        }
    }

    fn run(self, ctx: &Context, store: &dyn EventStore) -> anyhow::Result<ExitCode> {
        match self {
            Job::Daily(report) => super::report::run_on(ctx, *report, Some(store)),
            Job::Alert(alert) => super::alert::run_on(ctx, alert, Some(store)),
        }
    }
}
