//! `task-links.jsonl` in the tokenledger home: what the report engine needs
//! to put tasks on events it reads from elsewhere. Hooks and `session end`
//! append to it; reports read it whole (it holds a few lines per session).
//!
//! - `subagent`: a Claude Code subagent run (`session`, `agent` as the
//!   Claude Code reader names it, `subagent:<id>`) worked on `task_id`.
//! - `task_tokens`: of the session-level record keyed `session` (a register
//!   entry), `tokens` belong to `task_id`, measured (`actual`) or scaled from
//!   estimates (`reconciled`). A later record for the same session and task
//!   replaces an earlier one.

use crate::error::Result;
use crate::jsonl::{self, count_field, str_field};
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::time::format_register_timestamp;

pub const LINKS_FILE: &str = "task-links.jsonl";

pub fn links_path(home: &Path) -> PathBuf {
    home.join(LINKS_FILE)
}

/// How a task's figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    /// A subagent transcript's billed usage.
    Actual,
    /// Estimates scaled so the session's tasks sum to its actual total.
    Reconciled,
    /// An estimate only: the session's actual total is unknown.
    Estimate,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Actual => "actual",
            Basis::Reconciled => "reconciled",
            Basis::Estimate => "estimate",
        }
    }

    fn parse(text: &str) -> Option<Basis> {
        [Basis::Actual, Basis::Reconciled, Basis::Estimate]
            .into_iter()
            .find(|b| b.as_str() == text)
    }
}

#[derive(Debug, Default)]
pub struct Links {
    /// `(session, agent)` → task.
    pub subagents: FxHashMap<(String, String), String>,
    /// session → its tasks' shares, in first-seen order.
    pub splits: FxHashMap<String, Vec<Split>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub task_id: String,
    pub tokens: TokenCounts,
    pub basis: Basis,
}

impl Links {
    pub fn is_empty(&self) -> bool {
        self.subagents.is_empty() && self.splits.is_empty()
    }

    pub fn load(home: &Path) -> Result<(Links, Vec<Warning>)> {
        let path = links_path(home);
        let (values, mut warnings) = jsonl::read_values(&path)?;
        let mut links = Links::default();
        for read in values {
            if let Err(message) = links.add(&read.value) {
                warnings.push(Warning {
                    path: path.clone(),
                    line: Some(read.line),
                    message: format!("link skipped: {message}"),
                });
            }
        }
        Ok((links, warnings))
    }

    fn add(&mut self, v: &Value) -> std::result::Result<(), &'static str> {
        let session = str_field(v, "session").ok_or("no session")?.to_string();
        let task = str_field(v, "task_id").ok_or("no task_id")?.to_string();
        match str_field(v, "kind") {
            Some("subagent") => {
                let agent = str_field(v, "agent").ok_or("no agent")?.to_string();
                self.subagents.insert((session, agent), task);
            }
            Some("task_tokens") => {
                let t = v.get("tokens").ok_or("no tokens")?;
                let c = |k| count_field(t, k).unwrap_or(0);
                let split = Split {
                    task_id: task,
                    tokens: TokenCounts {
                        input: c("input"),
                        output: c("output"),
                        cache_read: c("cache_read"),
                        cache_write_5m: c("cache_write_5m"),
                        cache_write_1h: c("cache_write_1h"),
                        reasoning: 0,
                    },
                    basis: str_field(v, "basis")
                        .and_then(Basis::parse)
                        .ok_or("basis is not actual, reconciled or estimate")?,
                };
                let splits = self.splits.entry(session).or_default();
                match splits.iter_mut().find(|s| s.task_id == split.task_id) {
                    Some(old) => *old = split,
                    None => splits.push(split),
                }
            }
            _ => return Err("kind is not subagent or task_tokens"),
        }
        Ok(())
    }
}

pub fn append_subagent(home: &Path, session: &str, agent: &str, task: &str) -> Result<()> {
    let line = json!({
        "timestamp": format_register_timestamp(Timestamp::now()),
        "kind": "subagent",
        "session": session,
        "agent": agent,
        "task_id": task,
    });
    jsonl::append_line(&links_path(home), &format!("{line}\n"))
}

pub fn append_split(home: &Path, session: &str, split: &Split) -> Result<()> {
    let t = &split.tokens;
    let line = json!({
        "timestamp": format_register_timestamp(Timestamp::now()),
        "kind": "task_tokens",
        "session": session,
        "task_id": split.task_id,
        "basis": split.basis.as_str(),
        "tokens": {
            "input": t.input,
            "output": t.output,
            "cache_read": t.cache_read,
            "cache_write_5m": t.cache_write_5m,
            "cache_write_1h": t.cache_write_1h,
        },
    });
    jsonl::append_line(&links_path(home), &format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_splits_replace_earlier_ones_and_bad_lines_warn() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        append_subagent(home, "s1", "subagent:a", "T1").unwrap();
        let mut split = Split {
            task_id: "T2".into(),
            tokens: TokenCounts {
                input: 5,
                ..Default::default()
            },
            basis: Basis::Reconciled,
        };
        append_split(home, "s1", &split).unwrap();
        split.tokens.input = 7;
        append_split(home, "s1", &split).unwrap();
        jsonl::append_line(
            &links_path(home),
            "{\"kind\":\"x\",\"session\":\"s\",\"task_id\":\"T\"}\n",
        )
        .unwrap();
        let (links, warnings) = Links::load(home).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(4));
        assert_eq!(links.subagents[&("s1".into(), "subagent:a".into())], "T1");
        assert_eq!(links.splits["s1"].len(), 1);
        assert_eq!(links.splits["s1"][0].tokens.input, 7);
    }
}
