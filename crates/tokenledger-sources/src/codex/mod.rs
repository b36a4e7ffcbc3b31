//! OpenAI Codex CLI: one event per turn, from the `token_count` snapshots in
//! `$CODEX_HOME/sessions/**/rollout-*.jsonl` and `archived_sessions/`.
//!
//! Codex logs running totals, re-emits them (duplicates, stale out-of-order
//! copies, a parent's history replayed into forks and subagents) and counts
//! cached input inside input; this module turns them into disjoint per-turn
//! counts, each counted once however many copies exist.

mod loader;
mod parser;
mod paths;
mod replay;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_forks;

use crate::Environment;
use loader::Rollout;
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenledger_core::Result;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::resume::Resume;
use tokenledger_core::source::{Source, SourceScan};

/// The agent id of rollouts whose `session_meta` names no originator.
const DEFAULT_AGENT: &str = "codex";

/// Reads the rollouts under one or more Codex homes.
#[derive(Debug, Clone)]
pub struct CodexSource {
    roots: Vec<PathBuf>,
}

impl CodexSource {
    /// Each entry of `CODEX_HOME` (a comma list), else `~/.codex`.
    pub fn from_env(env: &Environment) -> Self {
        Self::with_roots(paths::default_roots(env))
    }

    /// Codex homes to read: each holds `sessions/` and `archived_sessions/`.
    pub fn with_roots(roots: Vec<PathBuf>) -> Self {
        CodexSource { roots }
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }
}

impl Source for CodexSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Codex
    }

    fn detected(&self) -> bool {
        self.roots().iter().any(|root| root.is_dir())
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        self.read(window, None, sink)
    }

    /// A rollout's running totals only make sense from its first line, so a
    /// changed rollout is read again whole and an unchanged one skipped.
    fn scan_appended(
        &self,
        resume: &Resume,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        self.read(&TimeWindow::ALL, Some(resume), sink)
    }
}

impl CodexSource {
    /// Reads the rollouts (with `resume`, only those changed since) and
    /// emits their turns inside `window`.
    fn read(
        &self,
        window: &TimeWindow,
        resume: Option<&Resume>,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let found = paths::find_rollouts(&self.roots, window);
        let mut scan = SourceScan {
            searched: found.searched,
            warnings: found.warnings,
            files: found.files,
            ..SourceScan::default()
        };
        let to_read: Vec<PathBuf> = match resume {
            None => scan.files.clone(),
            Some(resume) => {
                scan.read = resume.changed(&scan.files);
                scan.read.iter().map(|r| r.path.clone()).collect()
            }
        };
        let mut seen: FxHashSet<u64> = FxHashSet::default();
        // Rollouts are mostly far smaller than a `scan_lines` chunk, so the
        // parallelism is across files; batches bound what is held at once
        // and keep the sink's input in a stable (sorted path) order.
        let batch = rayon::current_num_threads().max(1) * 4;
        for paths in to_read.chunks(batch) {
            let rollouts: Vec<Rollout> = paths.par_iter().map(|p| loader::load(p)).collect();
            for (path, rollout) in paths.iter().zip(rollouts) {
                emit(path, rollout, window, &mut seen, &mut scan, sink);
            }
        }
        Ok(scan)
    }
}

fn emit(
    path: &Path,
    rollout: Rollout,
    window: &TimeWindow,
    seen: &mut FxHashSet<u64>,
    scan: &mut SourceScan,
    sink: &mut (dyn FnMut(&UsageEvent) + Send),
) {
    scan.duplicates += rollout.repeated;
    scan.warnings.extend(rollout.warnings);
    let session: Arc<str> = rollout
        .session
        .unwrap_or_else(|| paths::session_from_name(path))
        .into();
    let agent: Arc<str> = rollout
        .originator
        .as_deref()
        .unwrap_or(DEFAULT_AGENT)
        .into();
    let project: Option<Arc<str>> = rollout.cwd.map(Arc::from);
    for turn in rollout.turns {
        if !window.contains(turn.timestamp) {
            continue;
        }
        let key = format!("codex:{session}:{}", turn.identity);
        if !seen.insert(xxhash_rust::xxh3::xxh3_64(key.as_bytes())) {
            scan.duplicates += 1;
            continue;
        }
        let event = UsageEvent {
            timestamp: turn.timestamp,
            source: SourceKind::Codex,
            agent_id: agent.clone(),
            session: session.clone(),
            model: turn.model,
            tokens: turn.tokens,
            fast: false,
            reported_cost: None,
            task: None,
            project: project.clone(),
            origin: None,
            dedupe_key: Some(key.into()),
        };
        scan.events += 1;
        sink(&event);
    }
}
