//! The register: one line (its fast path and serde), and a whole file read
//! by `Register::scan` (the parallel reader with its own fast path).

use crate::{check_event, lines, scratch};
use std::collections::HashSet;
use std::sync::Arc;
use tokenledger_core::event::UsageEvent;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::register::{
    CostLiteral, NewEntry, ParsedLine, Register, StoredEntry, parse_line,
};
use tokenledger_core::time::format_register_timestamp;

/// A line that counts, written back as `log` writes it, reads back as the
/// same entry (to the second, which is all the register keeps).
pub fn register_line(data: &[u8]) {
    for (line, _) in lines(data) {
        round_trip(line);
    }
}

fn round_trip(line: &[u8]) {
    let entry = match parse_line(line) {
        ParsedLine::Entry(entry) => entry,
        ParsedLine::Malformed(reason) => return assert!(!reason.is_empty()),
        ParsedLine::Ignorable => return,
    };
    let written = as_logged(&entry).to_line();
    let ParsedLine::Entry(mut back) = parse_line(written.as_bytes()) else {
        panic!("{written:?}, written from {entry:?}, does not read back");
    };
    assert_eq!(
        format_register_timestamp(back.timestamp),
        format_register_timestamp(entry.timestamp),
        "{written:?}"
    );
    back.timestamp = entry.timestamp;
    assert_eq!(back, entry, "{written:?}");
    check_event(&entry.into_event());
}

fn as_logged(entry: &StoredEntry) -> NewEntry {
    let text = |s: &Option<Arc<str>>| s.as_deref().map(str::to_string);
    NewEntry {
        timestamp: entry.timestamp,
        session_key: entry.session_key.to_string(),
        agent_id: entry.agent_id.to_string(),
        model: entry.model.to_string(),
        tokens_input: entry.tokens_input,
        tokens_output: entry.tokens_output,
        // The shortest literal that reads back as the same number.
        cost: entry.cost.map(|cost| {
            let literal = serde_json::Number::from_f64(cost).expect("costs are finite");
            CostLiteral::parse(&literal.to_string()).expect("a cost the register read")
        }),
        tokens_cache_read: Some(entry.tokens_cache_read),
        tokens_cache_write: Some(entry.tokens_cache_write),
        tokens_cache_write_1h: Some(entry.tokens_cache_write_1h),
        task_id: text(&entry.task_id),
        project: text(&entry.project),
        source: text(&entry.source),
    }
}

/// The scan (chunks, fast path, duplicate check) reports exactly what
/// `parse_line` says of each line in turn: every event and every warning,
/// at its line.
pub fn register_file(data: &[u8]) {
    let (events, warnings) = scratch::with_file("register", "r/register.jsonl", data, |_, path| {
        let register = Register::at(path.to_path_buf());
        let mut events = Vec::new();
        let scan = register
            .scan(&TimeWindow::ALL, &mut |e| events.push(e.clone()))
            .expect("a readable register");
        assert_eq!(scan.events, events.len() as u64);
        let warnings: Vec<(Option<u64>, String)> = scan
            .warnings
            .into_iter()
            .map(|w| (w.line, w.message))
            .collect();
        (events, warnings)
    });
    let (expected_events, expected_warnings) = expected(data);
    assert_eq!(warnings, expected_warnings);
    assert_eq!(events, expected_events);
    events.iter().for_each(check_event);
}

fn expected(data: &[u8]) -> (Vec<UsageEvent>, Vec<(Option<u64>, String)>) {
    let (mut events, mut warnings) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for (number, (line, terminated)) in (1..).zip(lines(data)) {
        match parse_line(line) {
            ParsedLine::Ignorable => {}
            ParsedLine::Entry(e) if !seen.insert(e.session_key.clone()) => warnings.push((
                Some(number),
                format!(
                    "session_key {:?} was already logged; this later line is not counted again",
                    e.session_key
                ),
            )),
            ParsedLine::Entry(e) => events.push(e.into_event()),
            ParsedLine::Malformed(reason) if terminated => {
                warnings.push((Some(number), format!("{reason}; line skipped")))
            }
            ParsedLine::Malformed(reason) => warnings.push((
                Some(number),
                format!("incomplete last line ({reason}); skipped"),
            )),
        }
    }
    (events, warnings)
}
