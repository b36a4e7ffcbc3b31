//! `report daily --send`: payloads, splitting, escaping, retries, failures
//! and secrets, against local servers standing in for the real APIs.

use crate::common::{TestContext, hours_ago, line};
use crate::mock_http::{
    MockServer, Recorded, Reply, TOKEN, assert_no_secret, notify_config, run_with_secrets,
};

fn messages(server: &MockServer, suffix: &str) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(suffix))
        .collect()
}

fn hostile(t: &TestContext) {
    for (key, agent, model) in [
        ("s1", "<b>boss</b>", "claude-opus-4-5"),
        ("s2", "*star* `tick` 🤖", "<b>model&co"),
    ] {
        t.run(&["log", key, agent, model, "1000", "500", "0.01"])
            .success();
    }
}

#[test]
fn hostile_names_are_escaped_for_each_channel_and_no_secret_shows() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let out = run_with_secrets(&t, &["report", "daily", "--send", "telegram,discord,slack"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_secret(&out);
    // The report was printed locally as well.
    assert!(String::from_utf8_lossy(&out.stdout).contains("<b>boss</b>"));

    let sent = messages(&tg, "/sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/bot{TOKEN}/sendMessage"));
    let body = sent[0].json();
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["chat_id"], -100777);
    assert_eq!(body["message_thread_id"], 9);
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("&lt;b&gt;boss&lt;/b&gt;"), "{text}");
    assert!(text.contains("&lt;b&gt;model&amp;co"), "{text}");
    assert!(text.contains("*star* `tick` 🤖"), "{text}");
    assert!(!text.contains("<b>boss"), "{text}");
    // The chart goes as a photo upload.
    let photos = messages(&tg, "/sendPhoto");
    assert_eq!(photos.len(), 1);
    assert!(
        photos[0]
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data")
    );
    assert!(photos[0].body.windows(4).any(|w| w == b"\x89PNG"));

    let discord = dc.requests();
    assert_eq!(discord[0].path, "/api/webhooks/111/DISCORDSECRET?wait=true");
    let content = discord[0].json()["content"].as_str().unwrap().to_string();
    assert!(content.contains("\\*star\\* \\`tick\\` 🤖"), "{content}");
    assert!(content.contains("\\<b\\>boss\\</b\\>"), "{content}");
    assert_eq!(
        discord[0].json()["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    assert!(
        discord
            .iter()
            .any(|r| r.body.windows(4).any(|w| w == b"\x89PNG"))
    );

    let slack = sl.requests();
    assert_eq!(slack.len(), 1, "Slack webhooks take no files");
    let mrkdwn = slack[0].json()["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(mrkdwn.contains("&lt;b&gt;boss&lt;/b&gt;"), "{mrkdwn}");
    assert!(mrkdwn.contains("&lt;b&gt;model&amp;co"), "{mrkdwn}");
}

#[test]
fn three_hundred_agents_become_several_messages_with_every_row() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    let mut register = String::new();
    for i in 0..300 {
        let agent = format!("agent-{i:03}-worker");
        register.push_str(&line(
            &hours_ago(2),
            &format!("s{i}"),
            &agent,
            "glm-4.7",
            100 + i,
            10,
            Some(0.01),
        ));
    }
    t.write_register(&register);
    let out = run_with_secrets(&t, &["report", "daily", "--send", "telegram,discord,slack"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (server, suffix, limit, field) in [
        (&tg, "/sendMessage", 4096, "/text"),
        (&dc, "wait=true", 2000, "/content"),
        (&sl, "SLACKSECRET", 3000, "/blocks/0/text/text"),
    ] {
        let texts: Vec<String> = messages(server, suffix)
            .iter()
            .filter_map(|r| {
                r.json()
                    .pointer(field)
                    .and_then(|v| v.as_str())
                    .map(String::from)
            })
            .collect();
        assert!(texts.len() >= 2, "{field}: {} messages", texts.len());
        for text in &texts {
            assert!(
                text.encode_utf16().count() <= limit,
                "{field}: over {limit}"
            );
        }
        for i in 0..300 {
            let agent = format!("agent-{i:03}-worker");
            let holding = texts.iter().filter(|t| t.contains(&agent)).count();
            assert_eq!(holding, 1, "{agent} in {holding} {field} messages");
        }
    }
}

#[test]
fn a_429_is_retried_after_retry_after() {
    let tg = MockServer::start(
        vec![
            Reply::status(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests"}"#,
            )
            .header("Retry-After", "1"),
        ],
        Reply::ok(r#"{"ok":true}"#),
    );
    let (dc, sl) = (MockServer::webhook(), MockServer::webhook());
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let started = std::time::Instant::now();
    let out = run_with_secrets(&t, &["report", "daily", "--send", "telegram"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let sent = messages(&tg, "/sendMessage");
    assert_eq!(sent.len(), 2, "the 429 and the retry");
    assert_eq!(sent[0].body, sent[1].body);
}

#[test]
fn a_5xx_is_retried_with_backoff() {
    let dc = MockServer::start(vec![Reply::status(503, "busy")], Reply::ok(""));
    let (tg, sl) = (MockServer::telegram(), MockServer::webhook());
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let out = run_with_secrets(&t, &["report", "daily", "--send", "discord"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let texts = messages(&dc, "wait=true");
    assert_eq!(texts[0].body, texts[1].body, "the same message again");
    assert!(tg.requests().is_empty() && sl.requests().is_empty());
}

#[test]
fn a_failing_channel_is_named_and_the_others_still_receive() {
    let dc = MockServer::start(
        vec![],
        Reply::status(404, r#"{"message":"Unknown Webhook","code":10015}"#),
    );
    let (tg, sl) = (MockServer::telegram(), MockServer::webhook());
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let out = run_with_secrets(&t, &["report", "daily", "--send", "discord,telegram,slack"]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_secret(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("delivery to discord failed"), "{stderr}");
    assert!(
        stderr.contains("Unknown Webhook") && stderr.contains("404"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DAILY TOKEN USAGE REPORT"));
    assert_eq!(dc.requests().len(), 1, "a 404 is not retried");
    assert!(!messages(&tg, "/sendMessage").is_empty());
    assert_eq!(sl.requests().len(), 1);
}

#[test]
fn dry_run_prints_redacted_payloads_and_sends_nothing() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let out = run_with_secrets(
        &t,
        &[
            "report",
            "daily",
            "--send",
            "telegram,discord,slack",
            "--dry-run",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_secret(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("POST {}/bot<redacted>/sendMessage", tg.url)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("POST {}/<redacted>", dc.url)),
        "{stdout}"
    );
    assert!(stdout.contains("\"parse_mode\": \"HTML\""), "{stdout}");
    assert!(stdout.contains("cannot upload files"), "{stdout}");
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(tg.requests().is_empty() && dc.requests().is_empty() && sl.requests().is_empty());
}

#[test]
fn a_missing_secret_is_a_config_error_after_the_report_is_printed() {
    let (tg, dc, sl) = (
        MockServer::telegram(),
        MockServer::webhook(),
        MockServer::webhook(),
    );
    let t = TestContext::new();
    t.write_config(&notify_config(&tg, &dc, &sl));
    hostile(&t);
    let out = t
        .cmd()
        .args(["report", "daily", "--send", "telegram"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TL_TG") && stderr.contains("bot_token_env"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DAILY TOKEN USAGE REPORT"));
    let bad = t
        .cmd()
        .args(["report", "daily", "--send", "email"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown channel \"email\""));
}

#[test]
fn openclaw_runs_message_send_with_the_text() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestContext::new();
    hostile(&t);
    let args_file = t.dir.path().join("args.txt");
    let fake = t.dir.path().join("openclaw");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n--\\n' \"$a\"; done >> '{}'\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = t
        .cmd()
        .args([
            "report",
            "daily",
            "--send",
            "openclaw:telegram:-100123:topic:42",
        ])
        .env("TOKENLEDGER_OPENCLAW_BIN", &fake)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(
        args.starts_with("message\n--\nsend\n--\n--channel\n--\ntelegram\n--\n--target\n--\n-100123:topic:42\n--\n--message\n--\n📊 DAILY TOKEN USAGE REPORT\n"),
        "{args}"
    );
    assert!(
        args.contains("<b>boss</b>"),
        "plain text, unescaped: {args}"
    );
    assert!(args.contains("--media\n--\n"), "the chart as media: {args}");
}
