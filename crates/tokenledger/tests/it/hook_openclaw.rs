//! `hook openclaw-stats`: an OpenClaw subagent announce on stdin becomes one register entry.

use crate::common::TestContext;

const KEY: &str = "agent:backend:subagent:17cc9f9e-296e-4c6a-808b-e7d1d946af51";

/// The message OpenClaw's `runSubagentAnnounceFlow` sends to the parent.
fn announce(stats: &str) -> String {
    format!(
        "A background task \"audit deps\" just completed successfully.\n\nFindings:\nTwo crates are outdated.\n\n{stats}\n\n\
         Summarize this naturally for the user. Keep it brief (1-2 sentences). Flow it into the conversation naturally.\n"
    )
}

fn stats_line() -> String {
    format!(
        "Stats: runtime 12m23s \u{2022} tokens 108.8k (in 12.1k / out 569) \u{2022} est $0.0448 \u{2022} sessionKey {KEY} \u{2022} sessionId dc91698c-9113-4c28-8220-7e81d9407ba5 \u{2022} transcript /home/claw/.openclaw/agents/backend/sessions/dc91698c-9113-4c28-8220-7e81d9407ba5.jsonl"
    )
}

fn register_lines(t: &TestContext) -> Vec<serde_json::Value> {
    t.register()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_announce_is_logged_once_and_reported() {
    let t = TestContext::new();
    let run = t
        .cmd()
        .args([
            "hook",
            "openclaw-stats",
            "--model",
            "anthropic/claude-sonnet-4-5",
        ])
        .write_stdin(announce(&stats_line()))
        .assert()
        .success();
    let out = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert_eq!(
        out,
        format!(
            "✅ Logged session {KEY} to token register\n   Model: anthropic/claude-sonnet-4-5 | Tokens: 12100 in, 569 out | Cost: $0.0448\n"
        )
    );
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains("shows rounded counts"), "{err}");

    let lines = register_lines(&t);
    assert_eq!(lines.len(), 1, "{}", t.register());
    let entry = &lines[0];
    assert_eq!(entry["session_key"], KEY);
    assert_eq!(entry["agent_id"], "backend");
    assert_eq!(entry["model"], "anthropic/claude-sonnet-4-5");
    assert_eq!(entry["tokens_input"], 12100);
    assert_eq!(entry["tokens_output"], 569);
    assert_eq!(entry["cost"], 0.0448);
    assert_eq!(entry["source"], "openclaw-announce");

    // The same announce again (a retried hook) is not counted twice.
    t.cmd()
        .args(["hook", "openclaw-stats"])
        .write_stdin(announce(&stats_line()))
        .assert()
        .success()
        .stdout(format!("⚠️  Session {KEY} already logged, skipping\n"));
    assert_eq!(register_lines(&t).len(), 1);

    let report = t.report_json(&["--by", "session", "--source", "register", "--period", "all"]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["session"], KEY);
    assert_eq!(rows[0]["input_tokens"], 12100);
    assert_eq!(rows[0]["output_tokens"], 569);
    assert_eq!(rows[0]["cost_usd"], 0.0448);
    assert_eq!(report["totals"]["events"], 1);
}

#[test]
fn flags_override_and_a_missing_cost_is_priced_from_the_table() {
    let t = TestContext::new();
    t.cmd()
        .args([
            "hook",
            "openclaw-stats",
            "--agent",
            "reviewer",
            "--session",
            "review-7",
            "--model",
            "claude-sonnet-4-5",
        ])
        .write_stdin("Stats: runtime 45s • tokens 1,500 (in 1,000 / out 500) • sessionKey agent:main:subagent:x\n")
        .assert()
        .success();
    let lines = register_lines(&t);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["session_key"], "review-7");
    assert_eq!(lines[0]["agent_id"], "reviewer");
    assert_eq!(lines[0]["tokens_input"], 1000);
    assert_eq!(lines[0]["tokens_output"], 500);
    // Sonnet 4.5 at $3 / $15 per million.
    assert_eq!(lines[0]["cost"], 0.0105);
}

#[test]
fn text_without_stats_warns_and_succeeds() {
    let t = TestContext::new();
    for input in [
        "",
        "just a chat message\nwith no stats\n",
        "\u{0}\u{ff}garbage",
    ] {
        t.cmd()
            .args(["hook", "openclaw-stats"])
            .write_stdin(input)
            .assert()
            .success()
            .stdout("")
            .stderr(predicates::str::contains("no `Stats:` line on stdin"));
    }
    t.cmd()
        .args(["hook", "openclaw-stats"])
        .write_stdin("Stats: runtime 3s • tokens n/a • sessionKey agent:main:subagent:1\n")
        .assert()
        .success()
        .stderr(predicates::str::contains("no `in`/`out` token counts"));
    assert!(register_lines(&t).is_empty());
}

#[test]
fn invalid_bytes_on_stdin_do_not_stop_a_valid_stats_line() {
    let t = TestContext::new();
    let mut input = b"\xff\xfe findings in a broken encoding\n".to_vec();
    input.extend_from_slice(
        b"Stats: tokens 10 (in 7 / out 3) \xe2\x80\xa2 sessionKey agent:main:subagent:b\n",
    );
    t.cmd()
        .args(["hook", "openclaw-stats", "--model", "claude-sonnet-4-5"])
        .write_stdin(input)
        .assert()
        .success();
    let lines = register_lines(&t);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["tokens_input"], 7);
}
