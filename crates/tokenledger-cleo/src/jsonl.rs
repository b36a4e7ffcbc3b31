//! Appending and reading the CLEO JSONL files.
//!
//! Appends follow the register's discipline: an exclusive lock on a sibling
//! `.lock` file, `O_APPEND`, and the whole line in one write, so concurrent
//! hooks neither interleave nor tear lines. Reading is tolerant of what
//! CLEO's own writers left behind: pretty-printed objects spread over many
//! lines between compact ones, and broken lines, which are skipped with a
//! warning naming file and line.

use crate::error::{CleoError, Result};
use serde_json::Value;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::lock::HomeLock;

/// A pretty-printed object longer than this many lines is taken as broken.
const MAX_OBJECT_LINES: usize = 10_000;

pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Appends `line` (which must end in `\n`) to `path`, creating its directory.
pub(crate) fn append_line(path: &Path, line: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CleoError::io(dir, e))?;
    }
    let _lock = HomeLock::exclusive(&lock_path(path))?;
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| CleoError::io(path, e))?;
    let len = file.metadata().map_err(|e| CleoError::io(path, e))?.len();
    let mut bytes = Vec::with_capacity(line.len() + 1);
    // A last line written without its newline (by hand, or by CLEO's `jq`)
    // must not swallow ours.
    let mut last = [0u8; 1];
    if len > 0 && file.read_exact_at(&mut last, len - 1).is_ok() && last[0] != b'\n' {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    if let Err(e) = (&file).write_all(&bytes) {
        // A short write (disk full) must not leave half a line behind.
        let _ = file.set_len(len);
        return Err(CleoError::io(path, e));
    }
    Ok(())
}

/// One JSON value read from a file, with the line it starts on.
pub(crate) struct Read {
    pub line: u64,
    pub value: Value,
}

/// Every JSON value in `path`, compact or spread over lines. A missing file
/// is empty. Unparseable stretches are skipped with a warning.
pub(crate) fn read_values(path: &Path) -> Result<(Vec<Read>, Vec<Warning>)> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(CleoError::io(path, e)),
    };
    Ok(parse_values(path, &text))
}

pub(crate) fn parse_values(path: &Path, text: &[u8]) -> (Vec<Read>, Vec<Warning>) {
    let mut values = Vec::new();
    let mut warnings = Vec::new();
    let warn = |warnings: &mut Vec<Warning>, line: u64, message: String| {
        warnings.push(Warning {
            path: path.to_path_buf(),
            line: Some(line),
            message,
        })
    };
    // A pending multi-line object: its first line number and its bytes so far.
    let mut pending: Option<(u64, Vec<u8>, usize)> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let number = i as u64 + 1;
        let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        let trimmed = raw.trim_ascii();
        if let Some((start, mut buf, lines)) = pending.take() {
            // A new compact record at the start of a line ends a broken object.
            let restarts = raw.first() == Some(&b'{') && complete(trimmed).is_some();
            if restarts {
                warn(
                    &mut warnings,
                    start,
                    "unterminated JSON object skipped".into(),
                );
            } else {
                buf.push(b'\n');
                buf.extend_from_slice(raw);
                match serde_json::from_slice::<Value>(&buf) {
                    Ok(value) => values.push(Read { line: start, value }),
                    Err(e) if e.is_eof() && lines < MAX_OBJECT_LINES => {
                        pending = Some((start, buf, lines + 1));
                    }
                    Err(e) => warn(&mut warnings, start, format!("invalid JSON skipped: {e}")),
                }
                continue;
            }
        }
        if trimmed.is_empty() || trimmed[0] == b'#' {
            continue;
        }
        match serde_json::from_slice::<Value>(trimmed) {
            Ok(value) => values.push(Read {
                line: number,
                value,
            }),
            Err(e) if e.is_eof() && trimmed[0] == b'{' => {
                pending = Some((number, trimmed.to_vec(), 1));
            }
            Err(e) => warn(&mut warnings, number, format!("invalid JSON skipped: {e}")),
        }
    }
    if let Some((start, _, _)) = pending {
        warn(
            &mut warnings,
            start,
            "unterminated JSON object at end of file skipped".into(),
        );
    }
    (values, warnings)
}

fn complete(line: &[u8]) -> Option<Value> {
    serde_json::from_slice(line).ok()
}

/// A JSON string field, `None` when absent, null or empty.
pub(crate) fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A count that may be written as an integer or a float (`0.0000`); negative
/// or non-numeric values read as `None`.
pub(crate) fn count_field(value: &Value, key: &str) -> Option<u64> {
    let v = value.get(key)?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f.round() as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<(u64, Value)>, Vec<String>) {
        let (values, warnings) = parse_values(Path::new("S.jsonl"), text.as_bytes());
        (
            values.into_iter().map(|r| (r.line, r.value)).collect(),
            warnings.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn pretty_and_compact_objects_mix() {
        let text =
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": 0.0000\n  }\n}\n{\"a\":2}\n\n# note\n{\"a\":3}";
        let (values, warnings) = parse(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let lines: Vec<u64> = values.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![1, 7, 10]);
        assert_eq!(values[0].1["b"]["c"], serde_json::json!(0.0));
    }

    #[test]
    fn broken_lines_are_skipped_with_file_and_line() {
        let text = "{\"a\":1}\nnot json\n{\"a\":\n{\"a\":2}\n{\"a\": [1,\n";
        let (values, warnings) = parse(text);
        assert_eq!(values.len(), 2);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("S.jsonl:2: invalid JSON"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("S.jsonl:3: unterminated"),
            "{warnings:?}"
        );
        assert!(warnings[2].starts_with("S.jsonl:5: unterminated JSON object at end"));
    }

    #[test]
    fn appends_add_a_missing_newline_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m/U.jsonl");
        append_line(&path, "{\"a\":1}\n").unwrap();
        std::fs::write(&path, "{\"a\":1}").unwrap();
        append_line(&path, "{\"a\":2}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn counts_accept_floats_and_refuse_negatives() {
        let v = serde_json::json!({"a": 3, "b": 0.0000, "c": -1, "d": "x"});
        assert_eq!(count_field(&v, "a"), Some(3));
        assert_eq!(count_field(&v, "b"), Some(0));
        assert_eq!(count_field(&v, "c"), None);
        assert_eq!(count_field(&v, "d"), None);
    }
}
