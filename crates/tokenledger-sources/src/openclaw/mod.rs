//! OpenClaw (formerly Clawdbot / Moltbot): one event per billed request in
//! `agents/<agentId>/sessions/*.jsonl` transcripts, including reset and
//! delete archives and topic files, attributed to the session keys of
//! `sessions.json`.
//!
//! The store's own token and cost numbers are last-run and context
//! snapshots; the transcripts are the only true totals.

mod loader;
mod parser;
mod paths;
#[cfg(test)]
mod tests;

use crate::Environment;
use jiff::Timestamp;
use loader::{Store, Transcript};
use parser::StoreEntry;
use paths::AgentDir;
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::resume::Resume;
use tokenledger_core::session::SessionState;
use tokenledger_core::source::{Source, SourceScan};
use tokenledger_core::{Result, Warning};

/// The model of a billed entry that names none (never seen from pi-ai).
const UNKNOWN_MODEL: &str = "unknown";

/// Reads OpenClaw's transcripts under one or more state directories.
#[derive(Debug, Clone)]
pub struct OpenClawSource {
    roots: Vec<PathBuf>,
}

/// One entry of an agent's `sessions.json`, for finding running sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawSession {
    /// The session key (`agent:main:subagent:…`), what events use as `session`.
    pub key: String,
    pub session_id: String,
    pub agent_id: String,
    /// The key of the session that spawned this one (subagents).
    pub spawned_by: Option<String>,
    /// `running`, `done`, `failed`, `killed`, `timeout`, or unset.
    pub status: Option<String>,
    pub updated_at: Option<Timestamp>,
    /// The current transcript (which may not exist yet).
    pub transcript: PathBuf,
}

impl OpenClawSource {
    /// `OPENCLAW_DIR` if set, else `~/.openclaw`, `~/.clawdbot`, `~/.moltbot`, `~/.moldbot`.
    pub fn from_env(env: &Environment) -> Self {
        Self::with_roots(paths::default_roots(env))
    }

