//! The clock jumping backwards (Debian's libfaketime moves the process's
//! clock; file times are set back by hand) and a register replaced while
//! reports read it. Counting shows nothing lost and nothing doubled.

use crate::common::{TestContext, all_entry_lines, bin, line};
use crate::sync::{NEW_REQUEST, append, claude_tree, ledger_keys, lib_transcript, run, totals};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// `tokenledger ARGS` with the process's clock at `when` (`YYYY-MM-DD HH:MM:SS`).
fn at(t: &TestContext, when: &str) -> Command {
    let base = t.std_cmd();
    let mut cmd = Command::new("faketime");
    cmd.arg(when).arg(bin()).env_clear();
    for (key, value) in base.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    cmd
}

fn days_ago(days: i64) -> String {
    let ts = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn ok(mut cmd: Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap_or_else(|e| {
        panic!("cannot run faketime ({e}): install Debian's faketime package (.ci/run does)")
    });
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn log_args(key: &str) -> Vec<&str> {
    let args = ["log", "--session", key, "--model", "claude-sonnet-4-5"];
    let mut all = args.to_vec();
    all.extend(["--input", "10", "--output", "1"]);
    all
}

#[test]
fn log_and_rotate_keep_every_entry_once_when_the_clock_jumps_back() {
    let t = TestContext::new();
    let past = days_ago(400);
    ok(t.std_cmd(), &log_args("k1"));
    // The clock is 400 days behind: new keys are logged with that time,
    // an old key is still recognised.
    ok(at(&t, &past), &log_args("k2"));
    let again = ok(at(&t, &past), &log_args("k1"));
    assert!(again.contains("already logged"), "{again}");
    ok(t.std_cmd(), &log_args("k3"));
    let report = t.report_json(&["--period", "all"]);
    assert_eq!(report["totals"]["input_tokens"], 30, "{report}");
    assert_eq!(report["totals"]["sessions"], 3);

    let before = all_entry_lines(&t.home);
    // A rotation while the clock is behind sees entries from its future:
    // it must keep them, and a rotation on the right clock archives the old one.
    ok(at(&t, &past), &["rotate", "--keep-months", "1"]);
    assert_eq!(all_entry_lines(&t.home), before);
    ok(t.std_cmd(), &["rotate", "--keep-months", "1"]);
    assert_eq!(all_entry_lines(&t.home), before);
    assert_eq!(t.register().lines().count(), 2, "k1 and k3 stay live");
    let report = t.report_json(&["--period", "all"]);
    assert_eq!(report["totals"]["input_tokens"], 30, "{report}");
}

fn set_mtime(path: &std::path::Path, when: SystemTime) {
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn sync_reads_appends_whose_files_went_back_in_time() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    let year_ago = SystemTime::now() - Duration::from_secs(365 * 86_400);
    assert!(run(&t, &root, &["sync"]).status.success());
    let before = ledger_keys(&t).len();
    // Appended while the clock ran a year behind: an older mtime than the
    // one sync recorded must still count as a change.
    let transcript = lib_transcript(&root);
    append(&transcript, &format!("{NEW_REQUEST}\n"));
    set_mtime(&transcript, year_ago);
    let mut sync = at(&t, &days_ago(365));
    sync.env("CLAUDE_CONFIG_DIR", &root);
    ok(sync, &["sync"]);
    let keys = ledger_keys(&t);
    assert_eq!(keys.len(), before + 1);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    // Back on the right clock, nothing is read twice.
    assert!(run(&t, &root, &["sync"]).status.success());
    assert_eq!(ledger_keys(&t), keys);
    let after = totals(&t, &root);
    assert_eq!(after["events"], before as u64 + 1, "{after}");
}

#[test]
fn a_session_ending_before_it_started_on_the_clock_is_recorded_without_a_negative_duration() {
    let t = TestContext::new();
    let project = t.dir.path().join("proj");
    std::fs::create_dir_all(project.join(".cleo")).unwrap();
    let mut start = t.std_cmd();
    start.current_dir(&project);
    ok(start, &["session", "start", "--id", "session_clock"]);
    let mut end = at(&t, &days_ago(1));
    end.current_dir(&project);
    ok(end, &["session", "end", "--id", "session_clock"]);
    let text = std::fs::read_to_string(project.join(".cleo/metrics/SESSIONS.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["event"], "end");
    assert_eq!(records[1]["duration_minutes"], 0);
}

/// Reports running while the register is replaced (as an editor or a
/// restore would, by rename) each see one whole version, never a mix.
#[test]
fn a_register_replaced_while_reports_read_it_gives_one_whole_version() {
    let t = TestContext::new();
    let ts = crate::common::hours_ago(2);
    let short: String = (0..3_000)
        .map(|i| line(&ts, &format!("k{i}"), "a", "claude-sonnet-4-5", 1, 0, None))
        .collect();
    let long: String = short.clone()
        + &(3_000..9_000)
            .map(|i| line(&ts, &format!("k{i}"), "a", "claude-sonnet-4-5", 1, 0, None))
            .collect::<String>();
    t.write_register(&short);
    let path = t.register_path();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let tmp = path.with_extension("swap");
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::fs::write(&tmp, if i.is_multiple_of(2) { &long } else { &short }).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
                i += 1;
            }
        });
        for _ in 0..25 {
            let report = t.report_json(&["--period", "all"]);
            let input = report["totals"]["input_tokens"].as_u64().unwrap();
            assert!(input == 3_000 || input == 9_000, "a mixed read: {input}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // The index rebuilt for whichever version is left dedupes against it.
    let left = t.register().lines().count() as u64;
    let out = ok(t.std_cmd(), &log_args("k0"));
    assert!(out.contains("already logged"), "{out}");
    let report = t.report_json(&["--period", "all"]);
    assert_eq!(report["totals"]["input_tokens"], left);
}
