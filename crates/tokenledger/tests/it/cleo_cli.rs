//! The CLEO commands by hand: estimate, session, track and metrics.

use crate::common::TestContext;
use serde_json::{Value, json};
use std::path::PathBuf;

fn project(t: &TestContext) -> PathBuf {
    let dir = t.dir.path().join("proj");
    std::fs::create_dir_all(dir.join(".cleo")).unwrap();
    dir
}

fn run(t: &TestContext, dir: &PathBuf, args: &[&str]) -> (String, String) {
    let out = t.cmd().args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn estimate_counts_bpe_chars4_and_calibrates() {
    let t = TestContext::new();
    let file = t.dir.path().join("p.txt");
    std::fs::write(&file, "hello world").unwrap();
    let file = file.to_str().unwrap();
    t.run(&["estimate", file])
        .success()
        .stdout("~2 tokens (estimate: o200k_base BPE 2, uncalibrated; 11 bytes)\n");
    t.run(&["estimate", file, "--method", "chars4"])
        .success()
        .stdout("~3 tokens (estimate: bytes / 4, rounded up (the seed's wc -c / 4); 11 bytes)\n");
    t.write_config("[estimate]\nmodel = \"claude-opus-4-7\"\n[estimate.calibration]\nclaude = 1.2\n\"claude-opus-4-7\" = 2.0\n");
    t.run(&["estimate", file]).success().stdout(
        "~4 tokens (estimate: o200k_base BPE 2 × 2 calibration for claude-opus-4-7; 11 bytes)\n",
    );
    t.cmd()
        .args(["estimate", "-", "--model", "claude-sonnet-4-5"])
        .write_stdin("hello world")
        .assert()
        .success()
        .stdout("~2 tokens (estimate: o200k_base BPE 2 × 1.2 calibration for claude; 11 bytes)\n");
    t.write_config("[estimate.calibration]\nclaude = -1\n");
    t.run(&["estimate", file])
        .code(2)
        .stderr(predicates::str::contains("estimate.calibration"));
    t.write_config("");
    t.run(&["estimate", "/no/such/file"]).code(1);
}

#[test]
fn session_end_without_start_warns_and_records() {
    let t = TestContext::new();
    let dir = project(&t);
    let (out, err) = run(
        &t,
        &dir,
        &["session", "end", "--id", "s-1", "--tasks-completed", "2"],
    );
    assert!(out.starts_with("Session s-1 ended\n"), "{out}");
    assert!(err.contains("no start record for session s-1"), "{err}");
    let text = std::fs::read_to_string(dir.join(".cleo/metrics/SESSIONS.jsonl")).unwrap();
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["duration_minutes"], Value::Null);
    assert_eq!(v["tasks_completed"], 2);
    assert_eq!(v["tokens_source"], "estimate");
    assert_eq!(v["estimated"], true);
    assert!(
        t.register().is_empty(),
        "estimates never reach the register"
    );
}

#[test]
fn context_state_gives_actual_figures() {
    let t = TestContext::new();
    let dir = project(&t);
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(
        dir.join(".claude/context-state.json"),
        r#"{"conversationId":"abc123","tokenUsage":{"input":45230,"output":12450,"cacheRead":8000,"cacheCreation":2000}}"#,
    )
    .unwrap();
    let (out, _) = run(&t, &dir, &["session", "start"]);
    let id = out
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(id.starts_with("session_"), "{out}");
    run(&t, &dir, &["session", "end"]);
    let text = std::fs::read_to_string(dir.join(".cleo/metrics/SESSIONS.jsonl")).unwrap();
    let end: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(end["session_id"], id.as_str());
    assert_eq!(end["tokens_source"], "context-state");
    assert_eq!(end["tokens"]["total"], 67680);
    assert_eq!(end["tokens"]["delta"], 0, "the start saw the same state");
    assert_eq!(end["duration_minutes"], 0);
    let register: Value = serde_json::from_str(t.register().trim()).unwrap();
    assert_eq!(register["session_key"], id.as_str());
    assert_eq!(register["tokens_input"], 45230);
    assert!(
        register.get("cost").is_none(),
        "no model, so unpriced: {register}"
    );
}

