//! `tokenledger schedule`: run a tokenledger command daily at a local time,
//! through the user's crontab or a systemd user timer. The definitions are
//! kept in the home's `schedules.toml` (see `tokenledger_core::schedule`),
//! which the collector's scheduler reads too.

mod cron;
mod openclaw;
mod systemd;

use crate::context::{Context, invalid};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use tokenledger_core::schedule::{Backend, Change, Schedule, Schedules};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger schedule install --at 20:00 --tz Europe/Berlin -- report daily --send telegram --rotate\n  \
    tokenledger schedule list\n  \
    tokenledger schedule remove report-daily\n  \
    tokenledger schedule openclaw-job report-daily")]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Install or update a daily run; installing the same schedule again changes nothing
    Install(InstallArgs),
    /// List the schedules and whether their crontab entry or timer is in place
    List,
    /// Remove a schedule: its crontab entry or timer, and its definition
    Remove {
        /// The schedule's name, as `schedule list` shows it
        name: String,
    },
    /// Print a schedule as an OpenClaw cron job (JSON for the gateway's cron.add or jobs.json)
    OpenclawJob(OpenclawJobArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Local time of day to run at
    #[arg(long, value_name = "HH:MM")]
    pub at: String,
    #[command(flatten)]
    pub common: Common,
    /// Where to install [default: systemd when `systemctl --user` works, else cron]
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,
}

