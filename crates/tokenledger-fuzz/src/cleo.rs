//! CLEO's files: `SESSIONS.jsonl`, `TOKEN_USAGE.jsonl` and `.cleo/config.json`.

use crate::{lines, scratch};
use std::collections::BTreeSet;
use tokenledger_cleo::attribution;
use tokenledger_cleo::config::{CleoConfig, CleoEnv};
use tokenledger_cleo::savings::Savings;
use tokenledger_cleo::sessions::{self, Event, SessionRecord, TokensSource};
use tokenledger_cleo::usage::{self, UsageRecord};
use tokenledger_core::event::TokenCounts;
use tokenledger_core::time::format_register_timestamp;

/// Every record read is written back as tokenledger writes it and reads
/// back the same (to the second, which is all the file keeps).
pub fn cleo_sessions(data: &[u8]) {
    let (records, _) = scratch::with_file("cleo_sessions", "SESSIONS.jsonl", data, |_, path| {
        sessions::read(path).expect("a readable file")
    });
    assert!(records.len() <= lines(data).count());
    let written: String = records.iter().map(SessionRecord::to_line).collect();
    let (back, warnings) = scratch::with_file(
        "cleo_sessions",
        "back.jsonl",
        written.as_bytes(),
        |_, path| sessions::read(path).expect("a readable file"),
    );
    assert!(warnings.is_empty(), "{written}: {warnings:?}");
    assert_eq!(back.len(), records.len(), "{written}");
    for ((mut back, record), line) in back.into_iter().zip(&records).zip(1..) {
        assert_eq!(back.line, line);
        assert_eq!(
            format_register_timestamp(back.timestamp),
            format_register_timestamp(record.timestamp)
        );
        (back.timestamp, back.line) = (record.timestamp, record.line);
        assert_eq!(&back, record, "{written}");
    }
    sessions::ends_by_session(&records);
    sessions::open_session(&records);
}

/// As [`cleo_sessions`], and the records attributed to tasks and sessions.
pub fn cleo_token_usage(data: &[u8]) {
    let (records, _) = scratch::with_file("cleo_usage", "TOKEN_USAGE.jsonl", data, |_, path| {
        usage::read(path).expect("a readable file")
    });
    assert!(records.len() <= lines(data).count());
    let written: String = records.iter().map(UsageRecord::to_line).collect();
    let (back, warnings) =
        scratch::with_file("cleo_usage", "back.jsonl", written.as_bytes(), |_, path| {
            usage::read(path).expect("a readable file")
        });
    assert!(warnings.is_empty(), "{written}: {warnings:?}");
    assert_eq!(back.len(), records.len(), "{written}");
    for (mut back, record) in back.into_iter().zip(&records) {
        assert_eq!(
            format_register_timestamp(back.timestamp),
            format_register_timestamp(record.timestamp)
        );
        back.timestamp = record.timestamp;
        assert_eq!(&back, record, "{written}");
    }
    Savings::from_records(&records).percent();
    let ends: Vec<SessionRecord> = records
        .iter()
        .filter_map(UsageRecord::session)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(session_end)
        .collect();
    for end in &ends {
        attribution::session_splits(&records, end);
    }
    for row in attribution::tasks(&records, &ends.iter().collect::<Vec<_>>()) {
        row.tokens();
        row.error_pct();
    }
}

/// An end record with an actual total, for reconciling a session's estimates.
fn session_end(session: &str) -> SessionRecord {
    let tokens = TokenCounts {
        input: 1_000,
        output: 200,
        cache_read: 30_000,
        cache_write_5m: 4_000,
        cache_write_1h: 500,
        reasoning: 0,
    };
    SessionRecord {
        timestamp: jiff::Timestamp::UNIX_EPOCH,
        session_id: session.to_string(),
        event: Event::End,
        tokens,
        total: tokens.total(),
        delta: tokens.total(),
        duration_minutes: None,
        tasks_completed: None,
        source: TokensSource::Transcript,
        claude_session_id: None,
        model: None,
        cost_usd: None,
        line: 1,
    }
}

/// A config that cannot be read leaves tracking on (with a warning); one
/// that can decides it. Either way it is the one found.
pub fn cleo_config(data: &[u8]) {
    let file = "project/.cleo/config.json";
    scratch::with_file("cleo_config", file, data, |root, path| {
        let project = root.join("project");
        let (config, _) = CleoConfig::discover(&project, &CleoEnv::default());
        assert_eq!(config.config_file.as_deref(), Some(path));
        assert_eq!(config.project_root, project);
        for tier in ["sessionLevel", "spawnLevel"] {
            config.why_off(tier);
        }
        config.sessions_on();
        config.spawns_on();
    });
}
