use super::*;
use crate::sessions::{Event, TokensSource};
use serde_json::{Map, json};

fn rec(kind: &str, task: Option<&str>, tokens: u64, context: Value) -> UsageRecord {
    UsageRecord {
        timestamp: "2026-02-01T10:00:00Z".parse().unwrap(),
        event_type: EventType::parse(kind),
        estimated_tokens: tokens,
        source: "test".into(),
        task_id: task.map(str::to_string),
        session_id: Some("S1".into()),
        context: context.as_object().cloned().unwrap_or_else(Map::new),
    }
}

fn end(source: TokensSource) -> SessionRecord {
    let tokens = TokenCounts {
        input: 1000,
        output: 200,
        cache_read: 10_000,
        cache_write_5m: 0,
        cache_write_1h: 500,
        reasoning: 0,
    };
    SessionRecord {
        timestamp: "2026-02-01T11:00:00Z".parse().unwrap(),
        session_id: "S1".into(),
        event: Event::End,
        tokens,
        total: tokens.total(),
        delta: tokens.total(),
        duration_minutes: None,
        tasks_completed: None,
        source,
        claude_session_id: None,
        model: None,
        cost_usd: None,
        line: 1,
    }
}

fn records() -> Vec<UsageRecord> {
    let actual = json!({"actual": {"agent_id": "subagent:a", "input": 400, "output": 50,
        "cache_read": 4000, "cache_write_5m": 0, "cache_write_1h": 100, "cost_usd": 0.25}});
    vec![
        rec(
            "spawn_start",
            Some("T1"),
            300,
            json!({"protocol": "research"}),
        ),
        rec("spawn_end", Some("T1"), 100, actual.clone()),
        // The same run reported by a second SubagentStop counts once.
        rec("spawn_end", Some("T1"), 0, actual),
        rec("spawn_start", Some("T2"), 300, json!({})),
        rec("skill_inject", Some("T2"), 100, json!({})),
        rec("spawn_start", Some("T3"), 200, json!({"protocol": "impl"})),
        rec("session_start", Some("T3"), 9999, json!({})),
        rec("spawn_start", None, 50, json!({})),
    ]
}

#[test]
fn actual_reconciled_and_estimated_per_task() {
    let usage = records();
    let end = end(TokensSource::Transcript);
    let rows = tasks(&usage, &[&end]);
    let ids: Vec<&str> = rows.iter().map(|r| r.task_id.as_str()).collect();
    assert_eq!(ids, ["T1", "T2", "T3"]);
    let [t1, t2, t3] = [&rows[0], &rows[1], &rows[2]];
    assert_eq!(
        (t1.estimated, t1.basis(), t1.tokens()),
        (400, Basis::Actual, 4550)
    );
    assert_eq!(t1.protocol.as_deref(), Some("research"));
    assert_eq!(t1.actual_cost_usd, Some(0.25));
    assert!((t1.error_pct().unwrap() - (400.0 - 4550.0) * 100.0 / 4550.0).abs() < 1e-9);
    // 600 input, 150 output, 6000 cache reads and 400 1h writes left, 2:1.
    let r2 = t2.reconciled.unwrap();
    let r3 = t3.reconciled.unwrap();
    assert_eq!(
        (r2.input, r2.output, r2.cache_read, r2.cache_write_1h),
        (400, 100, 4000, 267)
    );
    assert_eq!(
        (r3.input, r3.output, r3.cache_read, r3.cache_write_1h),
        (200, 50, 2000, 133)
    );
    assert_eq!(
        (t2.basis(), t2.tokens(), t3.tokens()),
        (Basis::Reconciled, 4767, 2383)
    );
    assert_eq!(t2.error_pct(), None, "no actual, no error");
    assert_eq!(t1.tokens() + t2.tokens() + t3.tokens(), end.total);
}

#[test]
fn estimated_sessions_leave_estimates_alone() {
    let usage = records();
    let end = end(TokensSource::Estimate);
    let rows = tasks(&usage, &[&end]);
    assert_eq!(rows[1].basis(), Basis::Estimate);
    assert_eq!(rows[1].tokens(), 400);
}

#[test]
fn session_splits_cover_measured_and_reconciled_tasks() {
    let splits = session_splits(&records(), &end(TokensSource::Transcript));
    let summary: Vec<(&str, Basis, u64)> = splits
        .iter()
        .map(|s| (s.task_id.as_str(), s.basis, s.tokens.total()))
        .collect();
    assert_eq!(
        summary,
        [
            ("T1", Basis::Actual, 4550),
            ("T2", Basis::Reconciled, 4767),
            ("T3", Basis::Reconciled, 2383)
        ]
    );
}

#[test]
fn largest_remainder_adds_up() {
    assert_eq!(largest_remainder(10, &[1, 1, 1]), [4, 3, 3]);
    assert_eq!(largest_remainder(400, &[400, 200]), [267, 133]);
    assert_eq!(largest_remainder(5, &[0, 0]), [0, 0]);
    assert_eq!(
        largest_remainder(u64::MAX, &[u64::MAX, 1])
            .iter()
            .sum::<u64>(),
        u64::MAX
    );
}
