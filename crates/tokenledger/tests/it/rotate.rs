use crate::common::{TestContext, all_entry_lines, line};

fn three_months() -> String {
    let mut text = String::from("# Token Usage Register (JSONL)\n");
    text.push_str(&line(
        "2025-11-03T10:00:00Z",
        "nov-1",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    text.push_str(&line(
        "2025-11-20T10:00:00Z",
        "nov-2",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    text.push_str("{broken line\n");
    text.push_str(&line(
        "2025-12-31T23:59:59Z",
        "dec-1",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    text.push_str(&line(
        "2026-01-01T00:00:00Z",
        "jan-1",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    text.push_str(&line(
        &crate::common::hours_ago(1),
        "now-1",
        "main",
        "claude-sonnet-4-5",
        100,
        10,
        Some(0.1),
    ));
    text
}

#[test]
fn rotation_archives_by_month_keeps_comments_and_broken_lines_and_reports_read_archives() {
    let t = TestContext::new();
    t.write_register(&three_months());
    let before = t.report_json(&["--by", "month"]);
    let original = all_entry_lines(&t.home);
    t.run(&["rotate", "--keep-months", "2"]).success();
    for month in ["2025-11", "2025-12", "2026-01"] {
        assert!(
            t.home
                .join(format!("token-usage-register-{month}.jsonl.gz"))
                .exists(),
            "{month}"
        );
    }
    let live = t.register();
    assert!(
        live.starts_with("# Token Usage Register (JSONL)\n{broken line\n"),
        "{live}"
    );
    assert!(live.contains("now-1"));
    assert_eq!(all_entry_lines(&t.home), original);
    // Reports reach into the archives transparently.
    let after = t.report_json(&["--by", "month"]);
    assert_eq!(after["rows"], before["rows"]);
    assert_eq!(after["totals"], before["totals"]);
    // A second run changes nothing; logging a rotated key is still a duplicate.
    t.run(&["rotate", "--keep-months", "2"]).success();
    assert_eq!(all_entry_lines(&t.home), original);
    t.run(&["log", "nov-1", "main", "m", "1", "1", "0"])
        .success()
        .stdout(predicates::str::contains("already logged"));
}

#[test]
fn rotating_again_appends_a_new_gzip_member() {
    let t = TestContext::new();
    t.write_register(&line(
        "2025-11-03T10:00:00Z",
        "a",
        "main",
        "m",
        1,
        1,
        Some(0.0),
    ));
    t.run(&["rotate"]).success();
    let mut text = t.register();
    text.push_str(&line(
        "2025-11-04T10:00:00Z",
        "b",
        "main",
        "m",
        1,
        1,
        Some(0.0),
    ));
    t.write_register(&text);
    t.run(&["rotate"]).success();
    let lines = all_entry_lines(&t.home);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        t.report_json(&["--since", "2025-11-01", "--until", "2025-12-01"])["totals"]["events"],
        2
    );
}

#[test]
fn keep_months_zero_is_refused() {
    let t = TestContext::new();
    t.run(&["rotate", "--keep-months", "0"]).code(2);
}
