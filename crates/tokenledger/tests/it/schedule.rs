//! `tokenledger schedule` against fake `crontab` and `systemctl` scripts that
//! keep their state in the test's directory and log every call.

use crate::common::TestContext;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

struct Fakes {
    t: TestContext,
    crontab: PathBuf,
    systemctl: PathBuf,
}

impl Fakes {
    /// `systemd`: whether `systemctl --user show-environment` succeeds.
    fn new(systemd: bool) -> Fakes {
        let t = TestContext::new();
        let dir = t.dir.path().to_path_buf();
        let crontab = script(
            &dir,
            "crontab",
            &format!(
                r#"state={dir}/crontab.txt
echo "crontab $*" >> {dir}/calls.log
case "$1" in
  -l) if [ -f "$state" ]; then cat "$state"; else echo "no crontab for $USER" >&2; exit 1; fi ;;
  -) cat > "$state" ;;
  *) exit 2 ;;
esac"#,
                dir = dir.display()
            ),
        );
        let systemctl = script(
            &dir,
            "systemctl",
            &format!(
                r#"echo "systemctl $*" >> {dir}/calls.log
[ "$2" = show-environment ] && exit {code}
exit 0"#,
                dir = dir.display(),
                code = if systemd { 0 } else { 1 }
            ),
        );
        Fakes {
            t,
            crontab,
            systemctl,
        }
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.t
            .cmd()
            .env("TOKENLEDGER_CRONTAB", &self.crontab)
            .env("TOKENLEDGER_SYSTEMCTL", &self.systemctl)
            .args(args)
            .assert()
    }

    fn calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.t.dir.path().join("calls.log")).unwrap_or_default();
        log.lines()
            .filter(|l| !l.contains("show-environment"))
            .map(String::from)
            .collect()
    }

    fn crontab(&self) -> String {
        std::fs::read_to_string(self.t.dir.path().join("crontab.txt")).unwrap_or_default()
    }

    fn units(&self) -> PathBuf {
        self.t.dir.path().join(".config/systemd/user")
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("fake-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

const INSTALL: [&str; 12] = [
    "schedule",
    "install",
    "--at",
    "20:00",
    "--tz",
    "Europe/Berlin",
    "--",
    "report",
    "daily",
    "--send",
    "telegram",
    "--rotate",
];

fn stdout(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn cron_install_is_idempotent_and_remove_restores_the_crontab() {
    let f = Fakes::new(false);
    let theirs = "MAILTO=me@example.invalid\n0 1 * * * /usr/bin/backup\n";
    std::fs::write(f.t.dir.path().join("crontab.txt"), theirs).unwrap();

    let first = stdout(f.run(&INSTALL).success());
    assert!(
        first.contains("Installed schedule report-daily (cron)"),
        "{first}"
    );
    let crontab = f.crontab();
    assert!(crontab.starts_with(theirs), "{crontab}");
    let entry = crontab.lines().last().unwrap();
    assert!(
        entry.starts_with("0 * * * * [ \"$(TZ='Europe/Berlin' date +\\%H)\" = 20 ]"),
        "{entry}"
    );
    assert!(
        entry.ends_with("'report' 'daily' '--send' 'telegram' '--rotate'; }"),
        "{entry}"
    );
    assert!(
        entry.contains(&format!("'--home' '{}'", f.t.home.display())),
        "{entry}"
    );
    let writes = |f: &Fakes| f.calls().iter().filter(|c| *c == "crontab -").count();
    assert_eq!(writes(&f), 1);

    let again = stdout(f.run(&INSTALL).success());
    assert!(again.contains("already installed"), "{again}");
    assert_eq!(writes(&f), 1, "a second install writes nothing");
    assert_eq!(f.crontab(), crontab);

    let stored = std::fs::read_to_string(f.t.home.join("schedules.toml")).unwrap();
    assert!(stored.contains("name = \"report-daily\"") && stored.contains("backend = \"cron\""));
    let list = stdout(f.run(&["schedule", "list"]).success());
    assert!(
        list.lines()
            .nth(1)
            .unwrap()
            .starts_with("report-daily  20:00  Europe/Berlin  cron     yes"),
        "{list}"
    );

    f.run(&["schedule", "remove", "report-daily"]).success();
    assert_eq!(f.crontab(), theirs);
    f.run(&["schedule", "remove", "report-daily"])
        .code(2)
        .stderr(predicates::str::contains(
            "no schedule named \"report-daily\"",
        ));
}

#[test]
fn systemd_timers_where_systemd_runs() {
    let f = Fakes::new(true);
    f.run(&INSTALL).success();
    let timer = std::fs::read_to_string(f.units().join("tokenledger-report-daily.timer")).unwrap();
    assert!(
        timer.contains("OnCalendar=*-*-* 20:00:00 Europe/Berlin\n"),
        "{timer}"
    );
    let service =
        std::fs::read_to_string(f.units().join("tokenledger-report-daily.service")).unwrap();
    assert!(
        service.contains("\"report\" \"daily\" \"--send\" \"telegram\" \"--rotate\"\n"),
        "{service}"
    );
    assert_eq!(
        f.calls(),
        [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now tokenledger-report-daily.timer"
        ]
    );
    f.run(&INSTALL).success();
    assert_eq!(f.calls().len(), 2, "a second install calls nothing");
    assert!(f.crontab().is_empty(), "cron untouched");

    f.run(&["schedule", "remove", "report-daily"]).success();
    assert!(!f.units().join("tokenledger-report-daily.timer").exists());
    assert!(
        f.calls()
            .contains(&"systemctl --user disable --now tokenledger-report-daily.timer".to_string())
    );
}

#[test]
fn moving_a_schedule_to_another_backend_removes_the_old_entry() {
    let f = Fakes::new(true);
    let mut cron = INSTALL.to_vec();
    cron.splice(2..2, ["--backend", "cron"]);
    f.run(&cron).success();
    assert!(
        f.crontab()
            .contains("# tokenledger schedule report-daily: ")
    );
    f.run(&INSTALL).success();
    assert!(f.crontab().is_empty(), "{}", f.crontab());
    assert!(f.units().join("tokenledger-report-daily.timer").exists());
}

#[test]
fn bad_input_is_exit_2_and_names_the_flag() {
    let f = Fakes::new(false);
    let mut bad_at = INSTALL.to_vec();
    bad_at[3] = "25:00";
    f.run(&bad_at)
        .code(2)
        .stderr(predicates::str::contains("--at"));
    let mut bad_tz = INSTALL.to_vec();
    bad_tz[5] = "Mars/Olympus";
    f.run(&bad_tz)
        .code(2)
        .stderr(predicates::str::contains("--tz"));
    f.run(&["schedule", "install", "--at", "20:00", "--"])
        .code(2)
        .stderr(predicates::str::contains("nothing to run"));
    assert!(f.calls().is_empty(), "{:?}", f.calls());
}

#[test]
fn a_missing_crontab_says_how_to_fix_it() {
    let f = Fakes::new(false);
    f.t.cmd()
        .env(
            "TOKENLEDGER_CRONTAB",
            f.t.dir.path().join("no-such-crontab"),
        )
        .env("TOKENLEDGER_SYSTEMCTL", &f.systemctl)
        .args(INSTALL)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("is crontab installed?"));
}

#[test]
fn openclaw_job_for_an_installed_or_described_schedule() {
    let f = Fakes::new(false);
    f.run(&INSTALL).success();
    let job: serde_json::Value = serde_json::from_str(&stdout(
        f.run(&["schedule", "openclaw-job", "report-daily"])
            .success(),
    ))
    .unwrap();
    assert_eq!(
        job["schedule"],
        serde_json::json!({"kind": "cron", "expr": "0 20 * * *", "tz": "Europe/Berlin"})
    );
    assert_eq!(job["payload"]["kind"], "agentTurn");
    assert_eq!(job["delivery"]["mode"], "none");
    let described: serde_json::Value = serde_json::from_str(&stdout(
        f.run(&[
            "schedule",
            "openclaw-job",
            "--at",
            "07:30",
            "--tz",
            "UTC",
            "--",
            "report",
            "--period",
            "24h",
        ])
        .success(),
    ))
    .unwrap();
    assert_eq!(described["name"], "tokenledger report");
    assert_eq!(described["schedule"]["expr"], "30 7 * * *");
    assert_eq!(described["delivery"]["mode"], "announce");
}
