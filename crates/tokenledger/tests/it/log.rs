use crate::common::{TestContext, line, make_read_only, undo_read_only};
use predicates::prelude::*;

const FIXED: &str = "--timestamp=2026-02-06T00:23:00Z";

#[test]
fn the_seeds_manual_test_writes_the_seeds_line() {
    let t = TestContext::new();
    t.run(&["log", "test-001", "main", "anthropic/claude-sonnet-4-5", "1000", "500", "0.0075"])
        .success()
        .stdout(
            "✅ Logged session test-001 to token register\n   Model: anthropic/claude-sonnet-4-5 | Tokens: 1000 in, 500 out | Cost: $0.0075\n",
        );
    let register = t.register();
    let re = regex_lite(&register);
    assert!(re, "unexpected line: {register}");
}

/// `{"timestamp":"YYYY-MM-DDTHH:MM:SSZ","session_key":"test-001",...}` with nothing else on the line.
fn regex_lite(register: &str) -> bool {
    let Some(rest) = register.strip_prefix("{\"timestamp\":\"") else {
        return false;
    };
    let (ts, rest) = rest.split_at(20);
    ts.parse::<jiff::Timestamp>().is_ok()
        && ts.ends_with('Z')
        && rest
            == "\",\"session_key\":\"test-001\",\"agent_id\":\"main\",\"model\":\"anthropic/claude-sonnet-4-5\",\"tokens_input\":1000,\"tokens_output\":500,\"cost\":0.0075}\n"
}

#[test]
fn named_form_writes_optional_keys_after_the_seeds_keys() {
    let t = TestContext::new();
    t.run(&[
        "log",
        "--session",
        "s-1",
        "--agent",
        "backend",
        "--model",
        "claude-opus-4-5",
        "--input",
        "100",
        "--output",
        "20",
        "--cache-read",
        "1000",
        "--cache-write",
        "50",
        "--task",
        "T1234",
        "--project",
        "/src/app",
        "--cost",
        "0.5",
        FIXED,
    ])
    .success();
    assert_eq!(
        t.register(),
        "{\"timestamp\":\"2026-02-06T00:23:00Z\",\"session_key\":\"s-1\",\"agent_id\":\"backend\",\"model\":\"claude-opus-4-5\",\"tokens_input\":100,\"tokens_output\":20,\"cost\":0.5,\"tokens_cache_read\":1000,\"tokens_cache_write\":50,\"task_id\":\"T1234\",\"project\":\"/src/app\"}\n"
    );
}

#[test]
fn seed_defaults_apply_to_missing_positionals() {
    let t = TestContext::new();
    t.run(&["log", "only-key", FIXED]).success();
    assert_eq!(
        t.register(),
        "{\"timestamp\":\"2026-02-06T00:23:00Z\",\"session_key\":\"only-key\",\"agent_id\":\"main\",\"model\":\"unknown\",\"tokens_input\":0,\"tokens_output\":0}\n"
    );
}

#[test]
fn omitted_cost_is_computed_from_the_price_table() {
    let t = TestContext::new();
    t.run(&[
        "log",
        "s-1",
        "main",
        "anthropic/claude-sonnet-4-5-20250929",
        "1000",
        "500",
        FIXED,
    ])
    .success()
    .stdout(predicate::str::contains("Cost: $0.0105"));
    assert!(
        t.register()
            .contains("\"tokens_output\":500,\"cost\":0.0105}"),
        "{}",
        t.register()
    );
}

#[test]
fn an_unknown_model_is_left_unpriced_not_zero() {
    let t = TestContext::new();
    t.run(&[
        "log",
        "s-1",
        "main",
        "mystery-model-9",
        "1000",
        "500",
        FIXED,
    ])
    .success()
    .stdout(predicate::str::contains("Cost: unpriced"))
    .stderr(predicate::str::contains("unpriced"));
    assert!(!t.register().contains("\"cost\""), "{}", t.register());
}

#[test]
fn strings_are_json_escaped() {
    let t = TestContext::new();
    t.run(&[
        "log",
        "k\"ey\\with\nnewline",
        "ag\tent",
        "m",
        "1",
        "2",
        "0",
        FIXED,
    ])
    .success();
    let register = t.register();
    assert_eq!(register.lines().count(), 1);
    let value: serde_json::Value = serde_json::from_str(register.trim_end()).unwrap();
    assert_eq!(value["session_key"], "k\"ey\\with\nnewline");
    assert_eq!(value["agent_id"], "ag\tent");
}

#[test]
fn a_duplicate_session_key_is_skipped_with_the_seeds_message() {
    let t = TestContext::new();
    t.run(&["log", "dup", "main", "glm-4.7", "1", "2", "0.1"])
        .success();
    t.run(&["log", "dup", "main", "glm-4.7", "1", "2", "0.1"])
        .success()
        .stdout("⚠️  Session dup already logged, skipping\n");
    t.run(&["log", "dup", "main", "glm-4.7", "1", "2", "0.1", "--strict"])
        .code(1)
        .stdout(predicate::str::contains("already logged"));
    assert_eq!(t.register().lines().count(), 1);
}

