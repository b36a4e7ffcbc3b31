//! A full disk on every write path, proven by counting: each operation is
//! acknowledged (exit 0, HTTP 200) or fails with an error naming the file
//! and saying there is no space; what is stored is exactly what was
//! acknowledged, every line whole (a failed append is cut back, so there is
//! no torn fragment at all) and no temporary file left; once space is back
//! the failed operations succeed, and every entry is stored exactly once.
//!
//! Loops run until the disk has refused a few times rather than a fixed
//! count: how much a page holds depends on the machine's page size.

use crate::common::{TestContext, all_entry_lines};
use crate::fault_support::*;
use crate::mount::{SmallDisk, temp_files};
use crate::serve::Server;
use std::collections::BTreeSet;
use std::path::PathBuf;

const NO_TEMP: Vec<PathBuf> = Vec::new();

#[test]
fn log_on_a_full_disk_stores_exactly_the_acknowledged_entries() {
    let t = TestContext::new();
    let Some(disk) = SmallDisk::mount(&t.home, 512) else {
        return;
    };
    ok(&log(&t, 0)); // the key index exists before the disk fills
    disk.leave_free(2);
    let (mut acked, mut failed) = (vec![0], Vec::new());
    for i in 1..=300 {
        if failed.len() == 3 {
            break;
        }
        let out = log(&t, i);
        if out.status.success() {
            assert!(ok(&out).contains(&format!("Logged session k-{i}")));
            acked.push(i);
        } else {
            assert_full(&out, &t.home);
            failed.push(i);
        }
    }
    assert!(acked.len() > 1 && failed.len() == 3, "{acked:?} {failed:?}");
    assert_logged(&t, &acked);
    // --best-effort: exit 0, a warning saying why, nothing stored.
    let before = t.register();
    let pad = "p".repeat(1000); // longer than the lines that no longer fit
    let mut cmd = t.cmd();
    let out = cmd.args(["log", "--best-effort", "--session", "be", "--project", &pad]);
    let out = out.output().unwrap();
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No space left") && err.contains("--best-effort"),
        "{err}"
    );
    assert_eq!(t.register(), before);

    disk.unfill();
    for &i in &failed {
        assert!(ok(&log(&t, i)).contains("Logged session"));
    }
    assert!(ok(&log(&t, acked[1])).contains("already logged"));
    acked.extend(failed);
    acked.sort_unstable();
    assert_logged(&t, &acked);
    assert_eq!(temp_files(&t.home), NO_TEMP);
}

#[test]
fn rotate_on_a_full_disk_fails_cleanly_at_each_step_until_space_is_back() {
    let t = TestContext::new();
    let Some(disk) = SmallDisk::mount(&t.home, 1024) else {
        return;
    };
    t.write_register(&register_over_months(60));
    let original = all_entry_lines(&t.home);
    assert_eq!(original.len(), 180);
    disk.fill();
    // One more free page per attempt: each attempt gets further before the
    // disk refuses (the kept lines' tmp file, the journal, each archive).
    let mut failed_on = BTreeSet::new();
    for _ in 0..64 {
        let out = t.cmd().arg("rotate").output().unwrap();
        if out.status.success() {
            break;
        }
        failed_on.insert(assert_full(&out, &t.home));
        // Undone: the same entries, once each, and nothing half-done left.
        assert_eq!(all_entry_lines(&t.home), original, "{failed_on:?}");
        assert_eq!(temp_files(&t.home), NO_TEMP);
        assert!(
            !t.home
                .join("token-usage-register.jsonl.rotate-journal")
                .exists()
        );
        assert_eq!(t.report_json(&[])["totals"]["events"], 180);
        disk.free_pages(1);
    }
    let tmp = "token-usage-register.jsonl.rotate-tmp";
    assert!(failed_on.contains(tmp), "{failed_on:?}");
    assert!(
        failed_on.iter().any(|f| f.ends_with(".jsonl.gz")),
        "{failed_on:?}"
    );
    // Done: the same multiset, old months archived, the rest still live.
    assert_eq!(all_entry_lines(&t.home), original);
    let live = t.register();
    assert!(!live.contains("\"m4-") && !live.contains("\"m3-") && live.contains("\"m0-"));
    assert!(live.contains("not json at all"));
    assert_eq!(t.report_json(&[])["totals"]["events"], 180);
}

