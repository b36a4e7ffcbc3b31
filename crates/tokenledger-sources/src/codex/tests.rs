use super::CodexSource;
use super::loader::{Step, Tracker};
use super::parser::Usage;
use crate::Environment;
use std::path::{Path, PathBuf};
use tokenledger_core::event::{TokenCounts, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex")
}

const ALPHA: &str = "0196c7a0-0000-7000-8000-000000000001";
const BETA: &str = "0196c7a0-0000-7000-8000-000000000002";
const GAMMA: &str = "0196c7a0-0000-7000-8000-000000000003";
const DELTA: &str = "0196c7a0-0000-7000-8000-000000000004";

fn scan(source: &CodexSource, window: &TimeWindow) -> (Vec<UsageEvent>, SourceScan) {
    let mut events = Vec::new();
    let scan = source
        .scan(window, &mut |e| events.push(e.clone()))
        .unwrap();
    (events, scan)
}

fn sum<'a>(events: impl IntoIterator<Item = &'a UsageEvent>) -> TokenCounts {
    let mut total = TokenCounts::default();
    for e in events {
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

fn of<'a>(events: &'a [UsageEvent], session: &str) -> Vec<&'a UsageEvent> {
    events.iter().filter(|e| &*e.session == session).collect()
}

#[test]
fn fixture_totals_match_hand_computed() {
    let (events, scan) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    // alpha 750+500+500+500, beta 2000+800+400, delta 100, gamma 300+400.
    assert_eq!(sum(&events), tokens(6250, 11650, 1700, 210));
    assert_eq!(scan.events, 10);
    assert_eq!(events.len(), 10);
    // alpha: one repeated and one stale snapshot; beta-export: 3 turns seen in beta.
    assert_eq!(scan.duplicates, 5);
    assert!(events.iter().all(|e| e.reported_cost.is_none() && !e.fast));
    assert!(events.iter().all(|e| e.tokens.cache_write() == 0));
}

#[test]
fn turns_are_deltas_normalized_to_uncached_input() {
    let (events, _) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    let alpha = of(&events, ALPHA);
    let got: Vec<_> = alpha
        .iter()
        .map(|e| (e.tokens, &*e.model, e.dedupe_key.as_deref().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                tokens(750, 250, 125, 75),
                "gpt-5.2-codex",
                "codex:0196c7a0-0000-7000-8000-000000000001:1200"
            ),
            (
                tokens(500, 1500, 300, 100),
                "gpt-5.2-codex",
                "codex:0196c7a0-0000-7000-8000-000000000001:3500"
            ),
            (
                tokens(500, 1000, 175, 0),
                "gpt-5.2-codex",
                "codex:0196c7a0-0000-7000-8000-000000000001:5100"
            ),
            // No last_token_usage: the difference of the totals, under the new turn_context model.
            (
                tokens(500, 0, 100, 25),
                "gpt-5-mini",
                "codex:0196c7a0-0000-7000-8000-000000000001:5700"
            ),
        ]
    );
    let first = alpha[0];
    assert_eq!(first.timestamp, "2026-05-13T09:01:00Z".parse().unwrap());
    assert_eq!(&*first.agent_id, "codex_cli_rs");
    assert_eq!(first.project.as_deref(), Some("/work/alpha"));
    // Reasoning is inside output, so the total does not add it.
    assert_eq!(first.tokens.total(), 1125);
}

#[test]
fn a_reset_starts_a_new_running_total() {
    let (events, _) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    let beta = of(&events, BETA);
    let got: Vec<_> = beta.iter().map(|e| e.tokens).collect();
    assert_eq!(
        got,
        vec![
            tokens(2000, 8000, 500, 0),
            tokens(800, 0, 200, 0),
            tokens(400, 600, 200, 0)
        ]
    );
    let keys: Vec<_> = beta
        .iter()
        .map(|e| e.dedupe_key.as_deref().unwrap())
        .collect();
    assert_eq!(keys[1], format!("codex:{BETA}:1.1000"));
}

#[test]
fn model_less_rollouts_assume_gpt5_and_say_so() {
    let (events, scan) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    assert!(of(&events, BETA).iter().all(|e| &*e.model == "gpt-5"));
    let beta_path = fixture().join(format!(
        "sessions/2026/05/14/rollout-2026-05-14T10-00-00-{BETA}.jsonl"
    ));
    assert!(
        scan.warnings.iter().any(|w| w.path == beta_path
            && w.line == Some(2)
            && w.message.contains("assumed gpt-5"))
    );
    // No turn_context but info.model; no session_meta: id from the file name.
    let delta = of(&events, DELTA);
    assert_eq!(delta.len(), 1);
    assert_eq!(&*delta[0].model, "gpt-5.1-codex");
    assert_eq!(&*delta[0].agent_id, "codex");
    assert_eq!(delta[0].project, None);
    assert_eq!(delta[0].tokens, tokens(100, 0, 20, 0));
}

#[test]
fn archived_copies_are_counted_once() {
    let (events, scan) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    let names: Vec<String> = scan
        .files
        .iter()
        .map(|p| p.strip_prefix(fixture()).unwrap().display().to_string())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("archived_sessions/rollout-2026-05-13"))
    );
    assert!(names.contains(&"archived_sessions/beta-export.jsonl".to_string()));
    assert_eq!(of(&events, ALPHA).len(), 4);
    assert_eq!(of(&events, BETA).len(), 3);
    // The archived-only session counts, under codex exec's originator.
    let gamma = of(&events, GAMMA);
    assert_eq!(sum(gamma.iter().copied()), tokens(700, 300, 80, 10));
    assert!(gamma.iter().all(|e| &*e.agent_id == "codex_exec"));
}