#[test]
fn duplicates_are_found_in_lines_appended_by_hand_and_regex_keys_are_literal() {
    let t = TestContext::new();
    t.run(&["log", "first", "main", "m", "1", "1", "0"])
        .success();
    // An agent following AGENTS.md appends with `cat >>`, bypassing tokenledger.
    let mut text = t.register();
    text.push_str(&line(
        "2026-02-05T20:00:00Z",
        "by.hand",
        "main",
        "m",
        1,
        1,
        Some(0.0),
    ));
    text.push_str("# a comment mentioning \"session_key\":\"commented\"\n");
    t.write_register(&text);
    t.run(&["log", "by.hand", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("already logged"));
    // The seed's grep would match `byXhand` against `by.hand`, and the comment line.
    t.run(&["log", "byXhand", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("Logged session"));
    t.run(&["log", "commented", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("Logged session"));
    assert_eq!(
        t.register().lines().filter(|l| l.starts_with('{')).count(),
        4
    );
}

#[test]
fn a_last_line_without_newline_is_not_glued_to_ours() {
    let t = TestContext::new();
    t.write_register(line("2026-02-05T20:00:00Z", "a", "main", "m", 1, 1, Some(0.0)).trim_end());
    t.run(&["log", "b", "main", "m", "1", "1", "0"]).success();
    let register = t.register();
    assert_eq!(register.lines().count(), 2);
    assert!(
        register
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{register}"
    );
}

#[test]
fn bad_input_is_refused_with_a_named_error_and_an_untouched_register() {
    let t = TestContext::new();
    t.run(&["log", "keep", "main", "m", "1", "1", "0", FIXED])
        .success();
    let before = t.register();
    let cases: &[(&[&str], &str)] = &[
        (&["log", "s", "main", "m", "-5", "1"], "negative"),
        (&["log", "s", "main", "m", "15k", "1"], "not a whole number"),
        (&["log", "s", "main", "m", "1", "abc"], "not a whole number"),
        (&["log", "s", "main", "m", "1", "1", "NaN"], "cost"),
        (&["log", "s", "main", "m", "1", "1", "-0.5"], "negative"),
        (&["log", "s", "main", "m", "1", "1", "inf"], "cost"),
        (&["log", "", "main", "m", "1", "1"], "session key is empty"),
        (
            &["log", "--session", " ", "--input", "1"],
            "session key is empty",
        ),
        (&["log", "s", "--timestamp", "yesterday"], "--timestamp"),
    ];
    for (args, needle) in cases {
        let out = t.cmd().args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: not one line: {stderr}"
        );
        assert_eq!(t.register(), before, "{args:?} touched the register");
    }
}

#[test]
fn best_effort_turns_failures_into_warnings() {
    let t = TestContext::new();
    t.run(&["log", "s", "main", "m", "-5", "1", "--best-effort"])
        .success()
        .stderr(predicate::str::contains("warning").and(predicate::str::contains("negative")));
    assert_eq!(t.register(), "");
}

#[test]
fn a_register_that_is_a_directory_is_an_error() {
    let t = TestContext::new();
    std::fs::create_dir_all(t.register_path()).unwrap();
    t.run(&["log", "s", "main", "m", "1", "1", "0"])
        .code(1)
        .stderr(predicate::str::contains("is a directory"));
    t.run(&["log", "s", "main", "m", "1", "1", "0", "--best-effort"])
        .success();
}

#[test]
fn a_read_only_register_is_an_error_and_stays_untouched() {
    let t = TestContext::new();
    t.run(&["log", "keep", "main", "m", "1", "1", "0"])
        .success();
    let before = t.register();
    make_read_only(&t.register_path());
    let out = t
        .cmd()
        .args(["log", "s", "main", "m", "1", "1", "0"])
        .output()
        .unwrap();
    undo_read_only(&t.register_path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert_eq!(t.register(), before);
}

#[test]
fn the_dedupe_index_is_rebuilt_when_deleted_or_stale() {
    let t = TestContext::new();
    for i in 0..50 {
        t.run(&["log", &format!("s{i}"), "main", "m", "1", "1", "0"])
            .success();
    }
    std::fs::remove_file(t.home.join("token-usage-register.jsonl.idx")).unwrap();
    t.run(&["log", "s7", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("already logged"));
    // Replace the register with different content: the index must not trust its old offsets.
    t.write_register(&line(
        "2026-02-05T20:00:00Z",
        "other",
        "main",
        "m",
        1,
        1,
        None,
    ));
    t.run(&["log", "s7", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("Logged session"));
    t.run(&["log", "other", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicate::str::contains("already logged"));
}
