use super::{OpenClawSession, OpenClawSource};
use crate::Environment;
use std::path::{Path, PathBuf};
use tokenledger_core::event::{TokenCounts, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openclaw")
}

const MAIN_KEY: &str = "agent:main:main";
const SUB_KEY: &str = "agent:main:subagent:17cc9f9e-296e-4c6a-808b-e7d1d946af51";
const TOPIC_KEY: &str = "agent:main:telegram:group:-1001234567890:topic:42";
const ORPHAN: &str = "7a7a7a7a-0000-4000-8000-000000000002";

fn scan(source: &OpenClawSource, window: &TimeWindow) -> (Vec<UsageEvent>, SourceScan) {
    let mut events = Vec::new();
    let scan = source
        .scan(window, &mut |e| events.push(e.clone()))
        .unwrap();
    (events, scan)
}

fn all() -> (Vec<UsageEvent>, SourceScan) {
    scan(
        &OpenClawSource::with_roots(vec![fixture()]),
        &TimeWindow::ALL,
    )
}

fn sum<'a>(events: impl IntoIterator<Item = &'a UsageEvent>) -> TokenCounts {
    let mut total = TokenCounts::default();
    for e in events {
        total.add(&e.tokens);
    }
    total
}

fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64) -> TokenCounts {
    TokenCounts {
        input,
        output,
        cache_read,
        cache_write_5m: cache_write,
        ..TokenCounts::default()
    }
}

fn by_id<'a>(events: &'a [UsageEvent], id: &str) -> &'a UsageEvent {
    let suffix = format!(":{id}");
    events
        .iter()
        .find(|e| {
            e.dedupe_key
                .as_deref()
                .is_some_and(|k| k.ends_with(&suffix))
        })
        .unwrap_or_else(|| panic!("no event {id}"))
}

fn reported(events: &[&UsageEvent]) -> f64 {
    events.iter().filter_map(|e| e.reported_cost).sum()
}

#[test]
fn fixture_totals_match_hand_computed() {
    let (events, scan) = all();
    // a1 a3 (live), b1 (reset archive), c1 c2 (subagent), d1 (topic), e1, f1 (research).
    assert_eq!(events.len(), 8);
    assert_eq!(scan.events, 8);
    assert_eq!(scan.duplicates, 0);
    assert_eq!(sum(&events), tokens(1674, 1412, 159_580, 3380));
    let all: Vec<&UsageEvent> = events.iter().collect();
    assert!((reported(&all) - 0.585_496).abs() < 1e-9);
    // Six transcripts; neither the stores nor the `.lock` file.
    assert_eq!(scan.files.len(), 6, "{:?}", scan.files);
    assert!(
        scan.files
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".lock"))
    );
}

#[test]
fn store_snapshots_are_never_taken_as_totals() {
    let (events, _) = all();
    let of =
        |key: &str| -> Vec<&UsageEvent> { events.iter().filter(|e| &*e.session == key).collect() };
    // The store says 1 in / 569 out / $0.0412 for the subagent: its last run only.
    let sub = of(SUB_KEY);
    assert_eq!(sum(sub.iter().copied()), tokens(12, 403, 50_010, 2000));
    assert!((reported(&sub) - 0.0305).abs() < 1e-9);
    // The store says 999999 in / $123.45 for main; the transcripts, including
    // the reset archive its usageFamilySessionIds name, say otherwise.
    let main = of(MAIN_KEY);
    assert_eq!(main.len(), 3);
    assert_eq!(sum(main.iter().copied()), tokens(312, 719, 109_000, 1300));
    assert!((reported(&main) - 0.054_396).abs() < 1e-9);
}

