use crate::common::{TestContext, hours_ago, line};
use predicates::prelude::*;

fn day_register() -> String {
    let mut text = String::from("# Token Usage Register (JSONL)\n");
    text.push_str(&line(
        &hours_ago(30),
        "old",
        "main",
        "claude-opus-4-5",
        99_000,
        9_000,
        Some(5.0),
    ));
    text.push_str(&line(
        &hours_ago(3),
        "abc123",
        "backend-engineer",
        "anthropic/claude-sonnet-4-5",
        15000,
        3000,
        Some(0.045),
    ));
    text.push_str(&line(
        &hours_ago(1),
        "def456",
        "main",
        "claude-opus-4-5",
        1200,
        300,
        Some(0.0405),
    ));
    text
}

#[test]
fn the_24h_window_applies_to_every_section() {
    let t = TestContext::new();
    t.write_register(&day_register());
    let out = t.cmd().args(["report", "daily"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "DAILY TOKEN USAGE REPORT",
        "Summary",
        "19,500",
        "Sessions: 2",
        "By Model",
        "By Agent",
        "Hourly Breakdown (Last 24 Hours)",
        "Generated at",
        "UTC",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The seed counted the 30-hour-old session in By Model; we do not.
    assert!(
        !text.contains("99,000") && !text.contains("108,000"),
        "{text}"
    );
    let json = t.report_json(&["daily"]);
    assert_eq!(json["totals"]["total_tokens"], 19_500);
    assert_eq!(json["totals"]["sessions"], 2);
}

#[test]
fn the_dataset_is_written_where_asked_with_a_source_per_session() {
    let t = TestContext::new();
    t.write_register(&day_register());
    let dataset = t.dir.path().join("out/token-usage-daily.json");
    t.run(&[
        "report",
        "daily",
        "--dataset-output",
        dataset.to_str().unwrap(),
    ])
    .success()
    .stdout(predicate::str::contains(dataset.to_str().unwrap()));
    let bytes = std::fs::read_to_string(&dataset).unwrap();
    assert!(
        !bytes.ends_with('\n'),
        "the seed's dataset has no trailing newline"
    );
    assert!(
        bytes.contains("\n  \"by_hour\": {"),
        "Python indent=2 layout: {bytes}"
    );
    let value: serde_json::Value = serde_json::from_str(&bytes).unwrap();
    assert_eq!(value["summary"]["total_tokens"], 19_500);
    assert_eq!(value["summary"]["total_sessions"], 2);
    assert_eq!(value["summary"]["by_model"].as_object().unwrap().len(), 2);
    let sessions = value["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["source"] == "register"));
    assert_eq!(value["by_hour"].as_object().unwrap().len(), 2);
}

#[test]
fn no_sessions_is_a_clear_report_and_exit_zero() {
    let t = TestContext::new();
    t.run(&["report", "daily"])
        .success()
        .stdout(predicate::str::contains("No sessions in this window"));
}

#[test]
fn daily_rotate_reports_then_rotates() {
    let t = TestContext::new();
    let mut text = day_register();
    text.push_str(&line(
        "2020-01-15T00:00:00Z",
        "ancient",
        "main",
        "m",
        1,
        1,
        Some(0.0),
    ));
    t.write_register(&text);
    t.run(&["report", "daily", "--rotate"]).success();
    assert!(
        t.home
            .join("token-usage-register-2020-01.jsonl.gz")
            .exists()
    );
    assert!(!t.register().contains("ancient"));
}

/// An OpenClaw home under the test's `HOME`: agent `ops` has a session
/// marked running whose last request was three days ago; agent `main` has a
/// finished session with one request two hours ago.
fn openclaw_home(t: &TestContext) {
    let ms = |hours: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours)).as_millisecond()
    };
    let request = |id: &str, hours: i64, input: u64| {
        format!(
            "{{\"type\":\"message\",\"id\":\"{id}\",\"timestamp\":\"{}\",\"message\":{{\"role\":\"assistant\",\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"usage\":{{\"input\":{input},\"output\":100,\"cacheRead\":0,\"cacheWrite\":0,\"cost\":{{\"total\":0}}}}}}}}\n",
            hours_ago(hours)
        )
    };
    let write = |agent: &str, store: String, transcripts: &[(&str, String)]| {
        let dir = t
            .dir
            .path()
            .join(".openclaw/agents")
            .join(agent)
            .join("sessions");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("sessions.json"), store).unwrap();
        for (id, text) in transcripts {
            std::fs::write(dir.join(format!("{id}.jsonl")), text).unwrap();
        }
    };
    write(
        "ops",
        format!(
            r#"{{"agent:ops:main":{{"sessionId":"s-ops","status":"running","updatedAt":{},"modelProvider":"anthropic","model":"claude-opus-4-5","inputTokens":99999}}}}"#,
            ms(72)
        ),
        &[("s-ops", request("o1", 72, 5_000))],
    );
    write(
        "main",
        format!(
            r#"{{"agent:main:cron:nightly":{{"sessionId":"s-cron","status":"done","updatedAt":{}}}}}"#,
            ms(2)
        ),
        &[("s-cron", request("c1", 2, 1_000))],
    );
}

#[test]
fn running_openclaw_sessions_without_usage_are_active_sessions() {
    let t = TestContext::new();
    openclaw_home(&t);
    let dataset = t.dir.path().join("token-usage-daily.json");
    let out = t
        .cmd()
        .args(["report", "daily", "--dataset-output"])
        .arg(&dataset)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The window's usage is the finished session's request alone.
    assert!(text.contains("Total Tokens: 1,100"), "{text}");
    assert!(text.contains("Sessions: 1\n"), "{text}");
    let active = text.split("Active Sessions\n").nth(1).expect(&text);
    let first = active.lines().next().unwrap();
    assert!(
        first.starts_with("• agent:ops:main  ops  0 tokens"),
        "{text}"
    );
    assert!(!active.contains("cron:nightly"), "{text}");

    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dataset).unwrap()).unwrap();
    let sessions = value["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let ops = &sessions[0];
    assert_eq!(ops["session_key"], "agent:ops:main");
    assert_eq!(ops["agent_id"], "ops");
    assert_eq!(ops["status"], "running");
    assert_eq!(ops["source"], "openclaw");
    assert_eq!(ops["tokens_input"], 0);
    assert_eq!(ops["tokens_output"], 0);
    assert_eq!(ops["model"], "claude-opus-4-5");
    assert_eq!(sessions[1]["session_key"], "agent:main:cron:nightly");
    assert_eq!(sessions[1]["status"], "done");
    assert_eq!(sessions[1]["tokens_input"], 1_000);
    assert_eq!(value["summary"]["total_sessions"], 1);

    let json = t.report_json(&["daily"]);
    assert_eq!(json["totals"]["total_tokens"], 1_100);
    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["session"], "agent:ops:main");
    assert_eq!(sessions[0]["agent"], "ops");
    assert_eq!(sessions[0]["status"], "running");
    assert_eq!(sessions[0]["total_tokens"], 0);
    assert_eq!(sessions[1]["status"], "done");
    assert_eq!(sessions[1]["total_tokens"], 1_100);

    // Filters apply to the session list as to the usage.
    let main_only = t.report_json(&["daily", "--agent", "main"]);
    assert_eq!(main_only["sessions"].as_array().unwrap().len(), 1);
}
