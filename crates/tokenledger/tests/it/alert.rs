//! `alert check`: one alert per budget, threshold and period, remembered
//! across runs and safe against concurrent runs.

use crate::common::TestContext;
use crate::mock_http::{MockServer, assert_no_secret, notify_config, run_with_secrets};

/// $0.90 spent against a $1 daily budget: the 80% threshold is crossed.
fn setup(tg: &MockServer, dc: &MockServer, sl: &MockServer, extra: &str) -> TestContext {
    let t = TestContext::new();
    t.write_config(&format!(
        "{}\n[[budget]]\nname = \"daily-usd\"\nperiod = \"day\"\nusd = 1.0\n\n\
         [[budget]]\nname = \"opus-month\"\nperiod = \"month\"\ntokens = 5_000_000\nmodel = \"claude-opus-4-5\"\n\n\
         [alert]\nsend = [\"telegram\", \"slack\"]\n{extra}",
        notify_config(tg, dc, sl)
    ));
    t.run(&[
        "log",
        "s1",
        "main",
        "claude-opus-4-5",
        "12000",
        "3000",
        "0.9",
    ])
    .success();
    t
}

#[test]
fn an_alert_goes_out_once_per_period() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = setup(&tg, &dc, &sl, "");
    let first = run_with_secrets(&t, &["alert", "check"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_no_secret(&first);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("daily-usd: 80% alert sent to telegram"),
        "{stdout}"
    );
    assert!(
        stdout.contains("daily-usd: 80% alert sent to slack"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("opus-month:"),
        "0.3% crosses nothing: {stdout}"
    );
    let sent = tg.requests();
    assert_eq!(sent.len(), 1);
    let text = sent[0].json()["text"].as_str().unwrap().to_string();
    assert!(text.contains("<b>Budget alert: daily-usd</b>"), "{text}");
    assert!(
        text.contains("80% of the daily budget reached")
            || text.contains("80.0% of the daily budget reached"),
        "{text}"
    );
    assert!(text.contains("Spent: $0.9000 of $1.0000 (90.0%)"), "{text}");
    assert!(text.contains("Projected by end of day: $"), "{text}");
    assert_eq!(sl.requests().len(), 1);
    assert!(dc.requests().is_empty(), "discord is not in [alert] send");

    let second = run_with_secrets(&t, &["alert", "check"]);
    assert!(second.status.success());
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("daily-usd: 80% alert already sent"),
        "{stdout}"
    );
    assert_eq!(tg.requests().len(), 1, "nothing new sent");
    assert_eq!(sl.requests().len(), 1);

    // Crossing the next threshold is a new alert.
    t.run(&["log", "s2", "main", "claude-opus-4-5", "100", "100", "0.2"])
        .success();
    let third = run_with_secrets(&t, &["alert", "check"]);
    assert!(
        String::from_utf8_lossy(&third.stdout).contains("daily-usd: 100% alert sent to telegram")
    );
    assert_eq!(tg.requests().len(), 2);
    let text = tg.requests()[1].json()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("over budget"), "{text}");
}

#[test]
fn concurrent_checks_send_once() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = setup(&tg, &dc, &sl, "");
    let spawn = || {
        t.std_cmd()
            .args(["alert", "check", "--send", "telegram"])
            .env("TL_TG", crate::mock_http::TOKEN)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(tg.requests().len(), 1);
}

#[test]
fn dry_run_shows_the_alert_and_remembers_nothing() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = setup(&tg, &dc, &sl, "");
    for _ in 0..2 {
        let out = run_with_secrets(&t, &["alert", "check", "--dry-run"]);
        assert!(out.status.success());
        assert_no_secret(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("daily-usd: 80% alert would be sent to telegram, slack"),
            "{stdout}"
        );
        assert!(stdout.contains("bot<redacted>/sendMessage"), "{stdout}");
    }
    assert!(tg.requests().is_empty() && sl.requests().is_empty());
    assert!(!t.home.join("alert-state.json").exists());
}

#[test]
fn a_failed_channel_is_retried_next_run_and_the_other_is_not() {
    let tg = MockServer::start(
        vec![crate::mock_http::Reply::status(
            400,
            r#"{"ok":false,"description":"Bad Request: chat not found"}"#,
        )],
        crate::mock_http::Reply::ok(r#"{"ok":true}"#),
    );
    let (dc, sl) = (MockServer::webhook(), MockServer::webhook());
    let t = setup(&tg, &dc, &sl, "");
    let first = run_with_secrets(&t, &["alert", "check"]);
    assert_eq!(first.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&first.stderr).contains("chat not found"));
    let second = run_with_secrets(&t, &["alert", "check"]);
    assert!(second.status.success());
    assert_eq!(tg.requests().len(), 2);
    assert_eq!(sl.requests().len(), 1, "slack got it the first time");
}

#[test]
fn invalid_budgets_are_config_errors_naming_the_budget() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = setup(
        &tg,
        &dc,
        &sl,
        "\n[[budget]]\nname = \"broken\"\nperiod = \"day\"\nusd = 1.0\ntokens = 5\n",
    );
    let out = run_with_secrets(&t, &["alert", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[[budget]] \"broken\": set exactly one of usd or tokens"),
        "{stderr}"
    );
}

#[test]
fn the_daily_report_shows_spend_against_budgets() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = setup(&tg, &dc, &sl, "");
    let out = t.cmd().args(["report", "daily"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Budgets\n• daily-usd   $0.9000 of $1.0000 today  90.0%"),
        "{text}"
    );
    let json = t.report_json(&["daily"]);
    let budgets = json["budgets"].as_array().unwrap();
    assert_eq!(budgets.len(), 2);
    assert_eq!(budgets[0]["name"], "daily-usd");
    assert_eq!(budgets[0]["spent"], 0.9);
    assert_eq!(budgets[0]["crossed"], serde_json::json!([0.8]));
    assert_eq!(budgets[1]["unit"], "tokens");
    assert_eq!(budgets[1]["spent"], 15000.0);
    assert_eq!(json["schema_version"], 1);
}
