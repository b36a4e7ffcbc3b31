//! Hostile input (huge lines, symlinks, unreadable and garbage files) and the
//! pieces on their own: path rules, line parsing, order-independent dedupe.

use super::dedupe::{Candidate, Candidates, HAS_SPEED, PROGRESS, SIDECHAIN};
use super::parser::{Parsed, parse_line};
use super::paths::{FileKind, describe};
use super::tests::{S2, by_day, fixture_home, fixture_roots, run};
use super::*;
use std::fs;
use std::path::Path;
use tokenledger_core::event::TokenCounts;

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn usage_line(id: &str, ts: &str, text_len: usize) -> String {
    format!(
        r#"{{"type":"assistant","timestamp":"{ts}","sessionId":"{S2}","requestId":"req_{id}","message":{{"id":"msg_{id}","model":"claude-sonnet-4-5-20250929","content":[{{"type":"text","text":"{}"}}],"usage":{{"input_tokens":7,"output_tokens":700,"cache_read_input_tokens":7000,"cache_creation_input_tokens":70}}}}}}"#,
        "x".repeat(text_len)
    )
}

#[test]
fn a_line_over_a_megabyte_is_read_on_both_paths() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixture_home(), tmp.path());
    let file = tmp
        .path()
        .join(format!(".claude/projects/-home-me-src-app/{S2}.jsonl"));
    let mut text = fs::read_to_string(&file).unwrap();
    text.push_str(&usage_line("BIG", "2026-01-13T09:00:00.000Z", 1_500_000));
    text.push('\n');
    fs::write(&file, text).unwrap();
    let mut source = ClaudeCodeSource::with_roots(fixture_roots(tmp.path()));
    for piece_bytes in [u64::MAX, 4096, 700_000] {
        source.piece_bytes = piece_bytes;
        let (events, scan) = run(&source, &TimeWindow::ALL);
        assert_eq!(by_day(&events)["2026-01-13"], [7, 700, 7000, 70, 7777]);
        assert_eq!(
            scan.warnings.len(),
            4,
            "only the fixture's own: {:?}",
            scan.warnings
        );
    }
}

#[test]
fn bad_files_and_directories_warn_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("projects/p");
    fs::create_dir_all(&p).unwrap();
    fs::create_dir_all(tmp.path().join("projects/empty")).unwrap();
    fs::write(
        p.join("good.jsonl"),
        usage_line("OK", "2026-02-01T00:00:00Z", 3) + "\n",
    )
    .unwrap();
    // Binary garbage: NULs, invalid UTF-8, and a "usage" inside non-JSON.
    let mut garbage = vec![0u8, 159, 146, 150, b'\n'];
    garbage.extend_from_slice(b"{\"usage\":\xff\xfe}\n");
    garbage.extend((0..2000u32).flat_map(|i| [b'#', (i % 251) as u8, b'\n']));
    fs::write(p.join("garbage.jsonl"), garbage).unwrap();
    std::os::unix::fs::symlink("..", p.join("loop")).unwrap();
    std::os::unix::fs::symlink("self.jsonl", p.join("self.jsonl")).unwrap();
    std::os::unix::fs::symlink("missing.jsonl", p.join("dangling.jsonl")).unwrap();
    // Opens, then fails to read (EIO) even as root.
    let unreadable = Path::new("/proc/self/mem").exists();
    if unreadable {
        std::os::unix::fs::symlink("/proc/self/mem", p.join("mem.jsonl")).unwrap();
    }
    let source =
        ClaudeCodeSource::with_roots(vec![tmp.path().to_path_buf(), tmp.path().join("gone")]);
    let (events, scan) = run(&source, &TimeWindow::ALL);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].dedupe_key.as_deref(), Some("cc:msg_OK:req_OK"));
    let about = |name: &str| {
        scan.warnings
            .iter()
            .filter(|w| w.path.ends_with(name))
            .count()
    };
    assert_eq!(about("loop"), 1, "{:#?}", scan.warnings);
    assert_eq!(about("self.jsonl"), 1);
    assert_eq!(about("dangling.jsonl"), 1);
    assert_eq!(about("gone/projects"), 1);
    assert_eq!(about("mem.jsonl"), usize::from(unreadable));
    // Garbage: capped per-line warnings plus one summary, never a panic.
    let garbage: Vec<_> = scan
        .warnings
        .iter()
        .filter(|w| w.path.ends_with("garbage.jsonl"))
        .collect();
    assert_eq!(garbage.len(), 21);
    let lines: Vec<_> = garbage.iter().filter_map(|w| w.line).collect();
    assert_eq!(lines[..2], [1, 2]);
    assert!(
        garbage
            .iter()
            .any(|w| w.line.is_none() && w.message.starts_with("1982 more"))
    );
    assert_eq!(
        scan.searched,
        vec![
            tmp.path().join("projects"),
            tmp.path().join("gone/projects")
        ]
    );
}

