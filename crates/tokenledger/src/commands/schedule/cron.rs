//! The user-crontab backend. Each schedule is two lines: a marker comment
//! that names it, then the entry. Lines that are not ours are kept as they are.
//!
//! The entry runs hourly and lets a guard check the hour in the schedule's
//! zone, rather than using `CRON_TZ`: Debian's cron ignores `CRON_TZ`, and
//! in cronie it leaks to every later line of the crontab. The guard is
//! right in any cron, across DST changes, whatever the system's zone.

use super::{CRONTAB_ENV, Job, failed, sh_quote, tool};
use jiff::Timestamp;
use jiff::tz::TimeZone;

const MARKER: &str = "# tokenledger schedule ";

fn marker(name: &str) -> String {
    format!("{MARKER}{name}: ")
}

/// Adds or replaces the schedule's entry; `false` when it was already there as is.
pub fn install(job: &Job) -> anyhow::Result<bool> {
    let current = read()?;
    let mut updated = without(&current, &job.schedule.name);
    updated.push_str(&entry(job, &TimeZone::system(), Timestamp::now())?);
    if updated == current {
        return Ok(false);
    }
    write(&updated)?;
    Ok(true)
}

/// `false` when the crontab had no entry of that name.
pub fn remove(name: &str) -> anyhow::Result<bool> {
    let current = read()?;
    let updated = without(&current, name);
    if updated == current {
        return Ok(false);
    }
    write(&updated)?;
    Ok(true)
}

/// `None` when the crontab cannot be read.
pub fn is_installed(name: &str) -> Option<bool> {
    let marker = marker(name);
    read()
        .ok()
        .map(|text| text.lines().any(|l| l.starts_with(&marker)))
}

fn read() -> anyhow::Result<String> {
    let out = tool(CRONTAB_ENV, "crontab", &["-l"], None)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    // A user without a crontab yet: `crontab -l` says so and exits 1.
    if String::from_utf8_lossy(&out.stderr).contains("no crontab") {
        return Ok(String::new());
    }
    Err(failed("crontab -l", &out))
}

fn write(text: &str) -> anyhow::Result<()> {
    let out = tool(CRONTAB_ENV, "crontab", &["-"], Some(text))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed("crontab -", &out))
    }
}

/// The crontab without the named schedule's marker and entry line.
fn without(text: &str, name: &str) -> String {
    let marker = marker(name);
    let mut out = String::new();
    let mut skip_entry = false;
    for line in text.lines() {
        if std::mem::take(&mut skip_entry) && !line.starts_with(MARKER) {
            continue;
        }
        if line.starts_with(&marker) {
            skip_entry = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The marker and the entry. The minute is the schedule's minute moved by
/// the zones' offset difference, which matters only for half-hour zones.
fn entry(job: &Job, system: &TimeZone, now: Timestamp) -> anyhow::Result<String> {
    let s = job.schedule;
    let time = s.time()?;
    let zone = TimeZone::get(&s.tz)?;
    let offset_minutes = |tz: &TimeZone| i64::from(tz.to_offset(now).seconds()) / 60;
    let minute = (i64::from(time.minute()) - (offset_minutes(&zone) - offset_minutes(system)))
        .rem_euclid(60);
    let command: Vec<String> = job.argv.iter().map(|a| sh_quote(a)).collect();
    let env = sh_quote(&job.env_file.to_string_lossy());
    let line = format!(
        "{minute} * * * * [ \"$(TZ={tz} date +%H)\" = {hour:02} ] && {{ set -a; [ -r {env} ] && . {env}; set +a; exec {command}; }}",
        tz = sh_quote(&s.tz),
        hour = time.hour(),
        command = command.join(" "),
    );
    Ok(format!(
        "{}daily at {} {}; `tokenledger schedule remove {}` removes it\n{}\n",
        marker(&s.name),
        s.at,
        s.tz,
        s.name,
        // cron turns an unescaped % into a line break, even inside quotes.
        line.replace('%', "\\%")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenledger_core::schedule::Schedule;

    fn job(schedule: &Schedule) -> Job<'_> {
        Job {
            schedule,
            argv: vec!["/bin/tl".into(), "report".into(), "it's 100%".into()],
            env_file: "/cfg/schedule.env".into(),
        }
    }

    #[test]
    fn the_entry_guards_the_hour_in_the_zone() {
        let s = Schedule::new(None, "20:00", "Europe/Berlin", vec!["report".into()]).unwrap();
        let now: Timestamp = "2026-02-06T12:00:00Z".parse().unwrap();
        let text = entry(&job(&s), &TimeZone::UTC, now).unwrap();
        insta::assert_snapshot!(text, @r#"
        # tokenledger schedule report: daily at 20:00 Europe/Berlin; `tokenledger schedule remove report` removes it
        0 * * * * [ "$(TZ='Europe/Berlin' date +\%H)" = 20 ] && { set -a; [ -r '/cfg/schedule.env' ] && . '/cfg/schedule.env'; set +a; exec '/bin/tl' 'report' 'it'\''s 100\%'; }
        "#);
    }

    #[test]
    fn half_hour_zones_shift_the_minute() {
        let s = Schedule::new(None, "20:00", "Asia/Kolkata", vec!["report".into()]).unwrap();
        let now: Timestamp = "2026-02-06T12:00:00Z".parse().unwrap();
        let text = entry(&job(&s), &TimeZone::UTC, now).unwrap();
        assert!(
            text.lines().nth(1).unwrap().starts_with("30 * * * * "),
            "{text}"
        );
    }

    #[test]
    fn only_the_named_entry_is_removed() {
        let crontab = "MAILTO=me\n# tokenledger schedule report: x\n0 * * * * a\n# tokenledger schedule report-daily: y\n5 * * * * b\n@reboot c\n";
        assert_eq!(
            without(crontab, "report"),
            "MAILTO=me\n# tokenledger schedule report-daily: y\n5 * * * * b\n@reboot c\n"
        );
        assert_eq!(without(crontab, "other"), crontab);
    }
}