#[test]
fn tracked_spawns_feed_the_dashboard() {
    let t = TestContext::new();
    let dir = project(&t);
    // chars4 figures, easy to check by hand.
    std::fs::write(dir.join("prompt.md"), "p".repeat(4000)).unwrap();
    std::fs::write(dir.join("skill.md"), "s".repeat(800)).unwrap();
    std::fs::write(dir.join("full.md"), "f".repeat(9800)).unwrap();
    let entry = r#"{"id":"research-1","file":"full.md","title":"t"}"#;
    std::fs::write(dir.join("MANIFEST.jsonl"), format!("{entry}\n")).unwrap();
    let entry_tokens = (entry.len() as u64).div_ceil(4);
    let c4 = ["--method", "chars4", "--session", "S1"];
    let track = |args: &[&str]| {
        let mut all = vec!["track"];
        all.extend_from_slice(args);
        all.extend_from_slice(&c4);
        run(&t, &dir, &all).0
    };
    let out = track(&[
        "spawn-start",
        "--task",
        "T1234",
        "--prompt-file",
        "prompt.md",
        "--protocol",
        "research",
    ]);
    assert_eq!(out, "T1234 spawn_start: ~1000 tokens (estimate, chars4)\n");
    track(&[
        "skill-inject",
        "--task",
        "T1234",
        "--skill",
        "ct-research",
        "--file",
        "skill.md",
    ]);
    track(&[
        "spawn-end",
        "--task",
        "T1234",
        "--manifest-entry",
        "research-1",
        "--manifest",
        "MANIFEST.jsonl",
    ]);
    track(&[
        "manifest-read",
        "--task",
        "T1235",
        "--entry",
        "research-1",
        "--manifest",
        "MANIFEST.jsonl",
    ]);
    let usage = std::fs::read_to_string(dir.join(".cleo/metrics/TOKEN_USAGE.jsonl")).unwrap();
    assert_eq!(usage.lines().count(), 4);
    let (text, _) = run(&t, &dir, &["metrics", "tokens", "--period", "all"]);
    assert!(
        text.starts_with("=== Token Usage (All Time) ===\n\nSessions: 0\n"),
        "{text}"
    );
    // The entry line is 48 bytes: 12 tokens; the full file 9,800 bytes: 2,450.
    assert_eq!(entry_tokens, 12);
    assert!(
        text.contains("  T1234 (research): ~1,212 tokens (estimate)\n"),
        "{text}"
    );
    assert!(
        text.contains("  T1235:            ~12 tokens (estimate)\n"),
        "{text}"
    );
    assert!(
        text.contains("  SAVED:           ~2,438 tokens (99.5%)\n"),
        "{text}"
    );
    let saved = 2450 - entry_tokens;
    let (json_text, _) = run(
        &t,
        &dir,
        &["metrics", "savings", "--period", "all", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(doc["totals"]["full_file_tokens"], 2450);
    assert_eq!(doc["totals"]["saved_tokens"], json!(saved));
    assert_eq!(doc["rows"][0]["entry"], "research-1");
    // A missing entry is invalid input, exit 2, naming the id.
    t.cmd()
        .args([
            "track",
            "manifest-read",
            "--task",
            "T1",
            "--entry",
            "nope",
            "--manifest",
            "MANIFEST.jsonl",
        ])
        .current_dir(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("\"nope\""));
}

#[test]
fn metrics_read_wild_sessions_files_with_warnings() {
    let t = TestContext::new();
    let dir = project(&t);
    let metrics = dir.join(".cleo/metrics");
    std::fs::create_dir_all(&metrics).unwrap();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let wild = format!(
        "{{\n  \"session_id\": \"s1\",\n  \"start_timestamp\": \"{now}\",\n  \"end_timestamp\": \"{now}\",\n  \"tokens\": {{\"start\": 0, \"end\": 69987, \"consumed\": 69987, \"max\": 200000}}\n}}\n\
         {{\"session_id\":\"s1\",\"start_timestamp\":\"{now}\",\"end_timestamp\":\"{now}\",\"tokens\":{{\"consumed\":0}},\"efficiency\":{{\"rate\":0.0000}}}}\n\
         garbage\n\
         {{\"timestamp\":\"{now}\",\"session_id\":\"s2\",\"event\":\"end\",\"tokens\":{{\"input\":45230,\"output\":12450,\"total\":57680,\"delta\":23450}},\"duration_minutes\":45,\"tasks_completed\":3}}\n"
    );
    std::fs::write(metrics.join("SESSIONS.jsonl"), wild).unwrap();
    let (out, err) = run(
        &t,
        &dir,
        &["metrics", "tokens", "--period", "7d", "--format", "json"],
    );
    assert!(
        err.contains("SESSIONS.jsonl:8: invalid JSON skipped"),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["totals"]["sessions"], 2);
    assert_eq!(doc["totals"]["total_tokens"], 69987 + 57680);
    assert_eq!(doc["totals"]["estimated_total_tokens"], 69987);
    assert_eq!(doc["rows"][0]["tokens_source"], "cleo-context-window");
}

#[test]
fn track_tokens_0_turns_tracking_off() {
    let t = TestContext::new();
    let dir = project(&t);
    let out = t
        .cmd()
        .args(["track", "spawn-start", "--task", "T1", "--prompt", "x"])
        .env("CLEO_TRACK_TOKENS", "0")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLEO_TRACK_TOKENS"));
    assert!(!dir.join(".cleo/metrics/TOKEN_USAGE.jsonl").exists());
}

/// Without a transcript, a session's figures come from the collector that
/// receives its OpenTelemetry data, named the way Claude Code names it.
#[test]
fn a_collector_supplies_the_session_figures_when_no_transcript_exists() {
    let t = TestContext::new();
    let dir = project(&t);
    let collector_home = TestContext::new();
    let server = crate::serve::Server::start(&collector_home);
    let claude_session = "77777777-7777-4777-8777-777777777777";
    let sent = server.post_events(&json!([
        crate::serve::event("otel-log:req_1", claude_session, "main", 1200, 300),
        crate::serve::event("otel-log:req_2", claude_session, "main", 800, 100),
        crate::serve::event("otel-log:req_3", "another-session", "main", 5, 5),
    ]));
    assert_eq!(sent["accepted"], 3, "{sent}");
    // Answered once, so the hook-sized timeout measures the query, not a cold start.
    assert_eq!(
        server.report("session=another-session")["totals"]["events"],
        1
    );
    let out = t
        .cmd()
        .args([
            "session",
            "end",
            "--id",
            "s-otel",
            "--claude-session",
            claude_session,
        ])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &server.url)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join(".cleo/metrics/SESSIONS.jsonl")).unwrap();
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(
        v["tokens_source"],
        "collector-otel",
        "{v} {} {}",
        server.url,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["estimated"], false);
    assert_eq!(v["tokens"]["input"], 2000);
    assert_eq!(v["tokens"]["output"], 400);
    // An unreachable collector leaves the estimate, quickly.
    let started = std::time::Instant::now();
    let out = t
        .cmd()
        .args([
            "session",
            "end",
            "--id",
            "s-down",
            "--claude-session",
            "nobody",
        ])
        .env("TOKENLEDGER_COLLECTOR", "http://127.0.0.1:9")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let text = std::fs::read_to_string(dir.join(".cleo/metrics/SESSIONS.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["tokens_source"], "estimate", "{last}");
}
