//! Actual usage from Claude Code transcripts: a session's file with its
//! subagents' files, or one subagent's file, read by tokenledger's Claude
//! Code reader (deduplicated as everywhere else) and priced by the core.

use crate::error::Result;
use jiff::Timestamp;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{self, Prefer, ReportSpec};
use tokenledger_core::source::{Source, SourceScan};
use tokenledger_sources::claude_code::ClaudeCodeSource;

/// What a set of transcripts billed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actual {
    pub tokens: TokenCounts,
    /// `None` when a model is unpriced (never shown as $0).
    pub cost_usd: Option<f64>,
    /// The model with the most tokens.
    pub model: Option<String>,
    pub requests: u64,
    /// Tokens per agent (`main`, `subagent:<id>`), biggest first.
    pub by_agent: Vec<(String, TokenCounts)>,
    pub last: Option<Timestamp>,
    pub warnings: Vec<Warning>,
}

/// The transcripts of exactly `files`, as a report source.
pub struct Transcripts {
    pub files: Vec<PathBuf>,
}

impl Source for Transcripts {
    fn kind(&self) -> SourceKind {
        SourceKind::ClaudeCode
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> tokenledger_core::Result<SourceScan> {
        ClaudeCodeSource::scan_files(&self.files, window, sink)
    }
}

/// Reads and prices `files` (deduplicated among themselves).
pub fn actual(files: Vec<PathBuf>, prices: &PriceTable) -> Result<Actual> {
    let source = Transcripts { files };
    let spec = ReportSpec {
        window: TimeWindow::ALL,
        filters: Filters::default(),
        tz: jiff::tz::TimeZone::UTC,
        tz_name: "UTC".into(),
        groupings: vec![vec![GroupKey::Agent], vec![GroupKey::Model]],
        prefer: Prefer::Log,
    };
    let data = report::run(&[&source], prices, spec, Timestamp::now())?;
    let rows = |i: usize| {
        let mut rows: Vec<(String, TokenCounts)> = data.groupings[i]
            .1
            .iter()
            .map(|r| {
                let name = r.keys.first().map(|(_, v)| v.clone()).unwrap_or_default();
                (name, r.measures.tokens)
            })
            .collect();
        rows.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then(a.0.cmp(&b.0)));
        rows
    };
    let by_model = rows(1);
    Ok(Actual {
        tokens: data.totals.tokens,
        // Nano-dollars, as the register stores computed costs: float noise
        // (624.3782976000003) never reaches a file.
        cost_usd: data.totals.cost_usd.map(|c| (c * 1e9).round() / 1e9),
        model: by_model.first().map(|(m, _)| m.clone()),
        requests: data.totals.events,
        by_agent: rows(0),
        last: data.totals.last_timestamp,
        warnings: data.warnings,
    })
}

/// A session's transcript and its subagents' (`<session>/subagents/*.jsonl`).
pub fn session_files(transcript: &Path) -> Vec<PathBuf> {
    let mut files = vec![transcript.to_path_buf()];
    if let (Some(dir), Some(stem)) = (transcript.parent(), transcript.file_stem()) {
        let subagents = dir.join(stem).join("subagents");
        if let Ok(entries) = std::fs::read_dir(&subagents) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    files
}

/// `<location>/projects/*/<session_id>.jsonl` in the Claude Code locations
/// (`~/.claude`, `CLAUDE_CONFIG_DIR`, ...): how a session id finds its file.
pub fn find_transcript(locations: &[PathBuf], session_id: &str) -> Option<PathBuf> {
    if session_id.is_empty() || session_id.contains(['/', '\\']) {
        return None;
    }
    let file = format!("{session_id}.jsonl");
    locations.iter().find_map(|location| {
        let projects = if location.ends_with("projects") {
            location.clone()
        } else {
            location.join("projects")
        };
        std::fs::read_dir(projects)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join(&file))
            .find(|p| p.is_file())
    })
}

/// Lines looked at for the first prompt: it is the first user line.
const PROMPT_LINES: usize = 64;

/// The text of the first user message of a transcript: for a subagent, the
/// prompt the Task/Agent tool gave it.
pub fn first_prompt(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    BufReader::new(file)
        .lines()
        .take(PROMPT_LINES)
        .map_while(|l| l.ok())
        .filter(|l| l.contains("\"user\""))
        .find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            if v.get("type").and_then(|t| t.as_str()) != Some("user") {
                return None;
            }
            message_text(v.pointer("/message/content")?)
        })
}

fn message_text(content: &serde_json::Value) -> Option<String> {
    match content {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(blocks) => {
            let text: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("text"))
                .filter_map(|b| b.get("text").and_then(|t| t.as_str()))
                .collect();
            (!text.is_empty()).then(|| text.join("\n"))
        }
        _ => None,
    }
}

/// Task ids (`T` followed by digits, CLEO's form) in `text`, in order, once each.
pub fn task_ids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('T') {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let after = i + 1 + digits;
        let after_ok = after == bytes.len() || !bytes[after].is_ascii_alphanumeric();
        if before_ok && digits > 0 && after_ok {
            let id = &text[i..after];
            if !found.iter().any(|f| f == id) {
                found.push(id.to_string());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_whole_words() {
        assert_eq!(
            task_ids("Work on T1234 (see T99, not AT5 or T12x); T1234 again"),
            vec!["T1234", "T99"]
        );
        assert!(task_ids("no tasks, T alone").is_empty());
    }

    #[test]
    fn first_prompt_reads_string_and_block_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-a.jsonl");
        std::fs::write(
            &path,
            "{\"type\":\"summary\"}\n{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Do T7\"}]}}\n",
        )
        .unwrap();
        assert_eq!(first_prompt(&path).as_deref(), Some("Do T7"));
        std::fs::write(
            &path,
            "{\"type\":\"user\",\"message\":{\"content\":\"Do T8\"}}\n",
        )
        .unwrap();
        assert_eq!(first_prompt(&path).as_deref(), Some("Do T8"));
        assert_eq!(first_prompt(&dir.path().join("missing")), None);
    }
}
