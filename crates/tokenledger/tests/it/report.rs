use crate::common::{TestContext, line};
use predicates::prelude::*;

/// What people and scripts really write into a register.
fn hostile_register() -> String {
    let mut text =
        String::from("\u{feff}# Token Usage Register (JSONL)\n# Each line is a JSON object\n\n");
    text.push_str(&line(
        "2026-02-05T20:00:00Z",
        "abc123",
        "backend-engineer",
        "anthropic/claude-sonnet-4-5",
        15000,
        3000,
        Some(0.045),
    ));
    text.push_str("{\"timestamp\": \"2026-02-05T21:30:00Z\", \"session_key\": \"def456\", \"agent_id\": \"backend-engineer\", \"model\": \"glm-4.7\", \"tokens_input\": 5000, \"tokens_output\": 2000, \"cost\": 0.007, \"extra\": {\"k\": [1,2]}}\r\n");
    text.push_str("{\"timestamp\":\"2026-02-06T09:12:00Z\",\"session_key\":\"ghi789\",\"agent_id\":\"main\",\"model\":\"claude-sonnet-4-5-20250929\",\"tokens_input\":1000,\"tokens_output\":500}\n");
    text.push_str("{\"timestamp\":\"2026-02-06T10:00:00Z\",\"session_key\":\"mystery\",\"agent_id\":\"main\",\"model\":\"mystery-model-9\",\"tokens_input\":10,\"tokens_output\":5}\n");
    text.push_str("{\"timestamp\":\"2026-02-06T11:00:00Z\",\"session_key\":\"bad\",\"agent_id\":\"main\",\"model\":\"m\",\"tokens_input\":15k,\"tokens_output\":1}\n");
    text.push_str("{\"timestamp\":\"2026-02-06T11:00:00Z\",\"session_key\":\"neg\",\"agent_id\":\"main\",\"model\":\"m\",\"tokens_input\":-1,\"tokens_output\":1}\n");
    text.push_str(&line(
        "2026-02-06T12:00:00Z",
        "abc123",
        "backend-engineer",
        "anthropic/claude-sonnet-4-5",
        99999,
        1,
        Some(9.0),
    ));
    text.push_str("{\"timestamp\":\"2026-02-06T12:30:00Z\",\"session_key\":\"partial\"");
    text
}

#[test]
fn hostile_lines_are_skipped_with_their_line_numbers_and_never_rewritten() {
    let t = TestContext::new();
    t.write_register(&hostile_register());
    let report = t.report_json(&["--by", "model"]);
    let totals = &report["totals"];
    assert_eq!(totals["events"], 4);
    assert_eq!(totals["sessions"], 4);
    assert_eq!(totals["input_tokens"], 15000 + 5000 + 1000 + 10);
    assert_eq!(totals["output_tokens"], 3000 + 2000 + 500 + 5);
    assert_eq!(
        totals["cost_usd"],
        serde_json::Value::Null,
        "one model is unpriced"
    );
    assert_eq!(
        totals["unpriced_models"],
        serde_json::json!(["mystery-model-9"])
    );
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    for (line_no, needle) in [
        (8, "invalid JSON"),
        (9, "negative"),
        (10, "already logged"),
        (11, "incomplete last line"),
    ] {
        let expected = format!("token-usage-register.jsonl:{line_no}: ");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&expected) && w.contains(needle)),
            "no warning for line {line_no} ({needle}): {warnings:#?}"
        );
    }
    assert_eq!(
        t.register(),
        hostile_register(),
        "reading must never rewrite the register"
    );
    // Sonnet is one model whatever its spelling; the stored cost wins over the table.
    let rows = report["rows"].as_array().unwrap();
    let sonnet = rows
        .iter()
        .find(|r| r["model"] == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(sonnet["sessions"], 2);
    assert!(
        (sonnet["cost_usd"].as_f64().unwrap() - (0.045 + 0.0105)).abs() < 1e-9,
        "{sonnet}"
    );
    let mystery = rows
        .iter()
        .find(|r| r["model"] == "mystery-model-9")
        .unwrap();
    assert_eq!(mystery["cost_usd"], serde_json::Value::Null);
}

