//! A home (or a CLEO metrics directory) that turns read-only once data
//! exists: every write command fails with exit 1 and an error naming the
//! path and saying it is read-only, not one byte changes, reports still
//! work and give the same totals, and once the disk is writable again the
//! same commands succeed.

use crate::common::{TestContext, all_entry_lines};
use crate::fault_support::*;
use crate::mount::{SmallDisk, contents};
use crate::serve::Server;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_read_only_home_refuses_every_write_changes_nothing_and_still_reports() {
    let t = TestContext::new();
    let Some(disk) = SmallDisk::mount(&t.home, 1024) else {
        return;
    };
    let home = &t.home;
    let root = claude_tree(&t);
    t.write_register(&register_over_months(20)); // rotate has work to do
    ok(&log(&t, 1));
    ok(&sync(&t, &root));
    let url = format!("http://{}", free_address()); // no collector there
    assert!(ok(&log_remote(&t, &url, "r1", 5)).contains("spooled"));
    let before = contents(home);
    let totals_before = totals(&t, &root);
    assert_eq!(totals_before["events"], 60 + 1 + 18);

    disk.read_only();
    assert_read_only(&log(&t, 2), home);
    assert_read_only(&log(&t, 1), home); // even a duplicate: the check takes the lock
    assert_read_only(&t.cmd().arg("rotate").output().unwrap(), home);
    assert_read_only(&sync(&t, &root), home);
    assert_read_only(&log_remote(&t, &url, "r2", 6), &home.join("spool"));
    let mut cmd = t.cmd();
    let out = cmd.args(["log", "--best-effort", "--session", "be"]);
    let out = out.output().unwrap();
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("read-only") && err.contains("--best-effort"),
        "{err}"
    );
    assert!(contents(home) == before, "a refused write changed the home");
    // Reading needs no write: the same figures, and no error.
    assert_eq!(totals(&t, &root), totals_before);
    let out = t
        .cmd()
        .env("CLAUDE_CONFIG_DIR", &root)
        .arg("report")
        .output();
    let out = out.unwrap();
    ok(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"));

    disk.read_write();
    assert!(ok(&log(&t, 2)).contains("Logged session k-2"));
    let entries = all_entry_lines(home);
    ok(&t.cmd().arg("rotate").output().unwrap());
    assert_eq!(all_entry_lines(home), entries);
    assert!(t.register().contains("\"m0-") && !t.register().contains("\"m4-"));
    add_requests(&root, 0, 2);
    ok(&sync(&t, &root));
    assert_eq!(count(&home.join("ledger.jsonl"), "dedupe_key").len(), 20);
    assert!(ok(&log_remote(&t, &url, "r2", 6)).contains("spooled"));
    assert_eq!(spooled(home), once(["r1".to_string(), "r2".to_string()]));
    assert_eq!(totals(&t, &root)["events"], 60 + 2 + 20);
}

#[test]
fn cleo_on_a_read_only_metrics_dir_refuses_records_and_changes_nothing() {
    let t = TestContext::new();
    let proj = t.dir.path().join("proj");
    let dir = proj.join(".cleo/metrics");
    let Some(disk) = SmallDisk::mount(&dir, 256) else {
        return;
    };
    for op in 0..3 {
        ok(&cleo(&t, &proj, 1, op));
    }
    let before = contents(&dir);
    let sessions = metrics(&t, &proj, &[])["rows"].clone();
    let tasks = metrics(&t, &proj, &["--by-task"])["rows"].clone();

    disk.read_only();
    for op in 0..3 {
        assert_read_only(&cleo(&t, &proj, 2, op), &dir);
    }
    assert!(
        contents(&dir) == before,
        "a refused record changed the metrics"
    );
    assert_eq!(metrics(&t, &proj, &[])["rows"], sessions);
    assert_eq!(metrics(&t, &proj, &["--by-task"])["rows"], tasks);

    disk.read_write();
    for op in 0..3 {
        ok(&cleo(&t, &proj, 2, op));
    }
    let all = ["s-1/start", "s-1/end", "s-2/start", "s-2/end"];
    assert_eq!(session_records(&dir), once(all.map(String::from)));
    let tracked = once(["T-1".to_string(), "T-2".to_string()]);
    assert_eq!(count(&dir.join("TOKEN_USAGE.jsonl"), "task_id"), tracked);
    assert_eq!(metrics(&t, &proj, &[])["totals"]["sessions"], 2);
}

/// `session end` with actual figures writes the project's SESSIONS.jsonl
/// and then the home's register. A read-only home fails the command after
/// the first write: the end record stays. Run again once the home is
/// writable, the register gets the session once and the metrics, which
/// keep one end per session, count it once.
#[test]
fn session_end_on_a_read_only_home_is_completed_by_a_rerun_and_counted_once() {
    let t = TestContext::new();
    let Some(disk) = SmallDisk::mount(&t.home, 256) else {
        return;
    };
    let proj = t.dir.path().join("proj");
    std::fs::create_dir_all(proj.join(".claude")).unwrap();
    let state =
        r#"{"tokenUsage":{"input":45230,"output":12450,"cacheRead":8000,"cacheCreation":2000}}"#;
    std::fs::write(proj.join(".claude/context-state.json"), state).unwrap();
    ok(&cleo(&t, &proj, 1, 0));
    ok(&log(&t, 1));
    let register = t.register();
    disk.read_only();
    assert_read_only(&cleo(&t, &proj, 1, 2), &t.home);
    assert_eq!(t.register(), register);
    let dir = proj.join(".cleo/metrics");
    assert_eq!(
        session_records(&dir)["s-1/end"],
        1,
        "written before the register"
    );

    disk.read_write();
    ok(&cleo(&t, &proj, 1, 2));
    let keys = count(&t.register_path(), "session_key");
    assert_eq!(keys, once(["k-1".to_string(), "s-1".to_string()]));
    assert_eq!(session_records(&dir)["s-1/end"], 2);
    let doc = metrics(&t, &proj, &[]);
    assert_eq!(doc["totals"]["sessions"], 1);
    assert_eq!(doc["totals"]["input_tokens"], 45230);
    let report = t.report_json(&[]);
    assert_eq!(report["totals"]["input_tokens"], 101 + 45230);
}

#[test]
fn the_collector_on_a_read_only_home_refuses_batches_and_cannot_start() {
    let ctx = TestContext::new();
    let Some(disk) = SmallDisk::mount(&ctx.home, 512) else {
        return;
    };
    let server = Server::start(&ctx);
    assert_eq!(post_batch(&server, 0).0, 200);
    disk.read_only();
    let before = contents(&ctx.home);
    for _ in 0..2 {
        let (status, text) = post_batch(&server, 1);
        assert_eq!(status, 503, "{text}");
        let home = ctx.home.display().to_string();
        assert!(text.contains(&home) && text.contains("read-only"), "{text}");
        assert!(
            text.contains("nothing of this request was stored"),
            "{text}"
        );
    }
    assert!(
        contents(&ctx.home) == before,
        "a refused batch changed the home"
    );
    assert_ingested(&ctx, &server, &[0]); // reports still answer

    disk.read_write();
    assert_eq!(post_batch(&server, 1).0, 200);
    assert_ingested(&ctx, &server, &[0, 1]);
    drop(server);

    // Started on a read-only home, it exits at once and says why.
    disk.read_only();
    let mut child = ctx
        .std_cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the collector kept running on a read-only home");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let out = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: err.into_bytes(),
    };
    assert_read_only(&out, &ctx.home);
    disk.read_write();
    assert_ingested(&ctx, &Server::start(&ctx), &[0, 1]);
}
