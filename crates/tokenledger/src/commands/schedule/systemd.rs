//! The systemd user-timer backend: `tokenledger-<name>.service` (one shot)
//! and `tokenledger-<name>.timer` in the user's unit directory. systemd
//! evaluates `OnCalendar=` in the named zone itself, DST included.

use super::{Job, SYSTEMCTL_ENV, failed, tool};
use anyhow::Context as _;
use std::path::PathBuf;

/// Whether a systemd user manager answers (not so in most containers).
pub fn available() -> bool {
    tool(
        SYSTEMCTL_ENV,
        "systemctl",
        &["--user", "show-environment"],
        None,
    )
    .is_ok_and(|out| out.status.success())
}

/// Writes the units and enables the timer; `false` when both files were already as they should be.
pub fn install(job: &Job) -> anyhow::Result<bool> {
    let name = &job.schedule.name;
    let dir = unit_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let service = write_if_changed(dir.join(unit(name, "service")), &service_text(job))?;
    let timer = write_if_changed(dir.join(unit(name, "timer")), &timer_text(job)?)?;
    if !(service || timer) {
        return Ok(false);
    }
    systemctl(&["--user", "daemon-reload"])?;
    systemctl(&["--user", "enable", "--now", &unit(name, "timer")])?;
    Ok(true)
}

/// `false` when no unit of that name existed.
pub fn remove(name: &str) -> anyhow::Result<bool> {
    let dir = unit_dir();
    let files = [
        dir.join(unit(name, "timer")),
        dir.join(unit(name, "service")),
    ];
    if !files.iter().any(|f| f.exists()) {
        return Ok(false);
    }
    // A timer that is already stopped or unknown to systemd is no reason to keep its files.
    let stopped = systemctl(&["--user", "disable", "--now", &unit(name, "timer")]);
    for file in &files {
        match std::fs::remove_file(file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", file.display()));
            }
            _ => {}
        }
    }
    systemctl(&["--user", "daemon-reload"])?;
    if let Err(e) = stopped {
        crate::context::warn(&format!("{e:#}"));
    }
    Ok(true)
}

pub fn is_installed(name: &str) -> Option<bool> {
    Some(unit_dir().join(unit(name, "timer")).exists())
}

fn unit(name: &str, kind: &str) -> String {
    format!("tokenledger-{name}.{kind}")
}

/// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`.
fn unit_dir() -> PathBuf {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_CONFIG_HOME")
        .or_else(|| env("HOME").map(|home| home.join(".config")))
        .unwrap_or_else(|| PathBuf::from("/"))
        .join("systemd/user")
}

fn write_if_changed(path: PathBuf, text: &str) -> anyhow::Result<bool> {
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let out = tool(SYSTEMCTL_ENV, "systemctl", args, None)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(&format!("systemctl {}", args.join(" ")), &out))
    }
}

fn service_text(job: &Job) -> String {
    let s = job.schedule;
    let exec: Vec<String> = job.argv.iter().map(|a| quote(a)).collect();
    format!(
        "# Managed by `tokenledger schedule`; `tokenledger schedule remove {name}` removes it.\n\
         [Unit]\nDescription=tokenledger schedule {name}: tokenledger {args}\n\n\
         [Service]\nType=oneshot\nEnvironmentFile=-{env}\nExecStart={exec}\n",
        name = s.name,
        args = specifiers(&s.args.join(" ")),
        env = specifiers(&job.env_file.to_string_lossy()),
        exec = exec.join(" "),
    )
}

fn timer_text(job: &Job) -> anyhow::Result<String> {
    let s = job.schedule;
    Ok(format!(
        "# Managed by `tokenledger schedule`; `tokenledger schedule remove {name}` removes it.\n\
         [Unit]\nDescription=Daily at {at} {tz}: tokenledger schedule {name}\n\n\
         [Timer]\nOnCalendar={calendar}\nPersistent=true\n\n\
         [Install]\nWantedBy=timers.target\n",
        name = s.name,
        at = s.at,
        tz = s.tz,
        calendar = s.on_calendar()?,
    ))
}

/// `%` starts a specifier in every unit setting.
fn specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// One `ExecStart=` word: double-quoted, with systemd's escapes and `$`
/// doubled so nothing is expanded.
fn quote(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$");
    format!("\"{}\"", specifiers(&escaped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenledger_core::schedule::Schedule;

    #[test]
    fn units_run_the_pinned_command_in_the_zone() {
        let s = Schedule::new(None, "20:00", "Europe/Berlin", vec!["report".into()]).unwrap();
        let job = Job {
            schedule: &s,
            argv: vec!["/bin/tl".into(), "report".into(), "a \"b\" $HOME 5%".into()],
            env_file: "/cfg/schedule.env".into(),
        };
        insta::assert_snapshot!(service_text(&job), @r#"
        # Managed by `tokenledger schedule`; `tokenledger schedule remove report` removes it.
        [Unit]
        Description=tokenledger schedule report: tokenledger report

        [Service]
        Type=oneshot
        EnvironmentFile=-/cfg/schedule.env
        ExecStart="/bin/tl" "report" "a \"b\" $$HOME 5%%"
        "#);
        let timer = timer_text(&job).unwrap();
        assert!(
            timer.contains("OnCalendar=*-*-* 20:00:00 Europe/Berlin\nPersistent=true\n"),
            "{timer}"
        );
    }
}
