use super::journal;
use super::*;
use crate::register::{ParsedLine, parse_line};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::io::Read;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn entry(timestamp: &str, key: &str) -> String {
    format!(
        r#"{{"timestamp":"{timestamp}","session_key":"{key}","agent_id":"main","model":"claude-sonnet-4","tokens_input":10,"tokens_output":5}}"#
    )
}

const NOW: &str = "2026-03-15T12:00:00Z";

/// Entries from four months, comments, a blank, a malformed and a CRLF line,
/// and a last line without its newline. Returns the register and the exact
/// expected live register after `rotate(2, NOW)`.
fn fixture(dir: &Path) -> (Register, Vec<u8>) {
    let register = Register::in_home(dir);
    let mut text = String::new();
    let mut expected = String::new();
    let mut both = |line: &str, keep: bool| {
        text.push_str(line);
        if keep {
            expected.push_str(line);
        }
    };
    both("# tokenledger register\n", true);
    both(
        &format!("{}\n", entry("2025-12-31T23:59:59Z", "dec-1")),
        false,
    );
    both(
        &format!("{}\r\n", entry("2026-01-03T10:00:00Z", "jan-crlf")),
        false,
    );
    both("\n", true);
    both(
        &format!("{}\n", entry("2026-02-10T08:00:00Z", "feb-1")),
        true,
    );
    both("{not json at all\n", true);
    // 00:30 at +01:00 is still January in UTC.
    both(
        &format!("{}\n", entry("2026-02-01T00:30:00+01:00", "jan-offset")),
        false,
    );
    both("   # indented comment\r\n", true);
    both(
        &format!("{}\r\n", entry("2026-03-01T00:00:00Z", "mar-crlf")),
        true,
    );
    both(
        &format!("{}\n", entry("2026-02-01T00:00:00Z", "feb-first-instant")),
        true,
    );
    both(&entry("2026-01-20T00:00:00Z", "jan-no-newline"), false);
    std::fs::write(register.path(), &text).unwrap();
    (register, expected.into_bytes())
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip_members(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut rest: &[u8] = &bytes;
    let mut members = 0;
    while !rest.is_empty() {
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        std::io::copy(&mut decoder, &mut std::io::sink()).unwrap();
        rest = decoder.into_inner();
        members += 1;
    }
    members
}

fn lines_of(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty())
}

/// Every valid entry line in the register and all archives, sorted.
fn all_entries(register: &Register) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut collect = |bytes: &[u8]| {
        for line in lines_of(bytes) {
            if let ParsedLine::Entry(_) = parse_line(line) {
                lines.push(line.to_vec());
            }
        }
    };
    if let Ok(bytes) = std::fs::read(register.path()) {
        collect(&bytes);
    }
    for archive in register.archives().unwrap() {
        collect(&gunzip(&archive.path));
    }
    lines.sort();
    lines
}

