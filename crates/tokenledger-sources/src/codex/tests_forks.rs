//! Forks and subagents replaying their parent's history
//! (`tests/fixtures/codex_forks`, written by hand from the shapes in the
//! agent-log reference): each billed request counts once, in the rollout
//! that made it.

use super::CodexSource;
use std::path::{Path, PathBuf};
use tokenledger_core::event::{TokenCounts, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};

const PARENT: &str = "019e8269-4e80-7000-8000-000000000001";
/// Forked at 14:00 on June 2nd; embeds the parent's `session_meta`, replays
/// its three turns re-stamped to the fork's creation, turn ids throughout.
const FORK: &str = "019e88a2-5300-7000-8000-000000000002";
/// A spawned subagent of an older build: no turn ids, the replay keeps the
/// parent's own times but the last copy, re-stamped to the spawn.
const SUBAGENT: &str = "019e88d9-4180-7000-8000-000000000003";
/// A subagent that starts fresh, its first request within a second.
const FRESH: &str = "019e8c7f-1800-7000-8000-000000000004";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex_forks")
}

fn scan(window: &TimeWindow) -> (Vec<UsageEvent>, SourceScan) {
    let mut events = Vec::new();
    let scan = CodexSource::with_roots(vec![fixture()])
        .scan(window, &mut |e| events.push(e.clone()))
        .unwrap();
    (events, scan)
}

fn sum_of(events: &[UsageEvent], session: &str) -> TokenCounts {
    let mut total = TokenCounts::default();
    for e in events.iter().filter(|e| &*e.session == session) {
        total.add(&e.tokens);
    }
    total
}

fn tokens(input: u64, cache_read: u64, output: u64, reasoning: u64) -> TokenCounts {
    TokenCounts {
        input,
        cache_read,
        output,
        reasoning,
        ..TokenCounts::default()
    }
}

#[test]
fn replayed_parent_turns_count_only_in_the_parent() {
    let (events, scan) = scan(&TimeWindow::ALL);
    assert_eq!(sum_of(&events, PARENT), tokens(1800, 4200, 600, 70));
    // Own turns only, measured from the inherited running total.
    assert_eq!(sum_of(&events, FORK), tokens(700, 800, 100, 0));
    assert_eq!(sum_of(&events, SUBAGENT), tokens(300, 100, 40, 0));
    assert_eq!(sum_of(&events, FRESH), tokens(100, 0, 10, 0));
    assert_eq!(events.len(), 3 + 2 + 1 + 1);
    // 4 fork copies (one a re-emission) and 3 subagent copies.
    assert_eq!(scan.duplicates, 7);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
}

#[test]
fn the_fork_keeps_its_own_identity_and_models() {
    let (events, _) = scan(&TimeWindow::ALL);
    let fork: Vec<_> = events.iter().filter(|e| &*e.session == FORK).collect();
    // The embedded parent `session_meta` names nothing.
    assert!(
        fork.iter()
            .all(|e| e.project.as_deref() == Some("/work/parent"))
    );
    assert_eq!(
        fork[0].timestamp,
        "2026-06-02T14:00:01.5Z".parse().unwrap(),
        "an own turn inside the replay burst still counts, by its turn id"
    );
    let sub: Vec<_> = events.iter().filter(|e| &*e.session == SUBAGENT).collect();
    assert_eq!(sub.len(), 1);
    assert_eq!(&*sub[0].model, "gpt-5-mini");
}

#[test]
fn the_fork_day_shows_only_the_forks_own_usage() {
    // The replay is re-stamped to June 2nd: a day view must not see the
    // parent's June 1st turns again there.
    let window = TimeWindow {
        since: Some("2026-06-02T00:00:00Z".parse().unwrap()),
        until: Some("2026-06-03T00:00:00Z".parse().unwrap()),
    };
    let (events, _) = scan(&window);
    let mut total = TokenCounts::default();
    for e in &events {
        total.add(&e.tokens);
    }
    assert_eq!(total, tokens(700 + 300, 800 + 100, 100 + 40, 0));
    assert!(events.iter().all(|e| &*e.session != PARENT));
}

#[test]
fn fork_fields_of_another_type_cost_nothing() {
    use super::parser::{Record, parse_line};
    let line = br#"{"timestamp":"2026-06-02T14:00:00Z","type":"turn_context","payload":{"model":"gpt-5","turn_id":7,"timestamp":{"at":1}}}"#;
    assert_eq!(
        parse_line(line),
        Ok(Some(Record::Context {
            model: Some("gpt-5".into()),
            turn_id: None
        }))
    );
    let meta =
        br#"{"type":"session_meta","payload":{"id":"c","forked_from_id":null,"source":"cli"}}"#;
    let Ok(Some(Record::Meta(meta))) = parse_line(meta) else {
        panic!("a session_meta");
    };
    assert!(!meta.child);
}
