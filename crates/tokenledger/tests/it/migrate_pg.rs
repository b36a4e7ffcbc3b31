//! `tokenledger migrate --to postgres://…` against a real PostgreSQL
//! (TOKENLEDGER_TEST_PG; `source .ci/postgres.sh`): the home's history is
//! copied once, and the store's report renders as the CLI's does.

use crate::common::{TestContext, line};
use std::path::{Path, PathBuf};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{Prefer, ReportSpec};
use tokenledger_store_pg::PgStore;
use tokenledger_store_pg::test_support::TestDb;

/// A private copy of the Claude Code fixture logs, synced into the ledger.
fn claude_logs(t: &TestContext) -> PathBuf {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tokenledger-sources/tests/fixtures/claude_code/home/.claude");
    let root = t.dir.path().join("claude");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(&fixture)
        .arg(&root)
        .status()
        .unwrap();
    assert!(copied.success());
    root
}

fn run(t: &TestContext, logs: &Path, args: &[&str]) -> String {
    let out = t
        .std_cmd()
        .env("CLAUDE_CONFIG_DIR", logs)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn migrate_copies_the_history_once_and_the_store_reports_as_the_cli() {
    let Some(db) = TestDb::create("cli_migrate") else {
        return;
    };
    let t = TestContext::new();
    let logs = claude_logs(&t);
    let mut register = String::new();
    for (i, month) in ["2025-03", "2025-04", "2025-05"].iter().enumerate() {
        let ts = format!("{month}-1{i}T23:30:00Z");
        let model = "anthropic/claude-sonnet-4-5";
        register += &line(&ts, &format!("old-{i}"), "main", model, 1000, 200, None);
    }
    register += &line(
        "2099-01-02T08:00:00Z",
        "late",
        "backend",
        "gpt-5",
        40,
        9,
        Some(0.5),
    );
    t.write_register(&register);
    // Old entries rotated into monthly archives, agent logs into the ledger.
    run(&t, &logs, &["rotate", "--keep-months", "1"]);
    let archives = std::fs::read_dir(&t.home)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".jsonl.gz")
        })
        .count();
    assert!(archives >= 3, "rotation made archives");
    run(&t, &logs, &["sync"]);
    assert!(t.home.join("ledger.jsonl").is_file());

    let first = run(
        &t,
        &logs,
        &["migrate", "--to", &db.url, "--batch-size", "7"],
    );
    let last = first.lines().last().unwrap();
    assert!(last.contains(" accepted, 0 duplicates"), "{first}");
    assert!(!last.contains(": 0 accepted"), "{first}");
    assert!(first.contains("register: 4 accepted"), "{first}");
    let second = run(&t, &logs, &["migrate", "--to", &db.url]);
    assert!(
        second.lines().last().unwrap().contains(": 0 accepted,"),
        "a second run copies nothing new: {second}"
    );

    let store = PgStore::connect(&db.url).unwrap();
    for (by, tz) in [
        ("day,model", "Europe/Berlin"),
        ("agent_kind,session", "UTC"),
    ] {
        let cli: serde_json::Value = serde_json::from_str(&run(
            &t,
            &logs,
            &["report", "--format", "json", "--by", by, "--tz", tz],
        ))
        .unwrap();
        let spec = ReportSpec {
            window: TimeWindow::ALL,
            filters: Filters::default(),
            tz: jiff::tz::TimeZone::get(tz).unwrap(),
            tz_name: tz.into(),
            groupings: vec![GroupKey::parse_list(by).unwrap()],
            prefer: Prefer::default(),
        };
        let data = store
            .report(&spec, PriceTable::embedded(), jiff::Timestamp::now())
            .unwrap();
        let pg: serde_json::Value =
            serde_json::from_str(&tokenledger_render::json::render(&data)).unwrap();
        assert!(cli["totals"]["events"].as_u64().unwrap() > 4);
        for part in ["rows", "totals", "group_by"] {
            assert_close(&cli[part], &pg[part], &format!("--by {by}: {part}"));
        }
    }
}

/// Equal JSON, numbers to 1e-9 relative: costs are summed in another order.
fn assert_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-6),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: {a} vs {b}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{at}");
            for (k, v) in x {
                assert_close(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}