/// No leftovers, and nothing in the register older than the cutoff.
fn assert_complete(register: &Register, keep: u32, now: Timestamp) {
    let cutoff = rotation_cutoff(keep, now).unwrap().unwrap();
    assert!(!register.rotation_pending());
    assert!(!journal::exists(&journal::tmp_path(register)));
    assert!(!journal::exists(&journal::journal_tmp_path(register)));
    for line in lines_of(&std::fs::read(register.path()).unwrap()) {
        if let ParsedLine::Entry(entry) = parse_line(line) {
            assert!(
                entry.timestamp >= cutoff,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
    for archive in register.archives().unwrap() {
        for line in lines_of(&gunzip(&archive.path)) {
            let ParsedLine::Entry(entry) = parse_line(line) else {
                panic!("archived non-entry {}", String::from_utf8_lossy(line));
            };
            let civil = TimeZone::UTC.to_datetime(entry.timestamp);
            assert_eq!((civil.year(), civil.month()), (archive.year, archive.month));
        }
    }
}

#[test]
fn cutoff_is_the_first_instant_of_the_oldest_kept_month() {
    let now = ts(NOW);
    assert_eq!(
        rotation_cutoff(1, now).unwrap(),
        Some(ts("2026-03-01T00:00:00Z"))
    );
    assert_eq!(
        rotation_cutoff(2, now).unwrap(),
        Some(ts("2026-02-01T00:00:00Z"))
    );
    assert_eq!(
        rotation_cutoff(4, now).unwrap(),
        Some(ts("2025-12-01T00:00:00Z"))
    );
    assert_eq!(rotation_cutoff(u32::MAX, now).unwrap(), None);
    assert!(matches!(
        rotation_cutoff(0, now),
        Err(Error::InvalidField {
            field: "keep_months",
            ..
        })
    ));
}

#[test]
fn rotates_old_months_into_their_archives_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (register, expected_live) = fixture(dir.path());
    std::fs::write(register.index_path(), b"stale index").unwrap();
    let before = all_entries(&register);

    let summary = register.rotate(2, ts(NOW)).unwrap();

    let dec = register.archive_path(2025, 12);
    let jan = register.archive_path(2026, 1);
    assert_eq!(
        summary,
        RotateSummary {
            moved: 4,
            kept: 3,
            archives: vec![(dec.clone(), 1), (jan.clone(), 3)],
        }
    );
    assert_eq!(
        String::from_utf8(gunzip(&dec)).unwrap(),
        format!("{}\n", entry("2025-12-31T23:59:59Z", "dec-1"))
    );
    assert_eq!(
        String::from_utf8(gunzip(&jan)).unwrap(),
        format!(
            "{}\r\n{}\n{}\n",
            entry("2026-01-03T10:00:00Z", "jan-crlf"),
            entry("2026-02-01T00:30:00+01:00", "jan-offset"),
            entry("2026-01-20T00:00:00Z", "jan-no-newline"),
        )
    );
    assert_eq!(std::fs::read(register.path()).unwrap(), expected_live);
    assert_eq!(all_entries(&register), before);
    assert!(!journal::exists(&register.index_path()));
    assert_complete(&register, 2, ts(NOW));
    assert_eq!(register.archives().unwrap().len(), 2);
}

#[test]
fn keep_one_keeps_only_this_month_and_a_kept_last_line_keeps_its_missing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::in_home(dir.path());
    let old = entry("2026-02-28T23:59:59Z", "feb");
    let new = entry("2026-03-01T00:00:00Z", "mar");
    std::fs::write(register.path(), format!("{old}\n{new}")).unwrap();
    let summary = register.rotate(1, ts(NOW)).unwrap();
    assert_eq!((summary.moved, summary.kept), (1, 1));
    assert_eq!(std::fs::read_to_string(register.path()).unwrap(), new);
    assert_eq!(
        gunzip(&register.archive_path(2026, 2)),
        format!("{old}\n").into_bytes()
    );
}

#[test]
fn nothing_to_move_changes_nothing_and_a_missing_register_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::in_home(dir.path());
    assert_eq!(
        register.rotate(2, ts(NOW)).unwrap(),
        RotateSummary::default()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let text = format!("# c\n{}\n", entry("2026-02-10T08:00:00Z", "feb"));
    std::fs::write(register.path(), &text).unwrap();
    let ino = std::fs::metadata(register.path()).unwrap().ino();
    let summary = register.rotate(2, ts(NOW)).unwrap();
    assert_eq!((summary.moved, summary.kept), (0, 1));
    assert!(summary.archives.is_empty());
    assert_eq!(std::fs::metadata(register.path()).unwrap().ino(), ino);
    assert_eq!(std::fs::read_to_string(register.path()).unwrap(), text);
    assert!(register.archives().unwrap().is_empty());
    assert!(!journal::exists(&journal::tmp_path(&register)));
    assert!(matches!(
        register.rotate(0, ts(NOW)),
        Err(Error::InvalidField { .. })
    ));
}

#[test]
fn a_second_run_changes_nothing_and_next_month_appends_a_second_member() {
    let dir = tempfile::tempdir().unwrap();
    let (register, expected_live) = fixture(dir.path());
    let before = all_entries(&register);
    register.rotate(2, ts(NOW)).unwrap();
    let jan = register.archive_path(2026, 1);
    let jan_bytes = std::fs::read(&jan).unwrap();
    let ino = std::fs::metadata(register.path()).unwrap().ino();

    let again = register.rotate(2, ts(NOW)).unwrap();
    assert_eq!((again.moved, again.kept), (0, 3));
    assert!(again.archives.is_empty());
    assert_eq!(std::fs::metadata(register.path()).unwrap().ino(), ino);
    assert_eq!(std::fs::read(register.path()).unwrap(), expected_live);
    assert_eq!(std::fs::read(&jan).unwrap(), jan_bytes);

    // A late January entry, then April: February and the late one rotate.
    let late = entry("2026-01-31T12:00:00Z", "jan-late");
    let mut file = OpenOptions::new()
        .append(true)
        .open(register.path())
        .unwrap();
    writeln!(file, "{late}").unwrap();
    let april = ts("2026-04-02T00:00:00Z");
    let summary = register.rotate(2, april).unwrap();
    assert_eq!(summary.moved, 3);
    assert_eq!(
        summary.archives,
        vec![(jan.clone(), 1), (register.archive_path(2026, 2), 2)]
    );
    assert_eq!(gzip_members(&jan), 2);
    assert_eq!(gzip_members(&register.archive_path(2026, 2)), 1);
    let jan_text = String::from_utf8(gunzip(&jan)).unwrap();
    assert!(jan_text.starts_with(&entry("2026-01-03T10:00:00Z", "jan-crlf")));
    assert!(jan_text.ends_with(&format!("{late}\n")));
    let mut expected = before;
    expected.push(late.into_bytes());
    expected.sort();
    assert_eq!(all_entries(&register), expected);
    assert_complete(&register, 2, april);
}

const STEPS: [Step; 7] = [
    Step::AfterTmp,
    Step::AfterJournal,
    Step::MidArchive,
    Step::AfterArchive,
    Step::BeforeRename,
    Step::AfterRename,
    Step::BeforeJournalDelete,
];

#[test]
fn every_fault_point_is_listed() {
    for step in STEPS {
        assert!(ROTATE_FAULT_POINTS.contains(&step.fault_point()));
    }
}

/// The fixture plus an existing January archive, so a crash leaves both an
/// appended-to and a created archive behind.
fn crash_fixture(dir: &Path) -> Register {
    let (register, _) = fixture(dir);
    let first = entry("2026-01-01T00:00:00Z", "jan-archived-earlier");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    writeln!(gz, "{first}").unwrap();
    std::fs::write(register.archive_path(2026, 1), gz.finish().unwrap()).unwrap();
    register
}

#[test]
fn a_crash_at_any_step_then_recovery_loses_and_doubles_nothing() {
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = crash_fixture(reference_dir.path());
    let original = all_entries(&reference);
    reference.rotate(2, ts(NOW)).unwrap();
    let reference_live = std::fs::read(reference.path()).unwrap();

    for crash_at in STEPS {
        // Stop at the first and, where it repeats, the second occurrence.
        for occurrence in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let register = crash_fixture(dir.path());
            let register_before = std::fs::read(register.path()).unwrap();
            let mut seen = 0;
            let outcome = register
                .rotate_with(2, ts(NOW), &mut |step| {
                    seen += usize::from(step == crash_at);
                    step == crash_at && seen == occurrence
                })
                .unwrap();
            if outcome.is_some() {
                assert_eq!(occurrence, 2, "{crash_at:?} never reached");
                continue;
            }
            let renamed = matches!(crash_at, Step::AfterRename | Step::BeforeJournalDelete);
            if !renamed {
                assert_eq!(std::fs::read(register.path()).unwrap(), register_before);
            }
            assert_eq!(
                register.rotation_pending(),
                crash_at != Step::AfterTmp,
                "{crash_at:?}"
            );

            assert_eq!(
                register.recover_rotation().unwrap(),
                crash_at != Step::AfterTmp
            );
            assert!(!register.rotation_pending());
            assert!(!journal::exists(&journal::tmp_path(&register)));
            assert_eq!(
                all_entries(&register),
                original,
                "{crash_at:?} #{occurrence}"
            );
            if !renamed {
                // Undone: exactly as before the rotation started.
                assert_eq!(std::fs::read(register.path()).unwrap(), register_before);
                assert!(!journal::exists(&register.archive_path(2025, 12)));
                assert_eq!(gzip_members(&register.archive_path(2026, 1)), 1);
            }

            register.rotate(2, ts(NOW)).unwrap();
            assert_eq!(
                all_entries(&register),
                original,
                "{crash_at:?} #{occurrence}"
            );
            assert_complete(&register, 2, ts(NOW));
            assert_eq!(std::fs::read(register.path()).unwrap(), reference_live);
            for month in [(2025, 12), (2026, 1)] {
                assert_eq!(
                    gunzip(&register.archive_path(month.0, month.1)),
                    gunzip(&reference.archive_path(month.0, month.1)),
                );
            }
        }
    }
}