    /// State directories to read: each holds `agents/<agentId>/sessions/`.
    pub fn with_roots(roots: Vec<PathBuf>) -> Self {
        OpenClawSource { roots }
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Every session the stores list, by agent and key.
    pub fn sessions(&self) -> Vec<OpenClawSession> {
        let mut out: Vec<OpenClawSession> = store_entries(&self.roots, &mut Vec::new())
            .into_iter()
            .filter_map(|(dir, entry)| {
                let transcript = Store::transcript_path(&dir, &entry)?;
                Some(OpenClawSession {
                    agent_id: owner_agent(&dir, &entry).to_string(),
                    session_id: entry.session_id?,
                    key: entry.key,
                    spawned_by: entry.spawned_by,
                    status: entry.status,
                    updated_at: entry.updated_at,
                    transcript,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.agent_id, &a.key).cmp(&(&b.agent_id, &b.key)));
        out
    }
}

/// Every store entry under `roots`, with the agent directory it is in.
fn store_entries(roots: &[PathBuf], warnings: &mut Vec<Warning>) -> Vec<(AgentDir, StoreEntry)> {
    let mut out = Vec::new();
    for dir in paths::agent_dirs(roots, warnings) {
        let store = Store::load(&dir, warnings);
        out.extend(store.entries.into_iter().map(|e| (dir.clone(), e)));
    }
    out
}

/// The agent a session belongs to: the one its key names, else the one
/// whose directory holds it.
fn owner_agent<'a>(dir: &'a AgentDir, entry: &'a StoreEntry) -> &'a str {
    paths::agent_from_key(&entry.key).unwrap_or(&dir.agent)
}

/// A transcript to read and whom its requests belong to.
struct Job {
    path: PathBuf,
    transcript: Arc<str>,
    agent: Arc<str>,
    session: Arc<str>,
}

impl Source for OpenClawSource {
    fn kind(&self) -> SourceKind {
        SourceKind::OpenClaw
    }

    fn detected(&self) -> bool {
        self.roots().iter().any(|root| root.is_dir())
    }

    /// The stores' status and last activity per session key: the only
    /// record of a session that is running but has billed nothing lately.
    fn session_states(&self, warnings: &mut Vec<Warning>) -> Vec<SessionState> {
        store_entries(&self.roots, warnings)
            .into_iter()
            .map(|(dir, entry)| SessionState {
                source: SourceKind::OpenClaw,
                agent_id: owner_agent(&dir, &entry).into(),
                session: entry.key.into(),
                model: entry.model.map(Arc::from),
                status: entry.status,
                last_activity: entry.updated_at,
            })
            .collect()
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        self.read(window, None, sink)
    }

    /// A transcript's model comes from its earlier lines, so a changed
    /// transcript is read again whole and an unchanged one skipped.
    fn scan_appended(
        &self,
        resume: &Resume,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        self.read(&TimeWindow::ALL, Some(resume), sink)
    }
}

impl OpenClawSource {
    /// Reads the transcripts (with `resume`, only those changed since) and
    /// emits their requests inside `window`.
    fn read(
        &self,
        window: &TimeWindow,
        resume: Option<&Resume>,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let mut scan = SourceScan {
            searched: self.roots.clone(),
            ..SourceScan::default()
        };
        let mut jobs = Vec::new();
        for dir in paths::agent_dirs(&self.roots, &mut scan.warnings) {
            let store = Store::load(&dir, &mut scan.warnings);
            let dir_agent: Arc<str> = dir.agent.as_str().into();
            for (id, path) in paths::transcripts(&dir.sessions, &mut scan.warnings) {
                if !may_hold_window(&path, window) {
                    continue;
                }
                let (session, agent) = match store.owner(&id) {
                    Some(entry) => (
                        Arc::from(entry.key.as_str()),
                        Arc::from(owner_agent(&dir, entry)),
                    ),
                    None => (Arc::from(paths::base_session(&id)), dir_agent.clone()),
                };
                jobs.push(Job {
                    path,
                    transcript: id.into(),
                    agent,
                    session,
                });
            }
        }
        scan.files = jobs.iter().map(|job| job.path.clone()).collect();
        if let Some(resume) = resume {
            scan.read = resume.changed(&scan.files);
            let changed: FxHashSet<&Path> = scan.read.iter().map(|r| r.path.as_path()).collect();
            jobs.retain(|job| changed.contains(job.path.as_path()));
        }
        let mut seen: FxHashSet<u64> = FxHashSet::default();
        // Transcripts are small and many: parse files in parallel, in
        // batches that bound memory and keep the sink's order stable.
        let batch = rayon::current_num_threads().max(1) * 4;
        for jobs in jobs.chunks(batch) {
            let loaded: Vec<Transcript> = jobs
                .par_iter()
                .map(|job| loader::load_transcript(&job.path))
                .collect();
            for (job, transcript) in jobs.iter().zip(loaded) {
                emit(job, transcript, window, &mut seen, &mut scan, sink);
            }
        }
        Ok(scan)
    }
}

fn emit(
    job: &Job,
    transcript: Transcript,
    window: &TimeWindow,
    seen: &mut FxHashSet<u64>,
    scan: &mut SourceScan,
    sink: &mut (dyn FnMut(&UsageEvent) + Send),
) {
    scan.warnings.extend(transcript.warnings);
    let project: Option<Arc<str>> = transcript.cwd.map(Arc::from);
    let mut model: Option<Arc<str>> = None;
    let mut warned_model = false;
    for (line, billed) in transcript.billed {
        let warn = |message: String| Warning {
            path: job.path.clone(),
            line: Some(line),
            message,
        };
        let Some(timestamp) = billed.timestamp else {
            scan.warnings.push(warn(
                "usage without a readable timestamp; not counted".into(),
            ));
            continue;
        };
        if !window.contains(timestamp) {
            continue;
        }
        let key = match &billed.id {
            Some(id) => format!("openclaw:{}:{id}", job.transcript),
            None => format!("openclaw:{}:L{line}", job.transcript),
        };
        if !seen.insert(xxhash_rust::xxh3::xxh3_64(key.as_bytes())) {
            scan.duplicates += 1;
            continue;
        }
        let name = billed.model.as_deref().unwrap_or(UNKNOWN_MODEL);
        if billed.model.is_none() && !std::mem::replace(&mut warned_model, true) {
            scan.warnings.push(warn(format!(
                "usage without a model; counted as {UNKNOWN_MODEL:?}"
            )));
        }
        // Consecutive requests mostly share a model: share its string too.
        let model = match &model {
            Some(m) if **m == *name => m.clone(),
            _ => model.insert(Arc::from(name)).clone(),
        };
        let event = UsageEvent {
            timestamp,
            source: SourceKind::OpenClaw,
            agent_id: job.agent.clone(),
            session: job.session.clone(),
            model,
            tokens: billed.tokens,
            fast: false,
            reported_cost: billed.cost,
            task: None,
            project: project.clone(),
            origin: None,
            dedupe_key: Some(key.into()),
        };
        scan.events += 1;
        sink(&event);
    }
}

/// A transcript last written a day before the window opens holds nothing in
/// it (the day absorbs clock skew).
fn may_hold_window(path: &std::path::Path, window: &TimeWindow) -> bool {
    let Some(since) = window.since else {
        return true;
    };
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| Timestamp::try_from(m).ok());
    let day = jiff::SignedDuration::from_hours(24);
    !modified.is_some_and(|m| m.checked_add(day).is_ok_and(|t| t < since))
}
