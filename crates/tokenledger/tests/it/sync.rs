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
pub(crate) fn claude_tree(t: &TestContext) -> PathBuf {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tokenledger-sources/tests/fixtures/claude_code/home/.claude");
    let root = t.dir.path().join("claude");
    copy_tree(&fixture, &root);
    root
}

pub(crate) fn run(t: &TestContext, root: &Path, args: &[&str]) -> std::process::Output {
    t.std_cmd()
        .env("CLAUDE_CONFIG_DIR", root)
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn totals(t: &TestContext, root: &Path) -> serde_json::Value {
    let out = run(t, root, &["report", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["totals"].clone()
}

pub(crate) fn ledger_keys(t: &TestContext) -> BTreeMap<String, usize> {
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
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("claude-code: 0 new events, 0 already in the ledger (read 0 of")
    );
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

pub(crate) const NEW_REQUEST: &str = r#"{"type":"assistant","timestamp":"2026-01-12T13:00:00.000Z","sessionId":"33333333-3333-4333-8333-333333333333","requestId":"req_NEW","message":{"id":"msg_NEW","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":7,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}"#;

pub(crate) fn lib_transcript(root: &Path) -> PathBuf {
    root.join("projects/-home-me-src-lib/33333333-3333-4333-8333-333333333333.jsonl")
}

pub(crate) fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// The `claude-code: ...` line of `sync`'s output.
fn sync_line(t: &TestContext, root: &Path) -> String {
    let out = run(t, root, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("claude-code:"))
        .unwrap()
        .to_string()
}

#[test]
fn sync_reads_only_what_was_appended_since_the_last_one() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    let first = sync_line(&t, &root);
    assert!(first.starts_with("claude-code: 18 new events"), "{first}");
    let files = first
        .split(" of ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(
        sync_line(&t, &root),
        format!(
            "claude-code: 0 new events, 0 already in the ledger (read 0 of {files} files, 0 bytes)"
        )
    );
    append(&lib_transcript(&root), &format!("{NEW_REQUEST}\n"));
    assert_eq!(
        sync_line(&t, &root),
        format!(
            "claude-code: 1 new events, 0 already in the ledger (read 1 of {files} files, {} bytes)",
            NEW_REQUEST.len() + 1
        )
    );
    assert_eq!(totals(&t, &root)["events"], 19);
    assert!(ledger_keys(&t).values().all(|&n| n == 1));
}

#[test]
fn a_line_still_being_written_is_read_again_once_complete() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    sync_line(&t, &root);
    let (head, rest) = NEW_REQUEST.split_at(60);
    append(&lib_transcript(&root), head);
    let line = sync_line(&t, &root);
    assert!(line.starts_with("claude-code: 0 new events"), "{line}");
    append(&lib_transcript(&root), &format!("{rest}\n"));
    let line = sync_line(&t, &root);
    assert!(line.starts_with("claude-code: 1 new events"), "{line}");
    assert!(
        line.ends_with(&format!("{} bytes)", NEW_REQUEST.len() + 1)),
        "{line}"
    );
    assert_eq!(totals(&t, &root)["events"], 19);
}

#[test]
fn a_truncated_or_rewritten_transcript_is_read_again_whole() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    sync_line(&t, &root);
    let path = lib_transcript(&root);
    let old = std::fs::read_to_string(&path).unwrap();
    // Rewritten in place, same inode, longer: the new request sits at the
    // start, where reading on from the old end would never see it.
    std::fs::write(&path, format!("{NEW_REQUEST}\n{old}")).unwrap();
    let line = sync_line(&t, &root);
    assert!(line.starts_with("claude-code: 1 new events"), "{line}");
    assert!(line.contains("read 1 of"), "{line}");
    assert!(
        line.ends_with(&format!("{} bytes)", old.len() + NEW_REQUEST.len() + 1)),
        "{line}"
    );
    // Truncated to nothing, then written again.
    std::fs::write(&path, "").unwrap();
    sync_line(&t, &root);
    std::fs::write(&path, &old).unwrap();
    sync_line(&t, &root);
    assert_eq!(totals(&t, &root)["events"], 19);
    assert!(ledger_keys(&t).values().all(|&n| n == 1));
}

#[test]
fn a_missing_stale_or_damaged_snapshot_changes_no_figure() {
    let t = TestContext::new();
    let root = claude_tree(&t);
    let before = totals(&t, &root);
    sync_line(&t, &root);
    let snapshot = t.home.join("ledger.jsonl.snapshot");
    assert!(snapshot.is_file());
    std::fs::remove_dir_all(root.join("projects")).unwrap();
    assert_eq!(totals(&t, &root), before);
    std::fs::remove_file(&snapshot).unwrap();
    assert_eq!(totals(&t, &root), before);
    std::fs::write(&snapshot, b"TLSNAP\0\0garbage").unwrap();
    assert_eq!(totals(&t, &root), before);
    // A line appended after the snapshot was written (a sync killed before
    // refreshing it) is still read.
    let root = claude_tree(&t);
    sync_line(&t, &root);
    let lines = std::fs::read_to_string(t.home.join("ledger.jsonl")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    event["dedupe_key"] = "cc:msg_EXTRA:req_EXTRA".into();
    append(&t.home.join("ledger.jsonl"), &format!("{event}\n"));
    let out = run(&t, &root, &["report", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["totals"]["events"],
        19,
        "{doc}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Codex and OpenClaw records need their file's earlier lines: a changed
/// file is read again whole, an unchanged one not at all.
#[test]
fn codex_and_openclaw_files_are_read_again_only_when_they_change() {
    let t = TestContext::new();
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tokenledger-sources/tests/fixtures");
    for (kind, var) in [("codex", "CODEX_HOME"), ("openclaw", "OPENCLAW_DIR")] {
        let root = t.dir.path().join(kind);
        copy_tree(&fixtures.join(kind), &root);
        let sync = || {
            let out = t
                .std_cmd()
                .env(var, &root)
                .env("CLAUDE_CONFIG_DIR", t.dir.path().join("none"))
                .arg("sync")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find(|l| l.starts_with(&format!("{kind}:")))
                .unwrap()
                .to_string()
        };
        let first = sync();
        let added: u64 = first.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(added > 0, "{first}");
        let second = sync();
        assert!(
            second.contains(" 0 new events, 0 already") && second.contains("(read 0 of"),
            "{second}"
        );
        // Touch one file: only it is read, whole, and it adds nothing.
        let file = walk(&root)
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .unwrap();
        append(&file, "\n");
        let third = sync();
        assert!(
            third.contains(" 0 new events, ") && third.contains("(read 1 of"),
            "{third}"
        );
        let held: u64 = third
            .split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(held > 0, "the changed file was read whole: {third}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
