//! SIGKILL at random instants on the write paths the other crash tests do
//! not reach: CLEO's `session`/`track` records and the `--remote` spool.
//! After the kills and a restart, counting shows every acknowledged record
//! exactly once and nothing twice.

use crate::common::TestContext;
use crate::serve::Server;
use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::Duration;

/// Runs `spawn` for 4 writers per round, kills every other one after a
/// varying delay, and returns the labels of the writers that succeeded.
fn kill_rounds(
    rounds: u64,
    mut spawn: impl FnMut(u64, u64) -> (String, Child),
    acknowledged: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut acked = Vec::new();
    for round in 0..rounds {
        let children: Vec<_> = (0..4).map(|p| spawn(round, p)).collect();
        std::thread::sleep(Duration::from_micros((round * 1_931) % 6_000));
        for (i, (label, mut child)) in children.into_iter().enumerate() {
            if (round + i as u64).is_multiple_of(2) {
                let _ = child.kill();
            }
            let out = child.wait_with_output().unwrap();
            if out.status.success() && acknowledged(&String::from_utf8_lossy(&out.stdout)) {
                acked.push(label);
            }
        }
    }
    acked
}

/// Each label's count among `labels`: nothing may appear twice, and every
/// acknowledged label must appear once.
fn assert_once(labels: impl Iterator<Item = String>, acked: &[String]) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for label in labels {
        *counts.entry(label).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "stored twice: {doubled:?}");
    for label in acked {
        assert_eq!(
            counts.get(label),
            Some(&1),
            "acknowledged {label} is missing"
        );
    }
    assert!(
        !acked.is_empty(),
        "no writer finished: the test proves nothing"
    );
}

/// Every line of a CLEO metrics file parsed: a torn line fails the test.
fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}")))
        .collect()
}

#[test]
fn cleo_writers_killed_at_random_instants_keep_every_acknowledged_record_once() {
    let t = TestContext::new();
    let project = t.dir.path().join("proj");
    std::fs::create_dir_all(project.join(".cleo")).unwrap();
    let metrics = project.join(".cleo/metrics");
    let spawn = |args: Vec<String>| {
        t.std_cmd()
            .args(args)
            .current_dir(&project)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    let sessions = kill_rounds(
        25,
        |round, p| {
            let id = format!("session_20261123_1200{round:02}_{p:06}");
            let child = spawn(vec![
                "session".into(),
                "start".into(),
                "--id".into(),
                id.clone(),
            ]);
            (id, child)
        },
        |out| out.contains("started"),
    );
    let started = records(&metrics.join("SESSIONS.jsonl"));
    assert_once(
        started
            .iter()
            .map(|r| r["session_id"].as_str().unwrap().to_string()),
        &sessions,
    );

    let tasks = kill_rounds(
        25,
        |round, p| {
            let task = format!("T{round}{p:02}");
            let args = [
                "track",
                "spawn-start",
                "--session",
                "s-kill",
                "--task",
                &task,
            ];
            let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            args.extend(["--prompt".into(), format!("work on {task} ").repeat(50)]);
            (task, spawn(args))
        },
        |_| true,
    );
    let tracked = records(&metrics.join("TOKEN_USAGE.jsonl"));
    assert_once(
        tracked
            .iter()
            .map(|r| r["task_id"].as_str().unwrap().to_string()),
        &tasks,
    );
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[test]
fn spooling_and_delivering_killed_at_random_instants_loses_and_doubles_nothing() {
    let agent = TestContext::new();
    let collector = TestContext::new();
    let address = free_address();
    let url = format!("http://{address}");
    let log = |key: &str| {
        agent
            .std_cmd()
            .args(["log", "--remote", &url, "--session", key, "--agent", "ci"])
            .args([
                "--model",
                "claude-sonnet-4-5",
                "--input",
                "7",
                "--output",
                "3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The collector is down: acknowledged entries are spooled.
    let mut acked = kill_rounds(
        20,
        |round, p| {
            let key = format!("down-{round}-{p}");
            let child = log(&key);
            (key, child)
        },
        |out| out.contains("spooled"),
    );
    // The collector is up: each call delivers the spool, then its entry;
    // killed between a post and removing the delivered file, the batch is
    // sent again later and the collector counts it once.
    let server = Server::start_on(&collector, &address, &[]);
    acked.extend(kill_rounds(
        20,
        |round, p| {
            let key = format!("up-{round}-{p}");
            let child = log(&key);
            (key, child)
        },
        |out| out.contains("Logged session"),
    ));
    agent.run(&["sync", "--remote", &url]).success();
    let spool = agent.home.join("spool");
    let left: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".ndjson"))
        .collect();
    assert!(left.is_empty(), "undelivered batches: {left:?}");

    let report = server.report("by=session");
    let rows = report["rows"].as_array().unwrap();
    for row in rows {
        assert_eq!(row["input_tokens"], 7, "a session counted twice: {row}");
    }
    assert_once(
        rows.iter()
            .map(|r| r["session"].as_str().unwrap().to_string()),
        &acked,
    );
}
