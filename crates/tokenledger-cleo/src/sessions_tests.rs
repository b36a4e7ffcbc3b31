use super::*;

/// CLEO's real SESSIONS.jsonl @ 84a565d2b (two writers, one session), then
/// the spec's record, then a broken line.
const WILD: &str = r#"{
  "session_id": "session_20260202_224727_014566",
  "start_timestamp": "2026-02-03T06:47:27Z",
  "end_timestamp": "2026-02-03T06:57:21Z",
  "tokens": {
    "start": 0,
    "end": 69987,
    "consumed": 69987,
    "max": 200000
  },
  "stats": {
    "tasks_completed": 0,
    "focus_changes": 1
  }
}
{"session_id":"session_20260202_224727_014566","start_timestamp":"2026-02-03T06:47:27Z","end_timestamp":"2026-02-03T06:57:22Z","tokens":{"start":0,"end":0,"consumed":0,"max":200000},"stats":{"tasks_completed":0,"focus_changes":1,"suspend_count":0,"resume_count":0},"efficiency":{"session_efficiency_score":0,"human_intervention_rate":0.0000,"context_utilization":0}}
{"timestamp":"2026-02-01T10:30:00Z","session_id":"session_20260201_103000_abc123","event":"end","tokens":{"input":45230,"output":12450,"total":57680,"delta":23450},"duration_minutes":45,"tasks_completed":3}
{"timestamp": "broken
"#;

fn read_text(text: &str) -> (Vec<SessionRecord>, Vec<Warning>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SESSIONS.jsonl");
    std::fs::write(&path, text).unwrap();
    read(&path).unwrap()
}

#[test]
fn survives_the_wild_file() {
    let (records, warnings) = read_text(WILD);
    assert_eq!(records.len(), 3);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].line, Some(18));
    assert_eq!(records[0].line, 1);
    assert_eq!(records[0].total, 69987);
    assert_eq!(records[0].duration_minutes, Some(9));
    assert_eq!(records[0].source, TokensSource::CleoContext);
    assert_eq!(records[2].tokens.input, 45230);
    assert_eq!((records[2].total, records[2].delta), (57680, 23450));
    // Two records for one session: the non-zero one is kept.
    let ends = ends_by_session(&records);
    assert_eq!(ends.len(), 2);
    assert_eq!(ends[0].total, 69987);
}

#[test]
fn written_records_keep_the_spec_order_and_read_back() {
    let record = SessionRecord {
        timestamp: "2026-02-01T10:30:00Z".parse().unwrap(),
        session_id: "session_20260201_103000_abc123".into(),
        event: Event::End,
        tokens: TokenCounts {
            input: 45230,
            output: 12450,
            cache_read: 8000,
            cache_write_5m: 1500,
            cache_write_1h: 500,
            reasoning: 0,
        },
        total: 67680,
        delta: 23450,
        duration_minutes: Some(45),
        tasks_completed: Some(3),
        source: TokensSource::Transcript,
        claude_session_id: Some("abc".into()),
        model: Some("claude-sonnet-4-5".into()),
        cost_usd: Some(0.5),
        line: 1,
    };
    let line = record.to_line();
    assert_eq!(
        line,
        "{\"timestamp\":\"2026-02-01T10:30:00Z\",\"session_id\":\"session_20260201_103000_abc123\",\"event\":\"end\",\
         \"tokens\":{\"input\":45230,\"output\":12450,\"total\":67680,\"delta\":23450,\"cache_read\":8000,\"cache_write\":2000,\"cache_write_1h\":500},\
         \"duration_minutes\":45,\"tasks_completed\":3,\"tokens_source\":\"claude-code-transcript\",\"estimated\":false,\
         \"claude_session_id\":\"abc\",\"model\":\"claude-sonnet-4-5\",\"cost_usd\":0.5}\n"
    );
    let (back, warnings) = read_text(&line);
    assert!(warnings.is_empty());
    assert_eq!(back[0], record);
}

#[test]
fn open_sessions_and_ids() {
    let text = "{\"timestamp\":\"2026-02-01T10:00:00Z\",\"session_id\":\"a\",\"event\":\"start\"}\n\
                {\"timestamp\":\"2026-02-01T10:01:00Z\",\"session_id\":\"b\",\"event\":\"start\",\"claude_session_id\":\"cc\"}\n\
                {\"timestamp\":\"2026-02-01T10:02:00Z\",\"session_id\":\"b\",\"event\":\"end\"}\n";
    let (records, _) = read_text(text);
    assert_eq!(open_session(&records).unwrap().session_id, "a");
    assert_eq!(
        find_start(&records, None, Some("cc")).unwrap().session_id,
        "b"
    );
    let id = new_session_id("2026-02-01T10:30:00Z".parse().unwrap(), "cc");
    assert!(
        id.starts_with("session_20260201_103000_") && id.len() == 30,
        "{id}"
    );
    assert_eq!(
        id,
        new_session_id("2026-02-01T10:30:00Z".parse().unwrap(), "cc")
    );
}
