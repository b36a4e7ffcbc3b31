//! The agents' own logs, each read by its source from a scratch home laid
//! out as the agent lays it out.

use crate::{check_event, lines, lines_with, scratch};
use std::path::Path;
use tokenledger_core::event::UsageEvent;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};
use tokenledger_sources::claude_code::{self, ClaudeCodeSource};
use tokenledger_sources::codex::CodexSource;
use tokenledger_sources::openclaw::OpenClawSource;

/// Claude Code's hand-rolled line reader reads each line as serde does, or
/// leaves it to serde.
pub fn claude_code_line(data: &[u8]) {
    for (line, _) in lines(data) {
        claude_code::fast_reader_agrees(line);
    }
}

pub fn claude_code_transcript(data: &[u8]) {
    let file = "projects/-fuzz/00000000-0000-4000-8000-000000000000.jsonl";
    let source = |root: &Path| ClaudeCodeSource::with_roots(vec![root.to_path_buf()]);
    let (scan, events) =
        scratch::with_file("claude_code", file, data, |root, _| scan(&source(root)));
    assert!(scan.events <= lines_with(data, b"\"usage\""), "{scan:?}");
    events.iter().for_each(check_event);
}

pub fn codex_rollout(data: &[u8]) {
    let file = "sessions/2026/05/13/rollout-2026-05-13T08-59-59-0196c7a0-0000-7000-8000-000000000001.jsonl";
    let (scan, events) = scratch::with_file("codex", file, data, |root, _| {
        scan(&CodexSource::with_roots(vec![root.to_path_buf()]))
    });
    assert!(
        scan.events <= lines_with(data, b"\"token_count\""),
        "{scan:?}"
    );
    events.iter().for_each(check_event);
}

const TRANSCRIPT: &str = "agents/main/sessions/5f0c1d2e-0000-4000-8000-000000000001.jsonl";

pub fn openclaw_transcript(data: &[u8]) {
    let (scan, events) = scratch::with_file("openclaw", TRANSCRIPT, data, |root, _| {
        scan(&OpenClawSource::with_roots(vec![root.to_path_buf()]))
    });
    assert!(scan.events <= lines_with(data, b"\"usage\""), "{scan:?}");
    events.iter().for_each(check_event);
}

/// `sessions.json` names who owns a transcript, never whether or how much
/// it billed: the one billed line beside it counts once whatever the store says.
pub fn openclaw_sessions(data: &[u8]) {
    let billed = concat!(
        r#"{"type":"session","version":3,"id":"5f0c1d2e-0000-4000-8000-000000000001","timestamp":"2026-02-06T18:59:00.000Z","cwd":"/w"}"#,
        "\n",
        r#"{"type":"message","id":"a1","timestamp":"2026-02-06T19:00:05.123Z","message":{"role":"assistant","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":12,"output":569,"cacheRead":108000,"cacheWrite":300,"cost":{"total":0.042096}}}}"#,
        "\n"
    );
    scratch::with_file(
        "openclaw_sessions",
        TRANSCRIPT,
        billed.as_bytes(),
        |_, _| (),
    );
    let store = "agents/main/sessions/sessions.json";
    scratch::with_file("openclaw_sessions", store, data, |root, _| {
        let source = OpenClawSource::with_roots(vec![root.to_path_buf()]);
        let sessions = source.sessions();
        let states = source.session_states(&mut Vec::new());
        assert!(sessions.len() <= states.len(), "{sessions:?}");
        let (scan, events) = scan(&source);
        assert_eq!(scan.events, 1, "{scan:?}");
        events.iter().for_each(check_event);
    });
}

fn scan(source: &dyn Source) -> (SourceScan, Vec<UsageEvent>) {
    let mut events = Vec::new();
    let scan = source
        .scan(&TimeWindow::ALL, &mut |e| events.push(e.clone()))
        .expect("a scratch home is readable");
    assert_eq!(scan.events, events.len() as u64);
    (scan, events)
}