#[test]
fn rotate_itself_recovers_a_crash_and_completes() {
    for crash_at in STEPS {
        let dir = tempfile::tempdir().unwrap();
        let register = crash_fixture(dir.path());
        let original = all_entries(&register);
        let outcome = register
            .rotate_with(2, ts(NOW), &mut |step| step == crash_at)
            .unwrap();
        assert!(outcome.is_none());
        let summary = register.rotate(2, ts(NOW)).unwrap();
        let renamed = matches!(crash_at, Step::AfterRename | Step::BeforeJournalDelete);
        assert_eq!(summary.moved, if renamed { 0 } else { 4 }, "{crash_at:?}");
        assert_eq!(all_entries(&register), original);
        assert_complete(&register, 2, ts(NOW));
    }
}

#[test]
fn a_crash_during_a_roll_back_is_rolled_back_again() {
    let dir = tempfile::tempdir().unwrap();
    let register = crash_fixture(dir.path());
    let original = all_entries(&register);
    let before = std::fs::read(register.path()).unwrap();
    let mut archives_done = 0;
    register
        .rotate_with(2, ts(NOW), &mut |step| {
            archives_done += usize::from(step == Step::AfterArchive);
            step == Step::BeforeRename
        })
        .unwrap();
    assert_eq!(archives_done, 2);
    // A roll back that got as far as removing the created archive and the tmp.
    std::fs::remove_file(register.archive_path(2025, 12)).unwrap();
    std::fs::remove_file(journal::tmp_path(&register)).unwrap();
    assert!(register.recover_rotation().unwrap());
    assert_eq!(std::fs::read(register.path()).unwrap(), before);
    assert_eq!(all_entries(&register), original);
    assert_eq!(gzip_members(&register.archive_path(2026, 1)), 1);
}

