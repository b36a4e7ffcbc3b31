//! Where Codex keeps rollouts, and which of them a scan must read.

use crate::Environment;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rustc_hash::FxHashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::query::TimeWindow;

/// Deeper than `sessions/YYYY/MM/DD` ever goes; a guard against odd trees.
const MAX_DEPTH: usize = 16;

/// Each entry of `CODEX_HOME` (a comma list), else `~/.codex`.
pub(crate) fn default_roots(env: &Environment) -> Vec<PathBuf> {
    let roots = env.path_list("CODEX_HOME");
    if roots.is_empty() {
        vec![env.home.join(".codex")]
    } else {
        roots
    }
}

/// The rollouts to read, live ones before archived ones.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub searched: Vec<PathBuf>,
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Warning>,
}

pub(crate) fn find_rollouts(roots: &[PathBuf], window: &TimeWindow) -> Found {
    let mut found = Found::default();
    let mut live = Vec::new();
    let mut archived = Vec::new();
    for root in roots {
        let sessions = root.join("sessions");
        walk(&sessions, &mut live, &mut found.warnings, |name| {
            name.starts_with("rollout-") && name.ends_with(".jsonl")
        });
        found.searched.push(sessions);
        let archive = root.join("archived_sessions");
        walk(&archive, &mut archived, &mut found.warnings, |name| {
            name.ends_with(".jsonl")
        });
        found.searched.push(archive);
    }
    // Archiving moves a rollout under the same name; when both copies exist
    // (a sync, a backup restored) the live one is read and the other skipped.
    // Copies under other names are caught later by the per-turn dedupe key.
    let mut names: FxHashSet<OsString> = FxHashSet::default();
    for path in live.into_iter().chain(archived) {
        let Some(name) = path.file_name() else {
            continue;
        };
        if names.insert(name.to_os_string()) && may_hold_window(&path, window) {
            found.files.push(path);
        }
    }
    found
}

/// Collects the files under `dir` whose names `accept` takes, following
/// symlinks once. A missing or vanished directory is not an error.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    warnings: &mut Vec<Warning>,
    accept: impl Fn(&str) -> bool,
) {
    let mut visited: FxHashSet<PathBuf> = FxHashSet::default();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let start = out.len();
    while let Some((dir, depth)) = stack.pop() {
        // Canonical paths make a symlink loop show up as a directory seen before.
        let canonical = match std::fs::canonicalize(&dir) {
            Ok(canonical) => canonical,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            // `read_dir` below reports what is wrong with it.
            Err(_) => dir.clone(),
        };
        if depth > MAX_DEPTH || !visited.insert(canonical) {
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                warnings.push(Warning {
                    path: dir,
                    line: None,
                    message: format!("cannot list directory: {e}"),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // `metadata` follows symlinks; a dangling one is skipped.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push((path, depth + 1));
            } else if meta.is_file() && entry.file_name().to_str().is_some_and(&accept) {
                out.push(path);
            }
        }
    }
    // Directory order is arbitrary; sorting keeps scans reproducible.
    out[start..].sort();
}

/// Whether a rollout can hold events inside `window`, judged without opening
/// it: a rollout starts at the time in its name and ends by its mtime. A day
/// of slack on each side absorbs time zones and clock skew.
fn may_hold_window(path: &Path, window: &TimeWindow) -> bool {
    let day = jiff::SignedDuration::from_hours(24);
    if let Some(until) = window.until
        && let Some(started) = start_date(path)
        && let Ok(started) = started.to_zoned_datetime(TimeZone::UTC)
        && started
            .timestamp()
            .checked_sub(day)
            .is_ok_and(|t| t >= until)
    {
        return false;
    }
    if let Some(since) = window.since
        && let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified())
        && let Ok(modified) = Timestamp::try_from(modified)
        && modified.checked_add(day).is_ok_and(|t| t < since)
    {
        return false;
    }
    true
}

/// `rollout-2025-10-07T12-00-00-<uuid>.jsonl` → 2025-10-07.
fn start_date(path: &Path) -> Option<Date> {
    let name = path.file_name()?.to_str()?;
    let date = name.strip_prefix("rollout-")?.get(..10)?;
    date.parse().ok()
}

/// The session id in a rollout's name: its trailing UUID, else the stem.
pub(crate) fn session_from_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.get(stem.len().saturating_sub(36)..) {
        Some(tail) if is_uuid(tail) => tail.to_string(),
        _ => stem,
    }
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}