#[test]
fn zero_cost_means_unpriced_and_models_lose_the_provider_prefix() {
    let (events, _) = all();
    assert_eq!(by_id(&events, "a1").reported_cost, Some(0.042096));
    // cost.total 0: OpenClaw had no pricing, so our table prices it.
    assert_eq!(by_id(&events, "a3").reported_cost, None);
    assert_eq!(by_id(&events, "e1").reported_cost, None);
    assert_eq!(by_id(&events, "c2").reported_cost, None);
    assert_eq!(&*by_id(&events, "a3").model, "claude-sonnet-4-5");
    assert_eq!(&*by_id(&events, "c2").model, "gpt-5.2");
    assert_eq!(&*by_id(&events, "e1").model, "gemini-2.5-pro");
    // Usage at entry level when the message has none.
    assert_eq!(by_id(&events, "c2").tokens, tokens(7, 3, 10, 0));
}

#[test]
fn events_are_attributed_to_session_keys_agents_and_projects() {
    let (events, _) = all();
    let a1 = by_id(&events, "a1");
    assert_eq!(
        a1.dedupe_key.as_deref(),
        Some("openclaw:5f0c1d2e-0000-4000-8000-000000000001:a1")
    );
    assert_eq!(a1.timestamp, "2026-02-06T19:00:05.123Z".parse().unwrap());
    assert_eq!(a1.project.as_deref(), Some("/home/user/projects/ledger"));
    // No entry timestamp: message.timestamp in milliseconds.
    assert_eq!(
        by_id(&events, "a3").timestamp,
        "2026-02-06T19:01:40Z".parse().unwrap()
    );
    assert_eq!(&*by_id(&events, "b1").session, MAIN_KEY);
    assert_eq!(&*by_id(&events, "d1").session, TOPIC_KEY);
    let e1 = by_id(&events, "e1");
    assert_eq!(
        (&*e1.session, &*e1.agent_id),
        ("agent:research:main", "research")
    );
    // In no store: its session id, its directory's agent.
    let f1 = by_id(&events, "f1");
    assert_eq!((&*f1.session, &*f1.agent_id), (ORPHAN, "research"));
    assert_eq!(f1.tokens, tokens(50, 60, 70, 80));
    assert!(
        events
            .iter()
            .filter(|e| e.session.starts_with("agent:main:"))
            .all(|e| &*e.agent_id == "main")
    );
}

#[test]
fn a_malformed_line_warns_with_path_and_line() {
    let (_, scan) = all();
    assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
    let w = &scan.warnings[0];
    assert_eq!(
        w.path,
        fixture().join("agents/main/sessions/5f0c1d2e-0000-4000-8000-000000000001.jsonl")
    );
    assert_eq!(w.line, Some(4));
    assert!(w.message.contains("malformed JSON"), "{w}");
}

#[test]
fn the_window_selects_requests() {
    let window = TimeWindow {
        since: Some("2026-02-06T00:00:00Z".parse().unwrap()),
        until: Some("2026-02-07T00:00:00Z".parse().unwrap()),
    };
    let (events, scan) = scan(&OpenClawSource::with_roots(vec![fixture()]), &window);
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| e.dedupe_key.as_deref().unwrap().rsplit(':').next().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["a1", "a3", "c1", "c2"]);
    assert_eq!(scan.events, 4);
}

#[test]
fn sessions_lists_store_entries_with_status_and_parent() {
    let sessions = OpenClawSource::with_roots(vec![fixture()]).sessions();
    let keys: Vec<_> = sessions.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, [MAIN_KEY, SUB_KEY, TOPIC_KEY, "agent:research:main"]);
    let dir = fixture().join("agents/main/sessions");
    assert_eq!(
        sessions[1],
        OpenClawSession {
            key: SUB_KEY.into(),
            session_id: "dc91698c-9113-4c28-8220-7e81d9407ba5".into(),
            agent_id: "main".into(),
            spawned_by: Some(MAIN_KEY.into()),
            status: Some("done".into()),
            updated_at: Some("2026-02-06T20:00:00Z".parse().unwrap()),
            transcript: dir.join("dc91698c-9113-4c28-8220-7e81d9407ba5.jsonl"),
        }
    );
    let running: Vec<_> = sessions
        .iter()
        .filter(|s| s.status.as_deref() == Some("running"))
        .collect();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].key, MAIN_KEY);
    assert_eq!(sessions[3].agent_id, "research");
}