#[test]
fn stray_leftovers_without_a_journal_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (register, _) = fixture(dir.path());
    let before = std::fs::read(register.path()).unwrap();
    std::fs::write(journal::tmp_path(&register), b"half a rotation").unwrap();
    std::fs::write(journal::journal_tmp_path(&register), b"{\"vers").unwrap();
    assert!(!register.rotation_pending());
    assert!(!register.recover_rotation().unwrap());
    assert!(!journal::exists(&journal::tmp_path(&register)));
    assert!(!journal::exists(&journal::journal_tmp_path(&register)));
    assert_eq!(std::fs::read(register.path()).unwrap(), before);
}

#[test]
fn a_register_replaced_mid_rotation_is_left_for_a_human() {
    let dir = tempfile::tempdir().unwrap();
    let (register, _) = fixture(dir.path());
    register
        .rotate_with(2, ts(NOW), &mut |step| step == Step::BeforeRename)
        .unwrap();
    let replacement = dir.path().join("replacement");
    std::fs::write(&replacement, b"# edited by hand\n").unwrap();
    std::fs::rename(&replacement, register.path()).unwrap();
    assert!(register.recover_rotation().is_err());
    assert!(register.rotation_pending());
    assert!(journal::exists(&journal::tmp_path(&register)));
}

#[test]
fn a_corrupt_journal_is_an_error_not_a_guess() {
    let dir = tempfile::tempdir().unwrap();
    let (register, _) = fixture(dir.path());
    std::fs::write(journal::journal_path(&register), b"garbage").unwrap();
    assert!(register.recover_rotation().is_err());
    assert!(register.rotate(2, ts(NOW)).is_err());
}

