use crate::common::{TestContext, all_entry_lines, line};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn a_crash_between_append_and_index_update_still_dedupes() {
    let t = TestContext::new();
    t.run(&["log", "a", "main", "m", "1", "1", "0"]).success();
    let out = t
        .cmd()
        .env("TOKENLEDGER_CRASH_AT", "log:after-append")
        .args(["log", "b", "main", "m", "1", "1", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    t.run(&["log", "b", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicates::str::contains("already logged"));
    let out = t
        .cmd()
        .env("TOKENLEDGER_CRASH_AT", "log:before-append")
        .args(["log", "c", "main", "m", "1", "1", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    t.run(&["log", "c", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicates::str::contains("Logged session"));
    assert_eq!(t.register().lines().count(), 3);
}

/// Loggers killed with SIGKILL at random instants: every acknowledged entry is
/// there exactly once, no line is torn, and no key appears twice.
#[test]
fn loggers_killed_at_random_instants_keep_every_acknowledged_entry_once() {
    let t = TestContext::new();
    let mut acknowledged = Vec::new();
    for round in 0..40u64 {
        let mut children = Vec::new();
        for p in 0..4u64 {
            let key = format!("k-{round}-{p}");
            let child = t
                .std_cmd()
                .args(["log", &key, "main", "claude-sonnet-4-5", "10", "5"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            children.push((key, child));
        }
        std::thread::sleep(Duration::from_micros((round * 997) % 4000));
        for (i, (key, mut child)) in children.into_iter().enumerate() {
            if (round + i as u64).is_multiple_of(2) {
                let _ = child.kill();
            }
            let out = child.wait_with_output().unwrap();
            if out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("Logged session")
            {
                acknowledged.push(key);
            }
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for l in t.register().lines() {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}"));
        *counts
            .entry(v["session_key"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    for key in &acknowledged {
        assert_eq!(counts.get(key), Some(&1), "acknowledged {key} is missing");
    }
    assert!(!acknowledged.is_empty());
}

/// Three months of entries, so a rotation keeping 2 months has work to do whatever today is.
fn register_over_months(entries_per_month: usize) -> String {
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let mut text = String::from("# Token Usage Register (JSONL)\n");
    for months_back in [4, 3, 0] {
        let month = now.first_of_month().unwrap() - jiff::Span::new().months(months_back);
        for i in 0..entries_per_month {
            let ts = (month.clone() + jiff::Span::new().minutes(i as i64)).timestamp();
            let ts = ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            text.push_str(&line(
                &ts,
                &format!("m{months_back}-{i}"),
                "main",
                "claude-sonnet-4-5",
                100,
                10,
                None,
            ));
        }
    }
    text.push_str("not json at all\n");
    text
}

fn assert_rotation_complete(t: &TestContext, original: &[String]) {
    assert_eq!(
        all_entry_lines(&t.home),
        original,
        "entries lost or doubled"
    );
    let live = t.register();
    assert!(
        live.contains("not json at all"),
        "malformed line was not kept"
    );
    assert!(
        !live.contains("\"m4-") && !live.contains("\"m3-"),
        "old entries still live"
    );
    assert!(
        !t.home
            .join("token-usage-register.jsonl.rotate-journal")
            .exists()
    );
}

#[test]
fn rotation_killed_at_each_step_loses_nothing_and_a_rerun_completes_it() {
    for point in [
        "rotate:after-tmp",
        "rotate:after-journal",
        "rotate:mid-archive",
        "rotate:after-archive",
        "rotate:before-rename",
        "rotate:after-rename",
        "rotate:before-journal-delete",
    ] {
        let t = TestContext::new();
        t.write_register(&register_over_months(50));
        let original = all_entry_lines(&t.home);
        let out = t
            .cmd()
            .env("TOKENLEDGER_CRASH_AT", point)
            .args(["rotate"])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{point}: the crash point was never reached"
        );
        // Whatever state the crash left, reports never count an entry twice.
        let report = t.report_json(&["--period", "all"]);
        assert_eq!(
            report["totals"]["events"], 150,
            "{point}: report after crash"
        );
        t.run(&["rotate"]).success();
        assert_rotation_complete(&t, &original);
        assert_eq!(
            t.report_json(&["--period", "all"])["totals"]["events"],
            150,
            "{point}"
        );
    }
}

#[test]
fn rotation_killed_by_sigkill_at_random_instants_loses_nothing() {
    let t = TestContext::new();
    t.write_register(&register_over_months(20_000));
    let original = all_entry_lines(&t.home);
    for attempt in 0..12u64 {
        let mut child = t
            .std_cmd()
            .arg("rotate")
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis((attempt * 37) % 120));
        let _ = child.kill();
        let _ = child.wait();
    }
    t.run(&["rotate"]).success();
    assert_rotation_complete(&t, &original);
}