#[test]
fn session_states_carry_status_agent_model_and_last_activity() {
    let mut warnings = Vec::new();
    let states = OpenClawSource::with_roots(vec![fixture()]).session_states(&mut warnings);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(states.len(), 4);
    let main = states.iter().find(|s| &*s.session == MAIN_KEY).unwrap();
    assert!(main.is_running());
    assert_eq!(&*main.agent_id, "main");
    // `modelProvider` + `model` name the model without its provider.
    assert_eq!(main.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(
        main.last_activity,
        Some("2026-02-06T19:01:40Z".parse().unwrap())
    );
    let research = states.iter().find(|s| &*s.agent_id == "research").unwrap();
    assert_eq!(research.status.as_deref(), Some("done"));
    assert_eq!(research.model, None);
    // The same keys the events carry, so the daily view can match them.
    let (events, _) = all();
    assert!(events.iter().any(|e| e.session == main.session));
}

#[test]
#[cfg(unix)]
fn roots_come_from_openclaw_dir_or_every_legacy_name() {
    let home = tempfile::tempdir().unwrap();
    let mut env = Environment {
        home: home.path().into(),
        ..Environment::default()
    };
    // `~/.clawdbot` left behind as a link to the renamed directory.
    std::os::unix::fs::symlink(fixture(), home.path().join(".openclaw")).unwrap();
    std::os::unix::fs::symlink(fixture(), home.path().join(".clawdbot")).unwrap();
    let source = OpenClawSource::from_env(&env);
    let (events, scan) = scan(&source, &TimeWindow::ALL);
    assert_eq!(events.len(), 8);
    assert_eq!(scan.searched.len(), 4);
    assert!(scan.searched.contains(&home.path().join(".moldbot")));
    assert_eq!(scan.warnings.len(), 1);
    env.vars
        .insert("OPENCLAW_DIR".into(), fixture().display().to_string());
    assert_eq!(OpenClawSource::from_env(&env).roots(), [fixture()]);
}

#[test]
fn a_transcript_copied_to_two_agents_counts_once() {
    let root = tempfile::tempdir().unwrap();
    let src = fixture()
        .join("agents/research/sessions")
        .join(format!("{ORPHAN}.jsonl"));
    for agent in ["a", "b"] {
        let dir = root.path().join("agents").join(agent).join("sessions");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&src, dir.join(format!("{ORPHAN}.jsonl"))).unwrap();
    }
    let (events, scan) = scan(
        &OpenClawSource::with_roots(vec![root.path().into()]),
        &TimeWindow::ALL,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(scan.duplicates, 1);
}

#[test]
#[cfg(unix)]
fn hostile_trees_do_not_panic() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("agents/x/sessions");
    std::fs::create_dir_all(dir.join("dir.jsonl")).unwrap();
    std::fs::create_dir_all(root.path().join("agents/empty/sessions")).unwrap();
    std::fs::write(root.path().join("agents/not-a-dir"), b"x").unwrap();
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(dir.join("garbage.jsonl"), &garbage).unwrap();
    std::fs::write(dir.join("sessions.json"), &garbage).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop.jsonl")).unwrap();
    let source = OpenClawSource::with_roots(vec![root.path().into(), root.path().join("missing")]);
    let (events, scan) = scan(&source, &TimeWindow::ALL);
    assert!(events.is_empty());
    assert_eq!(scan.files, [dir.join("garbage.jsonl")]);
    assert!(
        scan.warnings
            .iter()
            .any(|w| w.path == dir.join("sessions.json"))
    );
    assert!(source.sessions().is_empty());
}