#[test]
fn sync_on_a_full_disk_keeps_the_ledger_whole_and_catches_up_once_space_is_back() {
    let t = TestContext::new();
    let Some(disk) = SmallDisk::mount(&t.home, 512) else {
        return;
    };
    let root = claude_tree(&t);
    // The truth: the report of an empty home, which reads the logs alone.
    let truth = || totals(&TestContext::new(), &root);
    ok(&sync(&t, &root));
    let ledger = t.home.join("ledger.jsonl");
    let mut synced = count(&ledger, "dedupe_key");
    assert_eq!(synced.len(), 18);
    disk.leave_free(3);
    let (mut acked, mut failed, mut rounds) = (0, 0, 0);
    while failed < 3 && rounds < 60 {
        add_requests(&root, rounds * 7, 7);
        rounds += 1;
        let out = sync(&t, &root);
        let now = count(&ledger, "dedupe_key");
        assert!(now.values().all(|&n| n == 1), "{now:?}");
        // What an acknowledged sync stored stays. A failed one may keep the
        // events it appended before its state failed to save: they are real
        // events, and the next sync finds them held instead of adding them.
        assert!(synced.keys().all(|k| now.contains_key(k)));
        if out.status.success() {
            assert_eq!(now.len(), 18 + 7 * rounds as usize);
            acked += 1;
        } else {
            assert_full(&out, &t.home);
            failed += 1;
        }
        synced = now;
        assert_eq!(temp_files(&t.home), NO_TEMP);
        assert_eq!(
            totals(&t, &root),
            truth(),
            "reports read the logs meanwhile"
        );
    }
    assert!(acked > 0 && failed == 3, "{acked} synced, {failed} failed");
    disk.unfill();
    ok(&sync(&t, &root));
    let keys = count(&ledger, "dedupe_key");
    assert_eq!(keys.len(), 18 + 7 * rounds as usize);
    assert!(keys.values().all(|&n| n == 1));
    let expected = truth();
    std::fs::remove_dir_all(root.join("projects")).unwrap();
    assert_eq!(totals(&t, &root), expected, "the ledger alone holds it all");
}

#[test]
fn cleo_records_on_a_full_metrics_disk_are_exactly_the_acknowledged_ones() {
    let t = TestContext::new();
    let proj = t.dir.path().join("proj");
    let dir = proj.join(".cleo/metrics");
    let Some(disk) = SmallDisk::mount(&dir, 512) else {
        return;
    };
    let check = |acked: &BTreeSet<(u64, u8)>| {
        let of = |op: u8| acked.iter().filter(move |a| a.1 == op).map(|a| a.0);
        let starts = of(0).map(|i| format!("s-{i}/start"));
        let records = once(starts.chain(of(2).map(|i| format!("s-{i}/end"))));
        assert_eq!(session_records(&dir), records);
        let tracked = once(of(1).map(|i| format!("T-{i}")));
        assert_eq!(count(&dir.join("TOKEN_USAGE.jsonl"), "task_id"), tracked);
        assert_eq!(metrics(&t, &proj, &[])["totals"]["sessions"], of(2).count());
        let tasks = &metrics(&t, &proj, &["--by-task"])["totals"];
        assert_eq!(tasks["tasks"], of(1).count());
        let estimated: u64 = of(1).map(|i| 100 + i).sum();
        assert_eq!(tasks["estimated_tokens"], estimated);
        assert_eq!(temp_files(&dir), NO_TEMP);
    };
    let mut acked = BTreeSet::new();
    for op in 0..3 {
        ok(&cleo(&t, &proj, 0, op));
        acked.insert((0, op));
    }
    disk.fill(); // what is left: the ends of the files' last pages
    let mut failed = Vec::new();
    for i in 1..=300 {
        if failed.len() >= 3 {
            break;
        }
        for op in 0..3 {
            let out = cleo(&t, &proj, i, op);
            if out.status.success() {
                acked.insert((i, op));
            } else {
                assert_full(&out, &dir);
                failed.push((i, op));
            }
        }
    }
    assert!(acked.len() > 3 && failed.len() >= 3, "{acked:?}");
    check(&acked);
    disk.unfill();
    for (i, op) in failed {
        ok(&cleo(&t, &proj, i, op));
        acked.insert((i, op));
    }
    check(&acked);
}

