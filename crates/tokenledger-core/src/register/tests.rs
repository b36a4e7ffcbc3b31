//! Property tests of the register reader against hostile lines.

use super::Register;
use super::line::{CostLiteral, NewEntry, ParsedLine, parse_line};
use crate::query::TimeWindow;
use proptest::prelude::*;

fn arb_entry() -> impl Strategy<Value = NewEntry> {
    (
        0i64..4_000_000_000,
        "\\PC{1,20}",
        "[a-z\"\\\\ é🦀-]{0,12}",
        "[a-z0-9/.-]{0,30}",
        any::<u32>(),
        any::<u32>(),
        proptest::option::of(0.0f64..1000.0),
        proptest::option::of(any::<u32>()),
        proptest::option::of("\\PC{0,10}"),
    )
        .prop_filter("a session key must not be blank", |t| {
            !t.1.trim().is_empty()
        })
        .prop_map(
            |(secs, key, agent, model, input, output, cost, cache, task)| NewEntry {
                timestamp: jiff::Timestamp::from_second(secs).unwrap(),
                session_key: key,
                agent_id: agent,
                model,
                tokens_input: u64::from(input),
                tokens_output: u64::from(output),
                cost: cost.map(CostLiteral::computed),
                tokens_cache_read: cache.map(u64::from),
                tokens_cache_write: None,
                tokens_cache_write_1h: None,
                task_id: task,
                project: None,
                source: None,
            },
        )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_line(&bytes);
    }

    #[test]
    fn every_written_line_reads_back(entry in arb_entry()) {
        let line = entry.to_line();
        prop_assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let ParsedLine::Entry(read) = parse_line(line.trim_end().as_bytes()) else {
            return Err(TestCaseError::fail(format!("not read back: {line}")));
        };
        prop_assert_eq!(read.timestamp, entry.timestamp);
        prop_assert_eq!(&*read.session_key, entry.session_key.as_str());
        prop_assert_eq!(read.tokens_input, entry.tokens_input);
        prop_assert_eq!(read.cost, entry.cost.as_ref().map(|c| c.value()));
        prop_assert_eq!(read.task_id.as_deref(), entry.task_id.as_deref());
    }

    #[test]
    fn reformatted_lines_read_the_same(entry in arb_entry(), bom in any::<bool>(), crlf in any::<bool>()) {
        let compact = entry.to_line();
        let value: serde_json::Value = serde_json::from_str(&compact).unwrap();
        let mut object = value.as_object().unwrap().clone();
        object.insert("unexpected".into(), serde_json::json!({"nested": [1, 2]}));
        let mut spaced = serde_json::to_string_pretty(&serde_json::Value::Object(object)).unwrap().replace('\n', " ");
        if bom { spaced.insert(0, '\u{feff}'); }
        if crlf { spaced.push('\r'); }
        let (ParsedLine::Entry(a), ParsedLine::Entry(b)) = (parse_line(compact.trim_end().as_bytes()), parse_line(spaced.as_bytes())) else {
            return Err(TestCaseError::fail("a reformatted line was rejected"));
        };
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_scan_counts_valid_lines_and_warns_about_each_broken_one(
        lines in proptest::collection::vec(
            prop_oneof![
                arb_entry().prop_map(|e| (e.to_line().trim_end().to_string(), true)),
                "[^\n]{0,40}".prop_map(|s| (s, false)),
                Just(("# comment".to_string(), false)),
            ],
            0..60,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let register = Register::in_home(dir.path());
        let text: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
        std::fs::write(register.path(), &text).unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut expected_events = 0u64;
        let mut expected_warnings = 0usize;
        for (l, _) in &lines {
            match parse_line(l.as_bytes()) {
                ParsedLine::Entry(e) => {
                    if seen.insert(e.session_key) { expected_events += 1 } else { expected_warnings += 1 }
                }
                ParsedLine::Malformed(_) => expected_warnings += 1,
                ParsedLine::Ignorable => {}
            }
        }
        let mut events = 0u64;
        let scan = register.scan(&TimeWindow::ALL, &mut |_| events += 1).unwrap();
        prop_assert_eq!(events, expected_events);
        prop_assert_eq!(scan.warnings.len(), expected_warnings);
        prop_assert!(scan.warnings.iter().all(|w| w.line.is_some_and(|n| n >= 1 && n as usize <= lines.len())));
        // Reading never rewrites.
        prop_assert_eq!(std::fs::read_to_string(register.path()).unwrap(), text);
    }
}

/// The fast path must read every line exactly as serde_json does, or decline.
mod fast_path {
    use super::super::fast::parse_flat;
    use super::super::line::RawEntry;
    use proptest::prelude::*;

    fn lines() -> impl Strategy<Value = String> {
        let value = prop_oneof![
            "\"[a-z0-9 :.\\\\/é\"-]{0,12}\"",
            "-?[0-9]{1,22}(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?",
            Just("null".to_string()),
            Just("true".to_string()),
            Just("{}".to_string()),
            Just("[1]".to_string()),
            Just("\"2026-02-05T20:00:00Z\"".to_string()),
        ];
        let key = prop_oneof![
            Just("timestamp"),
            Just("session_key"),
            Just("agent_id"),
            Just("model"),
            Just("tokens_input"),
            Just("tokens_output"),
            Just("tokens_cache_read"),
            Just("tokens_cache_write"),
            Just("tokens_cache_write_1h"),
            Just("cost"),
            Just("task_id"),
            Just("task"),
            Just("project"),
            Just("source"),
            Just("other"),
        ];
        proptest::collection::vec((key, value, " {0,2}"), 0..10).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v, ws)| format!("\"{k}\":{ws}{v}"))
                .collect();
            format!("{{{}}}", body.join(","))
        })
    }

    fn same(a: &RawEntry<'_>, b: &RawEntry<'_>) -> bool {
        let counts = |e: &RawEntry<'_>| {
            [
                &e.tokens_input,
                &e.tokens_output,
                &e.tokens_cache_read,
                &e.tokens_cache_write,
                &e.tokens_cache_write_1h,
            ]
            .map(|c| c.as_ref().map(|c| c.0))
        };
        let texts = |e: &RawEntry<'_>| {
            [
                &e.timestamp,
                &e.session_key,
                &e.agent_id,
                &e.model,
                &e.task_id,
                &e.project,
                &e.source,
            ]
            .map(|t| t.as_deref().map(str::to_string))
        };
        let cost = |e: &RawEntry<'_>| e.cost.as_ref().and_then(|m| m.0).map(f64::to_bits);
        // serde reads `null` counts as absent, the fast path as 0: both count 0.
        let zero = |c: [Option<u64>; 5]| c.map(|v| v.unwrap_or(0));
        texts(a) == texts(b) && zero(counts(a)) == zero(counts(b)) && cost(a) == cost(b)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn agrees_with_serde_or_declines(line in lines()) {
            if let Some(fast) = parse_flat(line.as_bytes()) {
                let slow: Result<RawEntry<'_>, _> = serde_json::from_str(&line);
                let Ok(slow) = slow else {
                    return Err(TestCaseError::fail(format!("fast path accepted what serde refuses: {line}")));
                };
                prop_assert!(same(&fast, &slow), "disagree on {}", line);
            }
        }
    }

    #[test]
    fn reads_the_seeds_lines() {
        let line = br#"{"timestamp":"2026-02-06T00:23:00Z","session_key":"test-session-001","agent_id":"main","model":"anthropic/claude-sonnet-4-5","tokens_input":1000,"tokens_output":500,"cost":0.0075}"#;
        let entry = parse_flat(line).expect("the seed's own line takes the fast path");
        assert_eq!(entry.session_key.as_deref(), Some("test-session-001"));
        assert_eq!(entry.tokens_output.map(|c| c.0), Some(500));
        assert!(
            parse_flat(br#"{"session_key":"a\"b"}"#).is_none(),
            "escapes go to serde"
        );
        assert!(
            parse_flat(br#"{"cost":1,"cost":2}"#).is_none(),
            "repeated keys go to serde"
        );
    }
}
