//! Where OpenClaw (and Clawdbot / Moltbot before it) keeps its session stores
//! and transcripts.

use crate::Environment;
use rustc_hash::FxHashSet;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;

/// The state directories of OpenClaw and its earlier names, newest first.
pub(crate) const STATE_DIRS: [&str; 4] = [".openclaw", ".clawdbot", ".moltbot", ".moldbot"];

/// `OPENCLAW_DIR` if set, else every state directory OpenClaw ever used
/// (the scan lists the missing ones as searched and reads the rest).
pub(crate) fn default_roots(env: &Environment) -> Vec<PathBuf> {
    let roots = env.path_list("OPENCLAW_DIR");
    if roots.is_empty() {
        STATE_DIRS.iter().map(|d| env.home.join(d)).collect()
    } else {
        roots
    }
}

/// One agent's `agents/<agentId>/sessions` directory.
#[derive(Debug, Clone)]
pub(crate) struct AgentDir {
    pub agent: String,
    pub sessions: PathBuf,
}

/// The agent directories under `roots`. A root reached twice (the legacy
/// names are often symlinks to `~/.openclaw`) is read once.
pub(crate) fn agent_dirs(roots: &[PathBuf], warnings: &mut Vec<Warning>) -> Vec<AgentDir> {
    let mut seen: FxHashSet<PathBuf> = FxHashSet::default();
    let mut out = Vec::new();
    for root in roots {
        let Ok(canonical) = std::fs::canonicalize(root) else {
            continue;
        };
        if !seen.insert(canonical) {
            continue;
        }
        let agents = root.join("agents");
        for (name, path) in list(&agents, warnings) {
            let sessions = path.join("sessions");
            if sessions.is_dir() {
                out.push(AgentDir {
                    agent: name,
                    sessions,
                });
            }
        }
    }
    out
}

/// A directory's entries as (name, path), sorted; missing is empty, and any
/// other failure a warning.
pub(crate) fn list(dir: &Path, warnings: &mut Vec<Warning>) -> Vec<(String, PathBuf)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            warnings.push(Warning {
                path: dir.to_path_buf(),
                line: None,
                message: format!("cannot list directory: {e}"),
            });
            return Vec::new();
        }
    };
    let mut out: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect();
    out.sort();
    out
}

/// The transcripts in a sessions directory, as (transcript id, path).
pub(crate) fn transcripts(dir: &Path, warnings: &mut Vec<Warning>) -> Vec<(String, PathBuf)> {
    list(dir, warnings)
        .into_iter()
        .filter_map(|(name, path)| {
            let id = transcript_id(&name)?.to_string();
            // `metadata` follows symlinks; directories and dangling links drop out.
            std::fs::metadata(&path)
                .ok()?
                .is_file()
                .then_some((id, path))
        })
        .collect()
}

/// `<id>.jsonl`, and the archives OpenClaw leaves on reset
/// (`<id>.jsonl.reset.<ISO-ts>`) and on delete (`<id>.jsonl.deleted.<ts>`);
/// tokens spent before either are still spent. `<id>` may be
/// `<sessionId>-topic-<threadId>`.
pub(crate) fn transcript_id(name: &str) -> Option<&str> {
    if let Some(stem) = name.strip_suffix(".jsonl") {
        return Some(stem).filter(|s| !s.is_empty());
    }
    let (stem, rest) = name.split_once(".jsonl.")?;
    let archived = rest.starts_with("reset.") || rest.starts_with("deleted.");
    (archived && !rest.ends_with(".lock") && !stem.is_empty()).then_some(stem)
}

/// The session id a transcript belongs to: a topic file's id without its
/// `-topic-<threadId>` suffix.
pub(crate) fn base_session(transcript: &str) -> &str {
    transcript
        .split_once("-topic-")
        .map_or(transcript, |(base, _)| base)
}

/// `agent:<id>:…` → `<id>`.
pub(crate) fn agent_from_key(key: &str) -> Option<&str> {
    let id = key.strip_prefix("agent:")?.split(':').next()?;
    (!id.is_empty()).then_some(id)
}
