//! The digest's "Active Sessions": sessions their agent marks running, with
//! what they billed inside the window (often nothing yet) and when they were
//! last active. Finished sessions are already in By Model and By Agent.

use super::{DailyReport, SessionEntry};
use crate::fmt::{cost_of, pad_left, pad_right, thousands};
use jiff::tz::TimeZone;

/// The sessions the section lists, oldest activity first.
pub(super) fn running(report: &DailyReport) -> Vec<&SessionEntry> {
    report.sessions.iter().filter(|s| s.is_running()).collect()
}

/// `• key  agent  tokens tokens  $cost  last active MM-DD HH:MM`, columns
/// aligned; `None` when nothing runs.
pub(super) fn lines(report: &DailyReport) -> Option<String> {
    let running = running(report);
    if running.is_empty() {
        return None;
    }
    let tz = TimeZone::get(&report.tz_name).unwrap_or(TimeZone::UTC);
    let width = |f: &dyn Fn(&SessionEntry) -> String| {
        running
            .iter()
            .map(|s| f(s).chars().count())
            .max()
            .unwrap_or(0)
    };
    let key = |s: &SessionEntry| s.session_key.clone();
    let agent = |s: &SessionEntry| s.agent_id.clone();
    let tokens = |s: &SessionEntry| thousands(s.measures.tokens.total());
    let (key_w, agent_w, tokens_w) = (width(&key), width(&agent), width(&tokens));
    let lines: Vec<String> = running
        .iter()
        .map(|s| {
            let last = s
                .measures
                .last_timestamp
                .map_or("unknown".to_string(), |t| {
                    t.to_zoned_datetime(tz.clone())
                        .strftime("%m-%d %H:%M")
                        .to_string()
                });
            format!(
                "• {}  {}  {} tokens  {}  last active {last}",
                pad_right(&key(s), key_w),
                pad_right(&agent(s), agent_w),
                pad_left(&tokens(s), tokens_w),
                cost_of(&s.measures),
            )
        })
        .collect();
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::text::TextStyle;
    use tokenledger_core::event::SourceKind;
    use tokenledger_core::session::SessionState;

    fn state(key: &str, agent: &str, status: &str, last: &str) -> SessionState {
        SessionState {
            source: SourceKind::OpenClaw,
            session: key.into(),
            agent_id: agent.into(),
            model: Some("claude-sonnet-4-5".into()),
            status: Some(status.to_string()),
            last_activity: Some(fixtures::ts(last)),
        }
    }

    /// The seed day plus OpenClaw's store: one session running for two
    /// days without a request in the window, one finished in the window,
    /// one finished long before it.
    fn report() -> DailyReport {
        let data = fixtures::seed_day();
        let states = [
            state("agent:ops:main", "ops", "running", "2026-02-04T08:00:00Z"),
            state("agent:main:cron:1", "main", "done", "2026-02-06T12:00:00Z"),
            state("agent:main:old", "main", "done", "2026-01-01T00:00:00Z"),
        ];
        DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC")
            .with_session_states(&data, &states)
    }

    #[test]
    fn running_and_recently_touched_sessions_join_the_list() {
        let report = report();
        let keys: Vec<_> = report
            .sessions
            .iter()
            .map(|s| (s.session_key.as_str(), s.status.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("agent:ops:main", Some("running")),
                ("abc123", None),
                ("def456", None),
                ("agent:main:cron:1", Some("done")),
            ]
        );
        let ops = &report.sessions[0];
        assert_eq!(
            (ops.agent_id.as_str(), ops.source.as_str()),
            ("ops", "openclaw")
        );
        assert_eq!(ops.measures.tokens.total(), 0);
        // Usage totals are usage only.
        assert_eq!(report.totals.sessions, 2);
    }

    #[test]
    fn a_status_is_matched_by_source_and_key() {
        let mut data = fixtures::seed_day();
        for (keys, rows) in &mut data.groupings {
            if keys.contains(&tokenledger_core::query::GroupKey::Session) {
                keys.push(tokenledger_core::query::GroupKey::Source);
                for row in rows.iter_mut() {
                    row.keys
                        .push((tokenledger_core::query::GroupKey::Source, "openclaw".into()));
                }
            }
        }
        let states = [state("def456", "main", "running", "2026-02-06T11:30:00Z")];
        let report = DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC")
            .with_session_states(&data, &states);
        assert_eq!(report.sessions.len(), 2);
        assert!(report.sessions[1].is_running());
        assert_eq!(report.sessions[1].measures.tokens.total(), 1500);
    }

    #[test]
    fn the_text_lists_running_sessions_even_on_a_day_without_usage() {
        let plain = TextStyle {
            color: false,
            width: None,
        };
        insta::assert_snapshot!(super::super::render_text(&report(), &plain), @"
            📊 DAILY TOKEN USAGE REPORT
            📅 2026-02-06

            Summary
            ┌ Total Tokens: 19,500
            ├ Input: 16,200 (83.1%)
            ├ Output: 3,300 (16.9%)
            ├ Cost: $0.0855
            └ Sessions: 2

            By Model
            • anthropic/claude-sonnet-4-5  18,000 tokens  (1 session)  $0.0450
            • claude-opus-4-5               1,500 tokens  (1 session)  $0.0405

            By Agent
            • backend-engineer  18,000 tokens  (1 session)  $0.0450
            • main               1,500 tokens  (1 session)  $0.0405

            Hourly Breakdown (Last 24 Hours)
            11:00  █▍                 1,500 tokens (1 session) | $0.0405
            09:00  ████████████████  18,000 tokens (1 session) | $0.0450

            Active Sessions
            • agent:ops:main  ops  0 tokens  $0.0000  last active 02-04 08:00

            Generated at 20:00 UTC
            ");
        let mut idle = report();
        idle.totals = Default::default();
        idle.by_model.clear();
        idle.by_agent.clear();
        idle.hours.clear();
        idle.sessions.retain(|s| s.is_running());
        insta::assert_snapshot!(super::super::render_text(&idle, &plain), @"
            📊 DAILY TOKEN USAGE REPORT
            📅 2026-02-06

            No usage in this window (2026-02-05 20:00 – 2026-02-06 20:00 UTC).

            Active Sessions
            • agent:ops:main  ops  0 tokens  $0.0000  last active 02-04 08:00

            Generated at 20:00 UTC
            ");
    }
}