#[test]
fn warnings_go_to_stderr_and_data_to_stdout() {
    let t = TestContext::new();
    t.write_register(&hostile_register());
    t.run(&["report", "--format", "csv"])
        .success()
        .stderr(predicate::str::contains("token-usage-register.jsonl:8:"))
        .stdout(predicate::str::contains("warning").not());
}

fn week_register() -> String {
    let mut text = String::new();
    text.push_str(&line(
        "2026-02-02T23:30:00Z",
        "s1",
        "main",
        "claude-sonnet-4-5",
        1000,
        100,
        Some(0.01),
    ));
    text.push_str(&line(
        "2026-02-03T00:30:00Z",
        "s2",
        "main",
        "claude-opus-4-5",
        2000,
        200,
        Some(0.02),
    ));
    text.push_str(&line(
        "2026-02-03T10:00:00Z",
        "s3",
        "backend",
        "claude-sonnet-4-5",
        3000,
        300,
        Some(0.03),
    ));
    text.push_str(&line(
        "2026-03-01T10:00:00Z",
        "s4",
        "backend",
        "glm-4.7",
        4000,
        400,
        Some(0.04),
    ));
    text
}

#[test]
fn group_keys_are_formatted_in_the_display_zone() {
    let t = TestContext::new();
    t.write_register(&week_register());
    let utc = t.report_json(&["--by", "day"]);
    let days: Vec<_> = utc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["day"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(days, ["2026-02-02", "2026-02-03", "2026-03-01"]);
    // 23:30 UTC on the 2nd is 08:30 on the 3rd in Tokyo.
    let tokyo = t.report_json(&["--by", "day", "--tz", "Asia/Tokyo"]);
    let rows = tokyo["rows"].as_array().unwrap();
    assert_eq!(rows[0]["day"], "2026-02-03");
    assert_eq!(rows[0]["events"], 3);
    assert_eq!(tokyo["period"]["tz"], "Asia/Tokyo");
    let hours = t.report_json(&["--by", "hour", "--tz", "Europe/Berlin"]);
    assert_eq!(hours["rows"][0]["hour"], "2026-02-03T00:00");
    let weeks = t.report_json(&["--by", "week,month"]);
    assert_eq!(
        weeks["rows"][0]["week"], "2026-02-02",
        "weeks start on Monday"
    );
    assert_eq!(weeks["rows"][0]["month"], "2026-02");
    assert_eq!(
        weeks["rows"].as_array().unwrap().last().unwrap()["week"],
        "2026-02-23"
    );
    assert_eq!(
        weeks["rows"].as_array().unwrap().last().unwrap()["month"],
        "2026-03"
    );
}

#[test]
fn the_json_contract_has_every_field() {
    let t = TestContext::new();
    t.write_register(&week_register());
    let report = t.report_json(&[
        "--by",
        "day,model",
        "--since",
        "2026-02-01",
        "--until",
        "2026-02-04",
    ]);
    assert_eq!(report["schema_version"], 1);
    assert!(report["generated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(report["period"]["since"], "2026-02-01T00:00:00Z");
    assert_eq!(report["period"]["until"], "2026-02-04T00:00:00Z");
    assert_eq!(report["group_by"], serde_json::json!(["day", "model"]));
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for key in [
        "day",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_tokens",
        "cost_usd",
        "sessions",
        "events",
    ] {
        assert!(rows[0].get(key).is_some(), "row lacks {key}: {}", rows[0]);
        if !["day", "model"].contains(&key) {
            assert!(report["totals"].get(key).is_some(), "totals lack {key}");
        }
    }
    assert_eq!(report["totals"]["total_tokens"], 1100 + 2200 + 3300);
    assert!(report["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn filters_select_agents_models_sessions_and_tasks() {
    let t = TestContext::new();
    let mut text = week_register();
    text.push_str("{\"timestamp\":\"2026-02-04T00:00:00Z\",\"session_key\":\"s5\",\"agent_id\":\"main\",\"model\":\"anthropic/claude-sonnet-4-5-20250929\",\"tokens_input\":1,\"tokens_output\":1,\"cost\":0,\"task_id\":\"T1\"}\n");
    t.write_register(&text);
    assert_eq!(
        t.report_json(&["--agent", "backend"])["totals"]["events"],
        2
    );
    assert_eq!(
        t.report_json(&["--model", "claude-sonnet-4-5"])["totals"]["events"],
        3
    );
    assert_eq!(
        t.report_json(&["--session", "s1,s2"])["totals"]["events"],
        2
    );
    let by_task = t.report_json(&["--task", "T1", "--by", "task"]);
    assert_eq!(by_task["totals"]["events"], 1);
    assert_eq!(by_task["rows"][0]["task"], "T1");
    assert_eq!(
        t.report_json(&["--since", "2026-03-01"])["totals"]["events"],
        1
    );
}

#[test]
fn text_csv_and_markdown_render_the_same_rows() {
    let t = TestContext::new();
    t.write_register(&week_register());
    let text = t.cmd().args(["report", "--by", "day"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("2026-02-03") && text.contains("5,500") && text.contains('█'),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR output must have no escape codes"
    );
    let csv = String::from_utf8(
        t.cmd()
            .args(["report", "--by", "model", "--format", "csv"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(csv.starts_with("model,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3 + 1, "{csv}");
    let md = String::from_utf8(
        t.cmd()
            .args(["report", "--by", "agent", "--format", "markdown"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(md.contains("| agent") && md.contains("backend"), "{md}");
}

#[test]
fn invalid_report_flags_are_named() {
    let t = TestContext::new();
    t.run(&["report", "--by", "colour"])
        .code(2)
        .stderr(predicate::str::contains("unknown group key \"colour\""));
    t.run(&["report", "--period", "7w"])
        .code(2)
        .stderr(predicate::str::contains("--period"));
    t.run(&["report", "--tz", "Mars/Olympus"])
        .code(2)
        .stderr(predicate::str::contains("Mars/Olympus"));
    t.run(&["report", "--since", "someday"])
        .code(2)
        .stderr(predicate::str::contains("--since"));
}

#[test]
fn an_empty_or_missing_register_reports_zero() {
    let t = TestContext::new();
    let report = t.report_json(&[]);
    assert_eq!(report["totals"]["events"], 0);
    assert_eq!(report["totals"]["cost_usd"], 0.0);
}

#[test]
fn a_register_that_is_a_directory_fails_clearly() {
    let t = TestContext::new();
    std::fs::create_dir_all(t.register_path()).unwrap();
    t.run(&["report"])
        .code(1)
        .stderr(predicate::str::contains("is a directory"));
}

/// Reports trust the key index to skip their duplicate check only while the
/// index says the register holds no duplicate.
#[test]
fn duplicates_appended_by_hand_are_caught_with_or_without_the_index() {
    let t = TestContext::new();
    for key in ["a", "b", "c"] {
        t.run(&["log", key, "main", "m", "10", "1", "0"]).success();
    }
    assert_eq!(t.report_json(&[])["totals"]["events"], 3);
    let mut text = t.register();
    text.push_str(&line(
        "2026-02-05T20:00:00Z",
        "b",
        "main",
        "m",
        99,
        9,
        Some(1.0),
    ));
    t.write_register(&text);
    // The index no longer covers the whole register.
    let report = t.report_json(&[]);
    assert_eq!(report["totals"]["events"], 3);
    assert_eq!(report["totals"]["input_tokens"], 30);
    // `log` indexes the hand-written tail, duplicate included.
    t.run(&["log", "d", "main", "m", "10", "1", "0"]).success();
    let report = t.report_json(&[]);
    assert_eq!(report["totals"]["events"], 4);
    assert_eq!(report["totals"]["input_tokens"], 40);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
}