#[test]
fn a_file_reached_twice_is_read_once_and_a_vanished_file_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a/projects/p");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(tmp.path().join("b/projects")).unwrap();
    // No message.id: only reading the file once keeps this from doubling.
    let line = r#"{"timestamp":"2026-03-01T00:00:00Z","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":2}}}"#;
    fs::write(a.join("s.jsonl"), format!("{line}\n")).unwrap();
    std::os::unix::fs::symlink(&a, tmp.path().join("b/projects/p")).unwrap();
    let roots = vec![
        tmp.path().join("a"),
        tmp.path().join("a/projects"),
        tmp.path().join("b"),
    ];
    let (events, scan) = run(&ClaudeCodeSource::with_roots(roots), &TimeWindow::ALL);
    assert_eq!(
        (events.len(), scan.files.len(), scan.searched.len()),
        (1, 1, 3)
    );
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);

    let gone = describe(tmp.path(), &tmp.path().join("p/vanished.jsonl"), 10);
    let (candidates, warnings) = loader::load(&gone, 0, &dedupe::Names::default(), u64::MAX);
    assert_eq!(candidates.len(), 0);
    assert!(warnings[0].message.starts_with("cannot open"));
}

#[test]
fn paths_name_project_session_and_agent() {
    let root = Path::new("/r/projects");
    let d = |rel: &str| describe(root, &root.join(rel), 0);
    let main = d("-home-me-app/abc.jsonl");
    assert_eq!(
        (&*main.project_dir, &*main.session, &main.kind),
        ("-home-me-app", "abc", &FileKind::Main)
    );
    let sub = d("-home-me-app/abc/subagents/agent-6e067db7.jsonl");
    assert_eq!(
        (&*sub.session, &sub.kind),
        (
            "abc",
            &FileKind::Subagent {
                agent: "6e067db7".into()
            }
        )
    );
    let flat = d("-home-me-app/agent-a1b2c3d4.jsonl");
    assert_eq!(
        flat.kind,
        FileKind::FlatAgent {
            agent: "a1b2c3d4".into()
        }
    );
    let nested = d("proj/session-alpha/chat.jsonl");
    assert_eq!(
        (&*nested.project_dir, &*nested.session),
        ("proj", "session-alpha")
    );
    assert_eq!(&*d("stray.jsonl").project_dir, "unknown");
    assert_eq!(
        paths::projects_dir(Path::new("/nonexistent/projects")),
        Path::new("/nonexistent/projects")
    );
    assert_eq!(
        paths::projects_dir(Path::new("/nonexistent/.claude")),
        Path::new("/nonexistent/.claude/projects")
    );
}

