//! Reading Claude Code's `settings.json` with certainty, and writing it back
//! the way it was written: backup first, then an atomic replace.

use super::ordered_json::Json;
use crate::context::invalid;
use anyhow::Context as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parts of the settings schema the edit relies on. Checked before
/// anything is touched, so a file Claude Code would reject, or that we would
/// have to guess about, is refused with the position of the problem.
#[derive(serde::Deserialize)]
#[serde(expecting = "a JSON object holding Claude Code settings")]
struct SettingsShape {
    #[serde(default)]
    #[allow(dead_code)] // read only to check its shape
    hooks: Option<BTreeMap<String, Vec<GroupShape>>>,
}

#[derive(serde::Deserialize)]
#[serde(expecting = "a matcher group object like {\"matcher\": \"…\", \"hooks\": [ … ]}")]
#[allow(dead_code)] // read only to check its shape
struct GroupShape {
    #[serde(default)]
    matcher: Option<String>,
    #[serde(default)]
    hooks: Option<Vec<HandlerShape>>,
}

#[derive(serde::Deserialize)]
#[serde(expecting = "a hook handler object like {\"type\": \"command\", \"command\": \"…\"}")]
#[allow(dead_code)] // read only to check its shape
struct HandlerShape {
    #[serde(default)]
    command: Option<String>,
}

/// How the file was written, so the rewrite looks like the original.
#[derive(Debug)]
pub(super) struct Style {
    pub(super) bom: bool,
    /// `None`: everything on one line.
    pub(super) indent: Option<String>,
    pub(super) crlf: bool,
    pub(super) final_newline: bool,
}

impl Default for Style {
    /// What Claude Code writes: two-space indentation.
    fn default() -> Style {
        Style {
            bom: false,
            indent: Some("  ".to_string()),
            crlf: false,
            final_newline: true,
        }
    }
}

impl Style {
    pub(super) fn detect(text: &str) -> Style {
        let body = text.trim_end();
        let indent = if body.contains('\n') {
            let unit: String = body
                .lines()
                .skip(1)
                .find(|l| !l.trim().is_empty())
                .map(|l| l.chars().take_while(|c| *c == ' ' || *c == '\t').collect())
                .unwrap_or_default();
            Some(if unit.is_empty() {
                "  ".to_string()
            } else {
                unit
            })
        } else {
            None
        };
        Style {
            bom: false,
            indent,
            crlf: text.contains("\r\n"),
            final_newline: text.ends_with('\n'),
        }
    }

    pub(super) fn render(&self, root: &Json) -> anyhow::Result<String> {
        let mut out = Vec::new();
        match &self.indent {
            Some(indent) => {
                let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                root.serialize(&mut serde_json::Serializer::with_formatter(
                    &mut out, formatter,
                ))
            }
            None => root.serialize(&mut serde_json::Serializer::new(&mut out)),
        }
        .context("formatting the settings as JSON")?;
        let mut text = String::from_utf8(out).context("formatting the settings as JSON")?;
        if self.final_newline {
            text.push('\n');
        }
        if self.crlf {
            // JSON strings cannot hold a raw newline, so every `\n` is layout.
            text = text.replace('\n', "\r\n");
        }
        if self.bom {
            text.insert(0, '\u{feff}');
        }
        Ok(text)
    }
}

pub(super) fn parse_settings(path: &Path, bytes: &[u8]) -> anyhow::Result<(Json, Style)> {
    let refuse = |what: String| {
        invalid(format!(
            "{what}. {} was left untouched; fix it (or move it away) and run again",
            path.display()
        ))
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.valid_up_to()
        ))
    })?;
    let (bom, text) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // A file created empty (`touch`) holds no settings yet.
    if text.trim().is_empty() {
        let style = Style {
            bom,
            ..Style::default()
        };
        return Ok((Json::Object(Vec::new()), style));
    }
    let located = |err: serde_json::Error| {
        let (kind, hint) = match err.classify() {
            serde_json::error::Category::Data => (
                "unexpected settings shape",
                " (Claude Code expects \"hooks\": {\"EventName\": [{\"matcher\": \"…\", \
                 \"hooks\": [{\"type\": \"command\", \"command\": \"…\"}]}]})",
            ),
            _ => ("not valid JSON", ""),
        };
        // serde_json appends " at line L column C"; the prefix says it instead.
        let message = err.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head);
        refuse(format!(
            "{}:{}:{}: {kind}: {message}{hint}",
            path.display(),
            err.line(),
            err.column()
        ))
    };
    let root: Json = serde_json::from_str(text).map_err(located)?;
    // Checked here rather than by `SettingsShape`, which would also accept
    // an array (serde reads a struct from a sequence).
    if !matches!(root, Json::Object(_)) {
        let at = text.len() - text.trim_start().len();
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |nl| nl + 1) + 1;
        return Err(refuse(format!(
            "{}:{line}:{column}: unexpected settings shape: the top level is {}, expected a JSON \
             object holding Claude Code settings",
            path.display(),
            root.kind()
        )));
    }
    serde_json::from_str::<SettingsShape>(text).map_err(located)?;
    let style = Style {
        bom,
        ..Style::detect(text)
    };
    Ok((root, style))
}

/// `settings.json.bak-20260206T002300Z`, never overwriting an older backup.
pub(super) fn write_backup(path: &Path, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let name = path.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let backup = path.with_file_name(format!("{name}.bak-{stamp}{suffix}"));
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup)
        {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("creating the backup {}", backup.display()));
            }
        };
        // The backup may hold secrets (env, API keys): same permissions as the original.
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = file.set_permissions(meta.permissions());
        }
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing the backup {}", backup.display()))?;
        return Ok(backup);
    }
    anyhow::bail!(
        "too many backups of {} named for this second; remove some and run again",
        path.display()
    )
}

/// Temp file in the same directory, then rename: a reader (Claude Code
/// starting up) sees the old file or the new one, never half of one.
pub(super) fn write_replacing(
    path: &Path,
    bytes: &[u8],
    expected: Option<&[u8]>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.tokenledger-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())
                .with_context(|| format!("setting the permissions of {}", tmp.display()))?;
        }
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        // Claude Code (or the user) may have saved the file meanwhile; their
        // change wins, and the user simply runs the command again.
        let now = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        if now.as_deref() != expected {
            anyhow::bail!(
                "{} changed while tokenledger was editing it; nothing was written, run the command again",
                path.display()
            );
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("replacing {} with {}", path.display(), tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
