use crate::common::TestContext;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A private copy of the Claude Code fixture tree, so tests can delete and grow transcripts.
fn claude_tree(t: &TestContext) -> PathBuf {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tokenledger-sources/tests/fixtures/claude_code/home/.claude");
    let root = t.dir.path().join("claude");
    copy_tree(&fixture, &root);
    root
}

fn run(t: &TestContext, root: &Path, args: &[&str]) -> std::process::Output {
    t.std_cmd()
        .env("CLAUDE_CONFIG_DIR", root)
        .args(args)
        .output()
        .unwrap()
}

fn totals(t: &TestContext, root: &Path) -> serde_json::Value {
    let out = run(t, root, &["report", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["totals"].clone()
}

fn ledger_keys(t: &TestContext) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(t.home.join("ledger.jsonl")).unwrap_or_default();
    let mut keys = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        *keys
            .entry(v["dedupe_key"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    keys
}

#[test]
fn synced_history_survives_the_agents_cleanup_and_a_second_sync_adds_nothing() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    let before = totals(&t, &root);
    assert_eq!(before["events"], 18);
    let out = run(&t, &root, &["sync"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("claude-code: 18 new events"));
    let out = run(&t, &root, &["sync"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("claude-code: 0 new events, 18 already"));
    // Claude Code deletes old transcripts; the ledger keeps what they held.
    std::fs::remove_dir_all(root.join("projects/-home-me-src-app")).unwrap();
    assert_eq!(totals(&t, &root), before);
    run(&t, &root, &["sync"]);
    assert_eq!(totals(&t, &root), before);
    assert!(ledger_keys(&t).values().all(|&n| n == 1));
}

#[test]
fn reports_read_only_the_ledger_until_a_log_changes() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    run(&t, &root, &["sync"]);
    let files = |t: &TestContext| {
        let out = run(t, &root, &["sources", "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == "claude-code")
            .unwrap()["files"]
            .clone()
    };
    assert_eq!(files(&t), 1, "unchanged logs: the ledger alone answers");
    // A new request appended to a transcript is seen before the next sync.
    let transcript =
        root.join("projects/-home-me-src-lib/33333333-3333-4333-8333-333333333333.jsonl");
    let mut text = std::fs::read_to_string(&transcript).unwrap();
    text.push_str(r#"{"type":"assistant","timestamp":"2026-01-12T13:00:00.000Z","sessionId":"33333333-3333-4333-8333-333333333333","requestId":"req_NEW","message":{"id":"msg_NEW","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":7,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}"#);
    text.push('\n');
    std::fs::write(&transcript, text).unwrap();
    assert!(files(&t).as_u64().unwrap() > 1);
    assert_eq!(totals(&t, &root)["events"], 19);
    run(&t, &root, &["sync"]);
    assert_eq!(totals(&t, &root)["events"], 19);
    assert_eq!(files(&t), 1);
}

#[test]
fn sync_killed_at_any_instant_loses_nothing_and_doubles_nothing() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    let expected = totals(&t, &root);
    let out = t
        .std_cmd()
        .env("CLAUDE_CONFIG_DIR", &root)
        .env("TOKENLEDGER_CRASH_AT", "sync:after-append")
        .arg("sync")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash point was never reached");
    for attempt in 0..15u64 {
        let mut child = t
            .std_cmd()
            .env("CLAUDE_CONFIG_DIR", &root)
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros((attempt * 1_777) % 12_000));
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = run(&t, &root, &["sync"]);
    assert!(out.status.success());
    let keys = ledger_keys(&t);
    assert_eq!(keys.len(), 18, "{keys:?}");
    assert!(
        keys.values().all(|&n| n == 1),
        "a key written twice: {keys:?}"
    );
    std::fs::remove_dir_all(root.join("projects")).unwrap();
    let after = totals(&t, &root);
    assert_eq!(after["events"], expected["events"]);
    assert_eq!(after["total_tokens"], expected["total_tokens"]);
}