#[test]
fn the_collector_on_a_full_disk_answers_503_and_stores_exactly_the_acknowledged_batches() {
    let ctx = TestContext::new();
    let Some(disk) = SmallDisk::mount(&ctx.home, 512) else {
        return;
    };
    let server = Server::start(&ctx);
    disk.leave_free(2);
    let ledger = ctx.home.join("ledger.jsonl").display().to_string();
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for b in 0..300 {
        if failed.len() == 3 {
            break;
        }
        let (status, text) = post_batch(&server, b);
        if status == 200 {
            acked.push(b);
        } else {
            assert_eq!(status, 503, "{text}");
            assert!(
                text.contains(&ledger) && text.contains("No space left"),
                "{text}"
            );
            assert!(
                text.contains("nothing of this request was stored"),
                "{text}"
            );
            failed.push(b);
        }
    }
    assert!(
        !acked.is_empty() && failed.len() == 3,
        "{acked:?} {failed:?}"
    );
    assert_ingested(&ctx, &server, &acked);
    disk.grow(2048); // more space, the filler still there
    for &b in &failed {
        let (status, text) = post_batch(&server, b);
        assert!(status == 200 && text.contains("\"accepted\":10"), "{text}");
    }
    acked.extend(failed);
    acked.sort_unstable();
    assert_ingested(&ctx, &server, &acked);
    // A restarted collector reads the same ledger: nothing torn, nothing twice.
    drop(server);
    assert_ingested(&ctx, &Server::start(&ctx), &acked);
}

#[test]
fn the_spool_on_a_full_disk_keeps_exactly_the_acknowledged_batches() {
    let agent = TestContext::new();
    let collector = TestContext::new();
    let Some(disk) = SmallDisk::mount(&agent.home, 256) else {
        return;
    };
    let address = free_address();
    let url = format!("http://{address}");
    let log = |i: u64| log_remote(&agent, &url, &format!("s{i}"), 100 + i);
    // The collector is down: each entry is one spool file, one page.
    disk.leave_free(3);
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for i in 0..8 {
        let out = log(i);
        if out.status.success() {
            assert!(ok(&out).contains("spooled"));
            acked.push(i);
        } else {
            assert_full(&out, &agent.home.join("spool"));
            failed.push(i);
        }
        assert_eq!(
            spooled(&agent.home),
            once(acked.iter().map(|i| format!("s{i}")))
        );
        assert_eq!(temp_files(&agent.home), NO_TEMP);
    }
    assert!(
        !acked.is_empty() && !failed.is_empty(),
        "{acked:?} {failed:?}"
    );
    disk.unfill();
    for &i in &failed {
        assert!(ok(&log(i)).contains("spooled"));
    }
    // Delivering needs no space (it reads and deletes spool files): the
    // disk is full again when the collector comes back.
    disk.fill();
    let server = Server::start_on(&collector, &address, &[]);
    assert!(ok(&log(8)).contains("Logged session s8"));
    assert!(spooled(&agent.home).is_empty());
    let stored = count(&collector.home.join("ledger.jsonl"), "session");
    assert_eq!(stored, once((0..=8).map(|i| format!("s{i}"))));
    let totals = &server.report("")["totals"];
    assert_eq!(totals["sessions"], 9);
    assert_eq!(
        totals["input_tokens"],
        (0..=8).map(|i| 100 + i).sum::<u64>()
    );
}
