use crate::common::{TestContext, line};
use predicates::prelude::*;
use std::path::PathBuf;

fn fixtures(agent: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tokenledger-sources/tests/fixtures")
        .join(agent)
}

fn with_logs(t: &TestContext, args: &[&str]) -> std::process::Output {
    t.std_cmd()
        .env("CODEX_HOME", fixtures("codex"))
        .env("OPENCLAW_DIR", fixtures("openclaw"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn sources_lists_what_each_source_found() {
    let t = TestContext::new();
    let doc = json(with_logs(&t, &["sources", "--format", "json"]));
    let by_name = |name: &str| {
        doc["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap()
            .clone()
    };
    let codex = by_name("codex");
    assert_eq!(codex["detected"], true);
    assert_eq!(codex["files"], 5);
    assert_eq!(codex["events"], 10);
    assert_eq!(codex["unreadable"].as_array().unwrap().len(), 4);
    let openclaw = by_name("openclaw");
    assert_eq!(openclaw["events"], 8);
    assert_eq!(openclaw["first"], "2026-02-05T17:00:00Z");
    let claude = by_name("claude-code");
    assert_eq!(claude["detected"], false, "no ~/.claude in the test home");
    assert!(
        claude["searched"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with(".claude/projects"))
    );
}

#[test]
fn reports_choose_sources_and_group_by_source_and_agent_kind() {
    let t = TestContext::new();
    t.write_register(&line(
        "2026-02-06T12:00:00Z",
        "reg-1",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    let codex = json(with_logs(
        &t,
        &["report", "--source", "codex", "--format", "json"],
    ));
    assert_eq!(codex["totals"]["input_tokens"], 6250);
    assert_eq!(codex["totals"]["cache_read_tokens"], 11650);
    assert_eq!(codex["totals"]["output_tokens"], 1700);
    let all = json(with_logs(
        &t,
        &["report", "--by", "source", "--format", "json"],
    ));
    let sources: Vec<_> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources.len(), 3, "{sources:?}");
    for s in ["register", "codex", "openclaw"] {
        assert!(
            sources.iter().any(|x| x == s),
            "{s} missing from {sources:?}"
        );
    }
    let kinds = json(with_logs(
        &t,
        &[
            "report",
            "--by",
            "agent_kind",
            "--source",
            "register",
            "--format",
            "json",
        ],
    ));
    assert_eq!(kinds["rows"][0]["agent_kind"], "unknown");
    let out = with_logs(&t, &["report", "--source", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown source \"bogus\""));
}

/// The log's total for OpenClaw's main session, as the report computes it.
fn openclaw_main_total(t: &TestContext) -> u64 {
    let doc = json(with_logs(
        t,
        &[
            "report",
            "--source",
            "openclaw",
            "--session",
            "agent:main:main",
            "--format",
            "json",
        ],
    ));
    doc["totals"]["total_tokens"].as_u64().unwrap()
}

#[test]
fn a_session_in_both_register_and_log_counts_once_and_the_log_wins() {
    let t = TestContext::new();
    let log_total = openclaw_main_total(&t);
    assert!(log_total > 0);
    t.write_register(&line(
        "2026-02-06T20:00:00Z",
        "agent:main:main",
        "main",
        "claude-sonnet-4-5",
        5,
        5,
        Some(9.0),
    ));
    let both = json(with_logs(
        &t,
        &["report", "--session", "agent:main:main", "--format", "json"],
    ));
    assert_eq!(
        both["totals"]["total_tokens"], log_total,
        "the log's per-request data wins"
    );
    assert_eq!(both["totals"]["sessions"], 1);
    t.write_config("[merge]\nprefer = \"register\"\n");
    let seed_rule = json(with_logs(
        &t,
        &["report", "--session", "agent:main:main", "--format", "json"],
    ));
    assert_eq!(
        seed_rule["totals"]["total_tokens"], 10,
        "merge.prefer = register restores the seed's rule"
    );
    assert_eq!(seed_rule["totals"]["cost_usd"], 9.0);
}

#[test]
fn check_lists_sessions_whose_register_totals_disagree_with_the_log() {
    let t = TestContext::new();
    let log_total = openclaw_main_total(&t);
    let mut text = line(
        "2026-02-06T20:00:00Z",
        "agent:main:main",
        "main",
        "claude-sonnet-4-5",
        log_total,
        0,
        None,
    );
    text.push_str(&line(
        "2026-02-06T20:00:00Z",
        "agent:research:main",
        "research",
        "m",
        1,
        0,
        None,
    ));
    t.write_register(&text);
    let doc = json(with_logs(&t, &["report", "--check", "--format", "json"]));
    assert_eq!(doc["sessions_compared"], 2, "{doc}");
    let rows = doc["discrepancies"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the disagreeing session: {doc}");
    assert_eq!(rows[0]["register_total_tokens"], 1);
    t.cmd()
        .env("OPENCLAW_DIR", fixtures("openclaw"))
        .args(["report", "--check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1 of 2 sessions differ"));
}
