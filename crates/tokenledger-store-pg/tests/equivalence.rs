//! The PostgreSQL store's reports equal the core engine's over the same
//! events: groupings, filters, windows, time zones and the merge rule.

mod common;

use common::{assert_same, events, first_per_identity, reference};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{Prefer, ReportSpec};
use tokenledger_store_pg::PgStore;
use tokenledger_store_pg::test_support::TestDb;

fn spec(groupings: &[&str], tz: &str) -> ReportSpec {
    ReportSpec {
        window: TimeWindow::ALL,
        filters: Filters::default(),
        tz: TimeZone::get(tz).expect("zone"),
        tz_name: tz.to_string(),
        groupings: groupings
            .iter()
            .map(|g| GroupKey::parse_list(g).expect("keys"))
            .collect(),
        prefer: Prefer::Log,
    }
}

#[test]
fn reports_equal_the_core_engine() {
    let Some(db) = TestDb::create("equivalence") else {
        return;
    };
    let store = PgStore::connect(&db.url).expect("connect");
    let all = events(3_000, 7);
    let inserted = store.insert(&all).expect("insert");
    assert_eq!(inserted.accepted + inserted.duplicates, all.len() as u64);
    // The same batch again stores nothing.
    let again = store.insert(&all).expect("insert again");
    assert_eq!(again.accepted, 0);
    // The reference sees each identity once, as the store does.
    let stored = first_per_identity(&all);
    assert_eq!(inserted.accepted, stored.len() as u64);

    let now: Timestamp = "2026-03-01T00:00:00Z".parse().expect("now");
    let mut specs = vec![
        ("day+model, UTC", spec(&["day", "model"], "UTC")),
        (
            "several groupings, Berlin",
            spec(
                &["model", "agent", "hour", "week,source", "month,agent_kind"],
                "Europe/Berlin",
            ),
        ),
        (
            "session+task+project, Kolkata",
            spec(&["session,task,project"], "Asia/Kolkata"),
        ),
        (
            "day and agent kind by model, Los Angeles",
            spec(&["day", "agent_kind,model"], "America/Los_Angeles"),
        ),
    ];
    let mut register_first = spec(&["session", "source,model"], "UTC");
    register_first.prefer = Prefer::Register;
    specs.push(("prefer register", register_first));
    let mut filtered = spec(&["model,task", "agent"], "Europe/Berlin");
    filtered.filters = Filters {
        agents: vec!["backend".into(), "main".into()],
        models: vec!["claude-sonnet-4-5".into()],
        tasks: vec!["T1".into(), "T2".into()],
        sessions: Vec::new(),
    };
    specs.push(("filters", filtered));
    let mut windowed = spec(&["day,model"], "Asia/Tokyo");
    windowed.window = TimeWindow {
        since: Some("2025-12-20T13:17:00.123456789Z".parse().expect("since")),
        until: Some("2026-01-31T15:00:00.000000001Z".parse().expect("until")),
    };
    windowed.filters.sessions = vec!["s-3".into(), "s-4".into(), "s-5".into()];
    specs.push(("window + sessions", windowed));
    let mut empty = spec(&["day"], "UTC");
    empty.window.since = Some("2030-01-01T00:00:00Z".parse().expect("since"));
    specs.push(("empty window", empty));

    for (label, spec) in specs {
        let expected = reference(&stored, &spec, now);
        let actual = store
            .report(&spec, PriceTable::embedded(), now)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_same(label, &expected, &actual);
    }
}

#[test]
fn a_fixed_offset_zone_groups_like_the_core() {
    let Some(db) = TestDb::create("fixed_offset") else {
        return;
    };
    let store = PgStore::connect(&db.url).expect("connect");
    let all = first_per_identity(&events(500, 11));
    store.insert(&all).expect("insert");
    let mut spec = spec(&["hour", "day"], "UTC");
    spec.tz = TimeZone::fixed(jiff::tz::offset(-3));
    spec.tz_name = "-03:00".into();
    let now = Timestamp::UNIX_EPOCH;
    let expected = reference(&all, &spec, now);
    let actual = store
        .report(&spec, PriceTable::embedded(), now)
        .expect("report");
    assert_same("fixed -03:00", &expected, &actual);
}