#[test]
fn lines_appended_without_the_lock_during_a_rotation_are_carried_over() {
    let dir = tempfile::tempdir().unwrap();
    let (register, expected_live) = fixture(dir.path());
    let path = register.path().to_path_buf();
    let early = format!("{}\n", entry("2026-03-10T00:00:00Z", "cat-early"));
    let late = format!("{}\n", entry("2026-03-11T00:00:00Z", "cat-late"));
    let mut old_handle: Option<File> = None;
    let mut early_once = Some(early.clone());
    let outcome = register
        .rotate_with(2, ts(NOW), &mut |step| {
            match step {
                Step::AfterJournal => {
                    old_handle = Some(OpenOptions::new().append(true).open(&path).unwrap());
                }
                // After step 2 read the register, before the rename.
                Step::AfterArchive => {
                    if let Some(early) = early_once.take() {
                        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
                        file.write_all(early.as_bytes()).unwrap();
                    }
                }
                // Through a descriptor opened before the rename.
                Step::BeforeRename => {
                    old_handle
                        .as_mut()
                        .unwrap()
                        .write_all(late.as_bytes())
                        .unwrap();
                }
                _ => {}
            }
            false
        })
        .unwrap();
    assert!(outcome.is_some());
    // The fixture's last line had no newline and moved, so the appended
    // bytes start a line of their own. The late bytes reached the old inode
    // after the pre-rename copy; the post-rename copy carried them over.
    let mut expected = expected_live;
    expected.extend_from_slice(early.as_bytes());
    expected.extend_from_slice(late.as_bytes());
    assert_eq!(
        String::from_utf8(std::fs::read(&path).unwrap()).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

#[test]
fn a_rename_that_fails_rolls_back_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (register, _) = fixture(dir.path());
    let original = all_entries(&register);
    let before = std::fs::read(register.path()).unwrap();
    let err = register.rotate_with(2, ts(NOW), &mut |step| {
        if step == Step::BeforeRename {
            // The rename source disappears: the rename fails.
            std::fs::remove_file(journal::tmp_path(&register)).unwrap();
        }
        false
    });
    assert!(err.is_err());
    assert!(!register.rotation_pending());
    assert!(register.archives().unwrap().is_empty());
    assert_eq!(std::fs::read(register.path()).unwrap(), before);
    assert_eq!(all_entries(&register), original);
}

/// Run by `real_aborts_at_every_fault_point` in a child process: rotates the
/// register in `TOKENLEDGER_ROTATE_CHILD_DIR`, dying at `TOKENLEDGER_CRASH_AT`.
#[test]
fn crash_child() {
    if let Some(dir) = std::env::var_os("TOKENLEDGER_ROTATE_CHILD_DIR") {
        Register::in_home(Path::new(&dir))
            .rotate(2, ts(NOW))
            .unwrap();
    }
}

/// Whether the child died by `abort` (SIGABRT), as `fault::point` does.
fn rotate_in_child(dir: &Path, crash_at: &str) -> bool {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["rotate::tests::crash_child", "--exact", "--test-threads=1"])
        .env("TOKENLEDGER_ROTATE_CHILD_DIR", dir)
        .env("TOKENLEDGER_CRASH_AT", crash_at)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    status.signal() == Some(6)
}

#[test]
fn real_aborts_at_every_fault_point() {
    for &point in ROTATE_FAULT_POINTS {
        let dir = tempfile::tempdir().unwrap();
        let register = crash_fixture(dir.path());
        let original = all_entries(&register);
        if point == "rotate:recover-before-journal-delete" {
            // Crash mid-rotation, then again inside the recovery (a roll back).
            assert!(rotate_in_child(dir.path(), "rotate:mid-archive"));
            assert!(rotate_in_child(dir.path(), point), "{point}");
            assert!(register.rotation_pending());
        } else {
            assert!(rotate_in_child(dir.path(), point), "{point}");
        }
        register.rotate(2, ts(NOW)).unwrap();
        assert_eq!(all_entries(&register), original, "{point}");
        assert_complete(&register, 2, ts(NOW));
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn arb_line() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u8..6, 1u8..28, any::<u16>(), any::<bool>()).prop_map(|(m, d, k, crlf)| {
                let (year, month) = if m < 3 { (2025, 10 + m) } else { (2026, m - 2) };
                let ts = format!("{year}-{month:02}-{d:02}T12:00:00Z");
                let end = if crlf { "\r\n" } else { "\n" };
                format!("{}{end}", entry(&ts, &format!("k{k}")))
            }),
            Just("# comment\n".to_string()),
            Just("\n".to_string()),
            Just("{broken\n".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn any_crash_then_rotate_preserves_the_multiset(
            lines in proptest::collection::vec(arb_line(), 0..40),
            unterminated in any::<bool>(),
            keep in 1u32..5,
            crash in 0usize..8,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let register = Register::in_home(dir.path());
            let mut text = lines.concat();
            if unterminated && text.ends_with('\n') {
                text.pop();
            }
            std::fs::write(register.path(), &text).unwrap();
            let original = all_entries(&register);
            let now = ts(NOW);
            let crash_at = STEPS.get(crash).copied();
            register.rotate_with(keep, now, &mut |step| Some(step) == crash_at).unwrap();
            register.rotate(keep, now).unwrap();
            prop_assert_eq!(all_entries(&register), original);
            assert_complete(&register, keep, now);
            let again = register.rotate(keep, now).unwrap();
            prop_assert_eq!(again.moved, 0);
        }
    }
}