#[test]
fn parsing_skips_cheaply_and_accepts_any_valid_json() {
    assert_eq!(
        parse_line(br#"{"type":"user","message":{"content":"hi"}}"#),
        Parsed::Nothing
    );
    assert_eq!(parse_line(b"  \r"), Parsed::Nothing);
    assert!(matches!(
        parse_line(b"garbage \"usage\""),
        Parsed::Malformed(_)
    ));
    // A Task tool result carries `usage` outside `message`: never counted.
    let tool = br#"{"type":"user","timestamp":"2026-01-01T00:00:00Z","message":{"role":"user","content":[]},"toolUseResult":{"usage":{"input_tokens":5,"output_tokens":5}}}"#;
    assert_eq!(parse_line(tool), Parsed::Nothing);
    // Other line types may use `message` or `data` for strings.
    assert_eq!(
        parse_line(br#"{"type":"system","message":"usage","data":[1,{"a":null}]}"#),
        Parsed::Nothing
    );
    let spaced = br#"{ "timestamp" : "2026-01-01T00:00:00Z" , "cwd" : "C:\\work\\\"q\"" , "message" : { "model" : "m" , "usage" : { "input_tokens" : 1 , "output_tokens" : 2 } } }"#;
    let Parsed::Record(r) = parse_line(spaced) else {
        panic!("{:?}", parse_line(spaced))
    };
    assert_eq!(
        (r.cwd.as_deref(), r.tokens.total()),
        (Some(r#"C:\work\"q""#), 3)
    );
    // ccusage's null rule judges usage lines only: this one carries no usage.
    let null_cwd =
        br#"{"cwd":null,"message":{"role":"user","content":"the \"usage\" flag"},"x":{"usage":1}}"#;
    assert_eq!(parse_line(null_cwd), Parsed::Nothing);
    let no_output =
        br#"{"timestamp":"2026-01-01T00:00:00Z","message":{"usage":{"input_tokens":1}}}"#;
    assert!(matches!(parse_line(no_output), Parsed::Skipped(_)));
    let bad_ts =
        br#"{"timestamp":"yesterday","message":{"usage":{"input_tokens":1,"output_tokens":1}}}"#;
    assert!(matches!(parse_line(bad_ts), Parsed::Skipped(_)));
    for (version, ok) in [
        ("2.1.233", true),
        ("1.0.9-beta.1", true),
        ("2.1", false),
        ("v2.1.0", false),
    ] {
        let line = format!(
            r#"{{"version":"{version}","timestamp":"2026-01-01T00:00:00Z","message":{{"usage":{{"input_tokens":1,"output_tokens":1}}}}}}"#
        );
        assert_eq!(
            matches!(parse_line(line.as_bytes()), Parsed::Record(_)),
            ok,
            "{version}"
        );
    }
}

fn cand(total: u64, flags: u8, order: u64, message_hash: u64) -> Candidate {
    Candidate {
        micros: 0,
        tokens: TokenCounts {
            input: total,
            ..TokenCounts::default()
        },
        cost: None,
        model: 0,
        session: 0,
        project: 0,
        agent: 0,
        order: (0, order),
        flags,
        message_hash,
        key: dedupe::Key::default(),
    }
}

/// (message.id, requestId, candidate) in every order, one file each or one
/// file for all: the same copies must win.
#[test]
fn dedupe_winners_do_not_depend_on_reading_order() {
    let m = dedupe::message_hash("m");
    let copies: Vec<(&str, Option<&str>, Candidate)> = vec![
        ("m", Some("r1"), cand(10, 0, 1, m)),
        ("m", Some("r1"), cand(10, HAS_SPEED, 2, m)),
        ("m", Some("r1"), cand(10, HAS_SPEED | PROGRESS, 3, m)),
        ("m", Some("r2"), cand(500, SIDECHAIN, 4, m)),
        ("m", Some("r3"), cand(4, 0, 5, m)),
        (
            "s",
            Some("r9"),
            cand(7, SIDECHAIN | PROGRESS, 6, dedupe::message_hash("s")),
        ),
        (
            "s",
            Some("r8"),
            cand(6, SIDECHAIN, 7, dedupe::message_hash("s")),
        ),
    ];
    let winners = |order: &[usize], merge_each: bool| {
        let mut all = Candidates::default();
        for &i in order {
            let (mid, rid, c) = &copies[i];
            if merge_each {
                let mut one = Candidates::default();
                one.add(c.clone(), Some(mid), *rid);
                all.merge(one);
            } else {
                all.add(c.clone(), Some(mid), *rid);
            }
        }
        let (w, dups) = all.into_winners();
        let mut orders: Vec<u64> = w.iter().map(|c| c.order.1).collect();
        orders.sort();
        (orders, dups)
    };
    // r1: the copy with speed, direct over progress; r3 kept; r2's sidechain
    // copy dropped (m is counted); s: the larger sidechain copy.
    let expected = (vec![2, 5, 6], 4);
    let mut order: Vec<usize> = (0..copies.len()).collect();
    for round in 0..200 {
        order.rotate_left(round % 5 + 1);
        order.swap(round % 7, (round * 3) % 7);
        assert_eq!(winners(&order, round % 2 == 0), expected, "{order:?}");
    }
}

#[test]
fn short_and_long_ids_hash_alike() {
    let long = "m".repeat(200);
    for (m, r) in [
        ("msg_1", Some("req_1")),
        ("msg_1", None),
        (long.as_str(), Some("r")),
    ] {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(m.as_bytes());
        match r {
            Some(r) => {
                h.update(b"\x00");
                h.update(r.as_bytes());
            }
            None => h.update(b"\x01"),
        }
        assert_eq!(dedupe::exact_hash(m, r), h.digest128());
    }
}
