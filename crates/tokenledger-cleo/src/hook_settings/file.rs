//! Reading Claude Code's `settings.json` with certainty, and rendering it
//! back the way it was written.

use super::json::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub bom: bool,
    /// `None`: everything on one line.
    pub indent: Option<String>,
    pub crlf: bool,
    pub final_newline: bool,
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
    pub fn detect(text: &str) -> Style {
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

    pub fn render(&self, root: &Json) -> String {
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
        // Keys are strings and numbers finite, written into memory: no error is possible.
        .expect("a JSON tree always serializes");
        let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
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
        text
    }
}

/// The settings in `bytes` (read from `path`, which messages name) and how
/// they were written, or why they cannot be edited safely: the message says
/// where the problem is and that the file was left untouched.
pub fn parse_settings(path: &Path, bytes: &[u8]) -> Result<(Json, Style), String> {
    let refuse = |what: String| {
        format!(
            "{what}. {} was left untouched; fix it (or move it away) and run again",
            path.display()
        )
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