#[test]
fn broken_lines_warn_with_path_and_line() {
    let (_, scan) = scan(&CodexSource::with_roots(vec![fixture()]), &TimeWindow::ALL);
    let alpha = fixture().join(format!(
        "sessions/2026/05/13/rollout-2026-05-13T08-59-59-{ALPHA}.jsonl"
    ));
    let mut alpha_warnings: Vec<_> = scan.warnings.iter().filter(|w| w.path == alpha).collect();
    alpha_warnings.sort();
    assert_eq!(alpha_warnings.len(), 2, "{:?}", scan.warnings);
    assert_eq!(alpha_warnings[0].line, Some(12));
    assert!(alpha_warnings[0].message.contains("malformed JSON"));
    assert_eq!(alpha_warnings[1].line, Some(13));
    assert!(alpha_warnings[1].message.contains("incomplete last line"));
    // Plus the gpt-5 assumption in beta and in its export.
    assert_eq!(scan.warnings.len(), 4, "{:?}", scan.warnings);
}

#[test]
fn the_window_filters_turns_but_not_the_accounting() {
    let window = TimeWindow {
        since: Some("2026-05-01T00:00:00Z".parse().unwrap()),
        until: Some("2026-05-02T00:00:00Z".parse().unwrap()),
    };
    let (events, scan) = scan(&CodexSource::with_roots(vec![fixture()]), &window);
    // Only gamma's second turn, still the delta from the first (outside) turn.
    assert_eq!(events.len(), 1);
    assert_eq!(&*events[0].session, GAMMA);
    assert_eq!(events[0].tokens, tokens(400, 200, 30, 0));
    assert_eq!(scan.events, 1);
    // Rollouts named after the window's end are not even opened.
    assert!(
        !scan
            .files
            .iter()
            .any(|p| p.to_string_lossy().contains("2026-05-14"))
    );
}

#[test]
fn roots_come_from_codex_home_and_missing_ones_are_only_listed() {
    let missing = fixture().join("does-not-exist");
    let mut env = Environment {
        home: PathBuf::from("/nonexistent-home"),
        ..Environment::default()
    };
    assert_eq!(
        CodexSource::from_env(&env).roots(),
        [PathBuf::from("/nonexistent-home/.codex")]
    );
    env.vars.insert(
        "CODEX_HOME".into(),
        format!("{}, {}", fixture().display(), missing.display()),
    );
    let source = CodexSource::from_env(&env);
    assert_eq!(source.roots(), [fixture(), missing.clone()]);
    let (events, scan) = scan(&source, &TimeWindow::ALL);
    assert_eq!(events.len(), 10);
    assert!(scan.searched.contains(&missing.join("sessions")));
    assert!(scan.searched.contains(&missing.join("archived_sessions")));
    assert_eq!(scan.warnings.len(), 4);
}

#[test]
fn the_same_root_twice_counts_every_turn_once() {
    let source = CodexSource::with_roots(vec![fixture(), fixture()]);
    let (events, _) = scan(&source, &TimeWindow::ALL);
    assert_eq!(sum(&events), tokens(6250, 11650, 1700, 210));
}

#[test]
fn hostile_trees_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("sessions/2026/05/15");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(dir.path().join("sessions/2026/05/16")).unwrap();
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(day.join("rollout-garbage.jsonl"), garbage).unwrap();
    std::fs::write(day.join("rollout-empty.jsonl"), b"").unwrap();
    std::fs::create_dir_all(day.join("rollout-a-directory.jsonl")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("sessions"), day.join("loop")).unwrap();
        std::os::unix::fs::symlink(day.join("nowhere"), day.join("rollout-dangling.jsonl"))
            .unwrap();
    }
    let (events, scan) = scan(
        &CodexSource::with_roots(vec![dir.path().into()]),
        &TimeWindow::ALL,
    );
    assert!(events.is_empty());
    assert_eq!(scan.files.len(), 2, "{:?}", scan.files);
}

#[test]
fn tracker_counts_repeats_once_and_tells_stale_from_reset() {
    let u = |i, o| Usage {
        input_tokens: i,
        output_tokens: o,
        total_tokens: i + o,
        ..Usage::default()
    };
    let mut t = Tracker::default();
    let turn = |step: Step| match step {
        Step::Turn { delta, identity } => Some((delta.input_tokens, identity)),
        _ => None,
    };
    assert_eq!(
        turn(t.advance(Some(u(100, 10)), Some(u(100, 10)), 1)),
        Some((100, "110".into()))
    );
    assert_eq!(
        t.advance(Some(u(100, 10)), Some(u(100, 10)), 2),
        Step::Repeat
    );
    assert_eq!(
        turn(t.advance(None, Some(u(300, 20)), 3)),
        Some((200, "320".into()))
    );
    // Slightly behind the watermark: a late copy of the first snapshot.
    assert_eq!(
        t.advance(Some(u(100, 10)), Some(u(100, 10)), 4),
        Step::Repeat
    );
    assert_eq!(
        turn(t.advance(None, Some(u(10_000, 100)), 5)),
        Some((9700, "10100".into()))
    );
    // Far below it: a reset, counted from zero.
    assert_eq!(
        turn(t.advance(None, Some(u(50, 5)), 6)),
        Some((50, "1.55".into()))
    );
    assert_eq!(t.advance(None, None, 7), Step::Nothing);
    assert_eq!(
        turn(t.advance(Some(u(7, 1)), None, 8)),
        Some((7, "line8".into()))
    );
}
