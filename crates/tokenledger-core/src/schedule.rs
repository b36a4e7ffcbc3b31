//! Schedule definitions: which tokenledger command runs daily at what local
//! time. They live in the home's `schedules.toml`, so the CLI's cron and
//! systemd installer and the collector's built-in scheduler share one list.

use crate::error::{Error, Result};
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "schedules.toml";

/// Where a schedule is installed on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cron,
    Systemd,
    /// Run by the collector (`tokenledger serve` with `[server]
    /// run_schedules = true`) over its store; nothing installed here.
    Server,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Cron => "cron",
            Backend::Systemd => "systemd",
            Backend::Server => "server",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Letters, digits, `-` and `_`: it names files and crontab markers.
    pub name: String,
    /// Local wall-clock time, `HH:MM`.
    pub at: String,
    /// IANA time zone of `at`.
    pub tz: String,
    /// tokenledger's arguments, without the program name.
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
}

impl Schedule {
    /// A checked schedule; `name` defaults to the command's leading words
    /// (`report daily --send telegram` → `report-daily`).
    pub fn new(name: Option<&str>, at: &str, tz: &str, args: Vec<String>) -> Result<Schedule> {
        let at = parse_at(at)?.strftime("%H:%M").to_string();
        TimeZone::get(tz).map_err(|e| {
            Error::invalid(
                "--tz",
                format!("{tz:?} is not a known IANA time zone ({e}); try Europe/Berlin or UTC"),
            )
        })?;
        if args.is_empty() {
            return Err(Error::invalid(
                "schedule command",
                "nothing to run; give the tokenledger arguments after `--`, e.g. `-- report daily`",
            ));
        }
        if let Some(bad) = args.iter().find(|a| a.contains(['\n', '\r', '\0'])) {
            return Err(Error::invalid(
                "schedule command",
                format!(
                    "{bad:?} contains a line break or NUL, which crontab and systemd cannot hold"
                ),
            ));
        }
        let name = match name {
            Some(name) => name.to_string(),
            None => default_name(&args),
        };
        validate_name(&name)?;
        Ok(Schedule {
            name,
            at,
            tz: tz.to_string(),
            args,
            backend: None,
        })
    }

    /// The local time of day to run at.
    pub fn time(&self) -> Result<Time> {
        parse_at(&self.at)
    }

    /// Five-field cron expression in the schedule's own zone (`0 20 * * *`).
    pub fn cron_expr(&self) -> Result<String> {
        let t = self.time()?;
        Ok(format!("{} {} * * *", t.minute(), t.hour()))
    }

    /// systemd's `OnCalendar=` value (`*-*-* 20:00:00 Europe/Berlin`).
    pub fn on_calendar(&self) -> Result<String> {
        Ok(format!("*-*-* {}:00 {}", self.at, self.tz))
    }

    /// The first run strictly after `now`. A time skipped by a DST change
    /// runs at the shifted instant, a repeated one at the first.
    pub fn next_run(&self, now: Timestamp) -> Result<Timestamp> {
        let tz = TimeZone::get(&self.tz).map_err(|e| Error::invalid("tz", e.to_string()))?;
        let time = self.time()?;
        let today = now.to_zoned_datetime(tz.clone()).date();
        for days in 0..3 {
            let date = today
                .checked_add(jiff::Span::new().days(days))
                .map_err(|e| Error::invalid("at", e.to_string()))?;
            let at = date
                .to_datetime(time)
                .to_zoned_datetime(tz.clone())
                .map_err(|e| Error::invalid("at", e.to_string()))?
                .timestamp();
            if at > now {
                return Ok(at);
            }
        }
        Err(Error::invalid("at", "no next run within two days"))
    }
}

fn parse_at(at: &str) -> Result<Time> {
    let bad = || {
        Error::invalid(
            "--at",
            format!("{at:?} is not a time of day; use HH:MM, e.g. 20:00"),
        )
    };
    let (h, m) = at.trim().split_once(':').ok_or_else(bad)?;
    let hour: i8 = h.parse().map_err(|_| bad())?;
    let minute: i8 = m.parse().map_err(|_| bad())?;
    if m.len() != 2 || h.is_empty() || h.len() > 2 {
        return Err(bad());
    }
    Time::new(hour, minute, 0, 0).map_err(|_| bad())
}

pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "--name",
            format!(
                "{name:?} must be 1-64 letters, digits, '-' or '_' (it names files and crontab entries)"
            ),
        ))
    }
}

fn default_name(args: &[String]) -> String {
    let words: Vec<String> = args
        .iter()
        .take_while(|a| !a.starts_with('-'))
        .map(|a| {
            a.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let name = words.join("-");
    let name: String = name.trim_start_matches('-').chars().take(64).collect();
    if name.is_empty() {
        "tokenledger".to_string()
    } else {
        name
    }
}

/// What [`Schedules::upsert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Added,
    /// The old definition, for undoing its installation.
    Replaced(Box<Schedule>),
}

/// The contents of `schedules.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedules {
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<Schedule>,
}

impl Schedules {
    pub fn path_in(home: &Path) -> PathBuf {
        home.join(FILE_NAME)
    }

    /// A missing file is an empty list; a malformed one is an error naming it.
    pub fn load(path: &Path) -> Result<Schedules> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Schedules::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("{e}; fix the file or remove it and install the schedules again"),
        })
    }

    /// Temp file plus rename, so a reader (the collector) never sees half a file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let header =
            "# Managed by `tokenledger schedule`; the collector's scheduler reads it too.\n";
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, format!("{header}{text}")).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    pub fn get(&self, name: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.name == name)
    }

    pub fn upsert(&mut self, schedule: Schedule) -> Change {
        match self.schedules.iter_mut().find(|s| s.name == schedule.name) {
            Some(old) if *old == schedule => Change::Unchanged,
            Some(old) => Change::Replaced(Box::new(std::mem::replace(old, schedule))),
            None => {
                self.schedules.push(schedule);
                Change::Added
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Schedule> {
        let index = self.schedules.iter().position(|s| s.name == name)?;
        Some(self.schedules.remove(index))
    }
}

/// Where the file store records claimed runs: `HOME/schedule-runs/`.
pub const RUNS_DIR: &str = "schedule-runs";

/// Claims the run of `job` due at `due` among the collectors sharing `home`:
/// creating `HOME/schedule-runs/<job>@<unix seconds>` succeeds for exactly
/// one of them (`create_new` is atomic), however many race for it. Claims
/// older than 30 days are removed on the way.
pub fn claim_run_in(home: &Path, job: &str, due: Timestamp) -> Result<bool> {
    validate_name(job)?;
    let dir = home.join(RUNS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{job}@{}", due.as_second()));
    let claimed = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(Error::io(&path, e)),
    };
    let old = due.as_second().saturating_sub(30 * 86_400);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let at = name.to_str().and_then(|n| n.rsplit_once('@'));
            if at
                .and_then(|(_, s)| s.parse::<i64>().ok())
                .is_some_and(|s| s < old)
            {
                // Best effort: a claim left behind only takes a few bytes.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(claimed)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