#[derive(Debug, Args)]
pub struct OpenclawJobArgs {
    /// A schedule installed before; or describe one with --at and the arguments after `--`
    #[arg(value_name = "SCHEDULE")]
    pub schedule: Option<String>,
    /// Local time of day to run at
    #[arg(long, value_name = "HH:MM", required_unless_present = "schedule")]
    pub at: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct Common {
    /// IANA time zone of --at [default: config report.tz, else the system's zone, else UTC]
    #[arg(long)]
    pub tz: Option<String>,
    /// Name of the schedule [default: the command's leading words, e.g. report-daily]
    #[arg(long)]
    pub name: Option<String>,
    /// The tokenledger arguments to run, after `--`
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Cron,
    Systemd,
    /// Installs nothing: `tokenledger serve` runs it (`[server] run_schedules = true`)
    Server,
}

/// The binaries can be replaced (tests, unusual systems) without touching PATH.
pub const CRONTAB_ENV: &str = "TOKENLEDGER_CRONTAB";
pub const SYSTEMCTL_ENV: &str = "TOKENLEDGER_SYSTEMCTL";

pub fn run(ctx: &Context, args: ScheduleArgs) -> anyhow::Result<ExitCode> {
    let path = Schedules::path_in(&ctx.home);
    let mut all = Schedules::load(&path)?;
    match args.command {
        ScheduleCommand::Install(install) => {
            let schedule = define(ctx, &install.at, install.common)?;
            let backend = match install.backend {
                Some(BackendChoice::Cron) => Backend::Cron,
                Some(BackendChoice::Systemd) => Backend::Systemd,
                Some(BackendChoice::Server) => Backend::Server,
                None if systemd::available() => Backend::Systemd,
                None => Backend::Cron,
            };
            if backend == Backend::Server {
                super::serve_jobs::check_runnable(&schedule.args)?;
            }
            let schedule = Schedule {
                backend: Some(backend),
                ..schedule
            };
            let change = all.upsert(schedule.clone());
            if let Change::Replaced(old) = &change
                && old.backend != schedule.backend
            {
                uninstall(old)?;
            }
            let job = Job::new(ctx, &schedule)?;
            let installed = match backend {
                Backend::Cron => cron::install(&job)?,
                Backend::Systemd => systemd::install(&job)?,
                Backend::Server => {
                    if !ctx.config.server.run_schedules {
                        crate::context::warn(&format!(
                            "the collector runs this only with `run_schedules = true` in [server] in {}",
                            ctx.config_path.display()
                        ));
                    }
                    false
                }
            };
            if change != Change::Unchanged {
                all.save(&path)?;
            }
            if installed || change != Change::Unchanged {
                println!(
                    "Installed schedule {} ({}): daily at {} {}: tokenledger {}",
                    schedule.name,
                    backend.as_str(),
                    schedule.at,
                    schedule.tz,
                    schedule.args.join(" ")
                );
            } else {
                println!(
                    "Schedule {} is already installed ({}); nothing changed.",
                    schedule.name,
                    backend.as_str()
                );
            }
        }
        ScheduleCommand::List => list(&all),
        ScheduleCommand::Remove { name } => {
            let Some(schedule) = all.remove(&name) else {
                return Err(invalid(format!(
                    "no schedule named {name:?} in {}; `tokenledger schedule list` shows them",
                    path.display()
                )));
            };
            uninstall(&schedule)?;
            all.save(&path)?;
            println!("Removed schedule {name}.");
        }
        ScheduleCommand::OpenclawJob(job) => {
            let schedule = match (&job.schedule, &job.at) {
                (Some(name), None) if job.common.args.is_empty() => {
                    all.get(name).cloned().ok_or_else(|| {
                        invalid(format!(
                            "no schedule named {name:?}; install it first or give --at and the arguments after `--`"
                        ))
                    })?
                }
                (name, Some(at)) => {
                    let mut common = job.common;
                    common.name = common.name.or(name.clone());
                    define(ctx, at, common)?
                }
                (_, None) => {
                    return Err(invalid(
                        "--at is needed with arguments after `--`; or name an installed schedule alone",
                    ));
                }
            };
            println!("{}", openclaw::job_json(&schedule)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn define(ctx: &Context, at: &str, common: Common) -> anyhow::Result<Schedule> {
    let tz = common
        .tz
        .or_else(|| ctx.config.report.tz.clone())
        .or_else(|| jiff::tz::TimeZone::system().iana_name().map(str::to_string))
        .unwrap_or_else(|| "UTC".to_string());
    Ok(Schedule::new(common.name.as_deref(), at, &tz, common.args)?)
}

fn uninstall(schedule: &Schedule) -> anyhow::Result<()> {
    match schedule.backend {
        Some(Backend::Cron) => cron::remove(&schedule.name).map(|_| ()),
        Some(Backend::Systemd) => systemd::remove(&schedule.name).map(|_| ()),
        Some(Backend::Server) | None => Ok(()),
    }
}

fn list(all: &Schedules) {
    if all.schedules.is_empty() {
        println!(
            "No schedules. Add one with `tokenledger schedule install --at 20:00 -- report daily`."
        );
        return;
    }
    let rows: Vec<[String; 6]> = all
        .schedules
        .iter()
        .map(|s| {
            let installed = match s.backend {
                Some(Backend::Cron) => cron::is_installed(&s.name),
                Some(Backend::Systemd) => systemd::is_installed(&s.name),
                // Nothing to find installed: the collector reads the definition.
                Some(Backend::Server) => Some(true),
                None => Some(false),
            };
            [
                s.name.clone(),
                s.at.clone(),
                s.tz.clone(),
                s.backend.map_or("-", |b| b.as_str()).to_string(),
                match installed {
                    Some(true) => "yes",
                    Some(false) => "MISSING",
                    None => "unknown",
                }
                .to_string(),
                s.args.join(" "),
            ]
        })
        .collect();
    let header = ["NAME", "AT", "TZ", "BACKEND", "INSTALLED", "COMMAND"].map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

/// What a backend installs: the schedule and the exact command line to run.
pub struct Job<'a> {
    pub schedule: &'a Schedule,
    /// The binary, `--home` and `--config` pinned to absolute paths (a
    /// scheduler's environment has neither our variables nor our cwd),
    /// then the schedule's arguments.
    pub argv: Vec<String>,
    /// `KEY=value` lines loaded into the job's environment when present:
    /// where the delivery tokens go, since neither cron nor systemd sees a
    /// login shell's variables.
    pub env_file: PathBuf,
}

impl<'a> Job<'a> {
    fn new(ctx: &Context, schedule: &'a Schedule) -> anyhow::Result<Job<'a>> {
        let exe = std::env::current_exe().context("finding the tokenledger binary to schedule")?;
        let home = std::path::absolute(&ctx.home).context("resolving the home directory")?;
        let config = std::path::absolute(&ctx.config_path).context("resolving the config path")?;
        let text = |p: &Path, what: &str| -> anyhow::Result<String> {
            p.to_str()
                .filter(|s| !s.contains(['\n', '\r']))
                .map(str::to_string)
                .ok_or_else(|| {
                    invalid(format!(
                        "the {what} path {} is not plain UTF-8 text, which a crontab or unit file cannot hold; use another --{what}",
                        p.display()
                    ))
                })
        };
        let mut argv = vec![
            text(&exe, "binary")?,
            "--home".to_string(),
            text(&home, "home")?,
            "--config".to_string(),
            text(&config, "config")?,
        ];
        argv.extend(schedule.args.iter().cloned());
        let env_file = config
            .parent()
            .unwrap_or(Path::new("/"))
            .join("schedule.env");
        text(&env_file, "config")?;
        Ok(Job {
            schedule,
            argv,
            env_file,
        })
    }
}

/// Runs a scheduler tool, named by `env` or else `default`, feeding `stdin`.
fn tool(env: &str, default: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
    let program: OsString = std::env::var_os(env)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into());
    let shown = format!("{} {}", program.to_string_lossy(), args.join(" "));
    let mut child = Command::new(&program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "running `{shown}`; is {default} installed? (or set {env} to its path, or pick the other --backend)"
            )
        })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes())
            .with_context(|| format!("writing to `{shown}`"))?;
    }
    child
        .wait_with_output()
        .with_context(|| format!("waiting for `{shown}`"))
}

/// A failed tool run as an error that quotes what the tool said.
fn failed(what: &str, output: &Output) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    )
}

/// One word for `sh`, single-quoted.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
