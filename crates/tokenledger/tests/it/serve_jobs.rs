//! `[server] run_schedules = true`: a schedule due now runs inside the
//! collector over its store, and once per due time even with two
//! collectors on one PostgreSQL database.

use crate::common::TestContext;
use crate::mock_http::{MockServer, SLACK, notify_config};
use crate::serve::Server;
use serde_json::json;
use std::time::{Duration, Instant};
use tokenledger_store_pg::test_support::TestDb;

/// A collector's home: Slack at `sl`, a $1 daily budget, the scheduler off.
fn home(sl: &MockServer) -> TestContext {
    let ctx = TestContext::new();
    scheduler(&ctx, sl, false);
    ctx
}

fn scheduler(ctx: &TestContext, sl: &MockServer, on: bool) {
    let (tg, dc) = (MockServer::telegram(), MockServer::webhook());
    ctx.write_config(&format!(
        "{}\n[server]\nrun_schedules = {on}\n\n\
         [[budget]]\nname = \"daily-usd\"\nperiod = \"day\"\nusd = 1.0\n",
        notify_config(&tg, &dc, sl)
    ));
}

/// Defines `args` as a schedule due this very minute (UTC), for the collector.
fn due_now(ctx: &TestContext, name: &str, args: &[&str]) {
    let at = jiff::Timestamp::now().strftime("%H:%M").to_string();
    let mut argv = vec![
        "schedule",
        "install",
        "--backend",
        "server",
        "--at",
        &at,
        "--tz",
        "UTC",
        "--name",
        name,
        "--",
    ];
    argv.extend_from_slice(args);
    ctx.run(&argv).success();
}

/// $0.90 of Opus spent now, stored through a collector without the scheduler.
fn spend(ctx: &TestContext, store: &[&str]) {
    let server = Server::start_with(ctx, store);
    let now = jiff::Timestamp::now().to_string();
    let body = json!([{
        "timestamp": now, "source": "claude-code", "agent_id": "main", "session": "s1",
        "model": "claude-opus-4-5",
        "tokens": {"input": 12000, "output": 3000, "cache_read": 0, "cache_write_5m": 0,
                   "cache_write_1h": 0, "reasoning": 0},
        "reported_cost": 0.9, "task": null, "project": null, "dedupe_key": "spend-1"
    }]);
    assert_eq!(server.post_events(&body)["accepted"], 1);
    server.stop();
}

/// The scheduler looks back two minutes, so this minute's run is due at start.
fn start(ctx: &TestContext, store: &[&str]) -> Server {
    let from = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120)).to_string();
    let env = [
        ("TL_SL", SLACK),
        ("TOKENLEDGER_SCHEDULE_FROM", from.as_str()),
    ];
    Server::start_env(ctx, "127.0.0.1:0", store, &env)
}

fn wait_for(sl: &MockServer, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sl.requests().len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let bodies: Vec<String> = sl
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies.len() >= count,
        "{count} deliveries expected: {bodies:?}"
    );
    bodies
}

#[test]
fn a_due_digest_and_alert_run_inside_the_collector_over_its_store() {
    let sl = MockServer::webhook();
    let ctx = home(&sl);
    // The spend is stored first, with the scheduler off, so the run sees it.
    spend(&ctx, &[]);
    scheduler(&ctx, &sl, true);
    due_now(&ctx, "digest", &["report", "daily", "--send", "slack"]);
    due_now(&ctx, "alerts", &["alert", "check", "--send", "slack"]);
    let server = start(&ctx, &[]);
    let bodies = wait_for(&sl, 2);
    server.stop();
    let all = bodies.join("\n");
    assert!(all.contains("claude-opus-4-5"), "the digest: {all}");
    assert!(all.contains("Budget alert: daily-usd"), "the alert: {all}");
    // Restarting in the same minute runs nothing again: the runs are claimed.
    let server = start(&ctx, &[]);
    std::thread::sleep(Duration::from_secs(2));
    server.stop();
    assert_eq!(sl.requests().len(), 2, "{:?}", sl.requests());
}

#[test]
fn two_collectors_on_one_database_run_a_job_once() {
    let Some(db) = TestDb::create("serve_jobs_once") else {
        return;
    };
    let store = ["--store", db.url.as_str()];
    let sl = MockServer::webhook();
    let (a, b) = (home(&sl), home(&sl));
    spend(&a, &store);
    for ctx in [&a, &b] {
        scheduler(ctx, &sl, true);
        due_now(ctx, "digest", &["report", "daily", "--send", "slack"]);
    }
    let (first, second) = (start(&a, &store), start(&b, &store));
    let bodies = wait_for(&sl, 1);
    // Both have looked by now; the loser only logs that the run is taken.
    std::thread::sleep(Duration::from_secs(2));
    first.stop();
    second.stop();
    assert_eq!(sl.requests().len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("claude-opus-4-5"), "{}", bodies[0]);
}

#[test]
fn the_server_backend_refuses_a_command_the_collector_cannot_run() {
    let ctx = TestContext::new();
    ctx.run(&[
        "schedule",
        "install",
        "--backend",
        "server",
        "--at",
        "09:00",
        "--tz",
        "UTC",
        "--",
        "sync",
    ])
    .code(2)
    .stderr(predicates::str::contains(
        "only `report daily …` and `alert check …`",
    ));
    assert!(
        !ctx.home.join("schedules.toml").exists(),
        "a refused schedule is not saved"
    );
}
