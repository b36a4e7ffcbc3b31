//! One test per trap of the log-format reference, each on the events the
//! fixture tree yields (see `tests.rs` for the per-day totals).

use super::tests::{S0, S1, S2, S4, fixture_events, one};
use jiff::Timestamp;
use tokenledger_core::event::TokenCounts;

#[test]
fn content_block_copies_count_once_with_the_final_usage() {
    let (events, scan) = fixture_events();
    let a1 = one(&events, "cc:msg_A1:req_A1");
    let expected = TokenCounts {
        input: 3,
        output: 420,
        cache_read: 12000,
        cache_write_5m: 0,
        cache_write_1h: 1500,
        reasoning: 0,
    };
    assert_eq!(a1.tokens, expected);
    // The resumed copy in the other root ties; the earlier file (path order) keeps it.
    assert_eq!(&*a1.session, S1);
    assert_eq!(&*a1.agent_id, "main");
    assert_eq!(a1.project.as_deref(), Some("/home/me/src/app"));
    assert_eq!(
        a1.timestamp,
        "2026-01-05T10:00:05.200Z".parse::<Timestamp>().unwrap()
    );
    // Copies dropped: A1 ×4 (3 blocks + resumed), B1 ×3 (2 blocks + progress),
    // E1, E2, W1 and G1 ×2 each, and D1's /btw replay.
    assert_eq!(scan.duplicates, 3 + 2 + 1 + 1 + 1 + 1 + 1);
}

#[test]
fn ttl_split_and_flat_cache_writes() {
    let (events, _) = fixture_events();
    let a2 = one(&events, "cc:msg_A2:req_A2");
    assert_eq!(
        (a2.tokens.cache_write_5m, a2.tokens.cache_write_1h),
        (640, 0)
    );
    let e1 = one(&events, "cc:msg_E1:req_E1");
    assert_eq!(
        (e1.tokens.cache_write_5m, e1.tokens.cache_write_1h),
        (0, 1000)
    );
    assert_eq!(e1.tokens.reasoning, 320);
    assert_eq!(e1.tokens.output, 500);
}

#[test]
fn subagents_roll_into_the_parent_session_in_both_layouts() {
    let (events, _) = fixture_events();
    for key in ["cc:msg_B1:req_B1", "cc:msg_B2:req_B2"] {
        let e = one(&events, key);
        assert_eq!((&*e.session, &*e.agent_id), (S1, "subagent:6e067db7"));
        assert_eq!(&*e.model, "claude-haiku-4-5-20251001");
    }
    assert_eq!(one(&events, "cc:msg_B1:req_B1").tokens.output, 310);
    // Mirrored only as a progress entry in the parent: still counted, as the subagent's.
    let b3 = one(&events, "cc:msg_B3:req_B3");
    assert_eq!(
        (&*b3.session, &*b3.agent_id, b3.tokens.total()),
        (S1, "subagent:6e067db7", 3062)
    );
    // Flat CC 2.0 layout: the session comes from the line.
    let c1 = one(&events, "cc:msg_C1:req_C1");
    assert_eq!((&*c1.session, &*c1.agent_id), (S2, "subagent:a1b2c3d4"));
}

#[test]
fn btw_replay_is_dropped_but_distinct_requests_are_kept() {
    let (events, _) = fixture_events();
    let d1: Vec<_> = events
        .iter()
        .filter(|e| {
            e.dedupe_key
                .as_deref()
                .is_some_and(|k| k.starts_with("cc:msg_D1:"))
        })
        .collect();
    assert_eq!(d1.len(), 1);
    assert_eq!(
        (d1[0].dedupe_key.as_deref(), d1[0].tokens.cache_read),
        (Some("cc:msg_D1:req_D1"), 20000)
    );
    assert_eq!(&*d1[0].agent_id, "main");
    let d2 = one(&events, "cc:msg_D2:req_D2");
    assert_eq!((&*d2.agent_id, &*d2.session), ("subagent:a7f3c2e1", S1));
    // Same message.id, two requestIds, neither a sidechain: two requests.
    assert_eq!(one(&events, "cc:msg_H1:req_H1").tokens.total(), 111);
    assert_eq!(one(&events, "cc:msg_H1:req_H2").tokens.total(), 222);
}

#[test]
fn fast_mode_and_the_speed_tie_break() {
    let (events, _) = fixture_events();
    assert!(one(&events, "cc:msg_E1:req_E1").fast);
    // E2's copies have equal totals; the later one has `speed` and wins.
    assert!(one(&events, "cc:msg_E2:req_E2").fast);
    assert_eq!(events.iter().filter(|e| e.fast).count(), 2);
}

#[test]
fn synthetic_cost_usd_and_lines_without_message_id() {
    let (events, _) = fixture_events();
    assert!(events.iter().all(|e| &*e.model != "<synthetic>"));
    let o1 = one(&events, "cc:msg_O1:req_O1");
    assert_eq!((o1.reported_cost, &*o1.session), (Some(0.0123), S0));
    assert_eq!(
        events.iter().filter(|e| e.reported_cost.is_some()).count(),
        1
    );
    // Two identical lines without message.id: no dedupe possible, both count;
    // without `cwd` the project is the directory name.
    let plain: Vec<_> = events.iter().filter(|e| e.dedupe_key.is_none()).collect();
    assert_eq!(plain.len(), 2);
    assert!(
        plain
            .iter()
            .all(|e| e.project.as_deref() == Some("-home-me-src-app") && &*e.session == S4)
    );
}

#[test]
fn crlf_and_spaced_lines_are_read() {
    let (events, _) = fixture_events();
    assert_eq!(one(&events, "cc:msg_F1:req_F1").tokens.total(), 8384);
    let f2 = one(&events, "cc:msg_F2:req_F2");
    assert_eq!(
        (f2.tokens.total(), f2.project.as_deref()),
        (9600, Some("/home/me/src/lib"))
    );
}

#[test]
fn bad_lines_warn_with_line_numbers_but_a_partial_last_line_is_silent() {
    let (events, scan) = fixture_events();
    let mut found: Vec<(String, Option<u64>, bool)> = scan
        .warnings
        .iter()
        .map(|w| {
            let name = w.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, w.line, w.message.contains("null"))
        })
        .collect();
    found.sort();
    let s = |id: &str| format!("{id}.jsonl");
    let expected = vec![
        (s(S0), Some(2), false), // version "dev"
        (s(S1), Some(8), true),  // costUSD: null
        (s(S1), Some(9), true),  // cache_read_input_tokens: null
        (s(S4), Some(3), false), // truncated JSON followed by a newline
    ];
    assert_eq!(found, expected, "{:#?}", scan.warnings);
    for key in [
        "cc:msg_A3:req_A3",
        "cc:msg_A4:req_A4",
        "cc:msg_O2:req_O2",
        "cc:msg_W2:req_W2",
    ] {
        assert!(
            events.iter().all(|e| e.dedupe_key.as_deref() != Some(key)),
            "{key}"
        );
    }
}
