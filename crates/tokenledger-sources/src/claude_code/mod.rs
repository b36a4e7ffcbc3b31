//! Claude Code's own transcripts (`~/.claude/projects/**/*.jsonl`): one event
//! per billed API request, counted the way ccusage v20 counts them.
//!
//! Files are parsed in parallel into compact per-request candidates; because
//! the copy that wins deduplication may sit in a file read later (a subagent
//! file, another config root), events are emitted only after every file is
//! read, and the time window is applied only then, so a copy outside the
//! window cannot change which copy wins.

mod dedupe;
mod fields;
mod loader;
mod parser;
mod paths;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_input;
#[cfg(test)]
mod tests_traps;

use crate::Environment;
use dedupe::{Candidates, FAST, Names};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokenledger_core::Result;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};

/// Files at least this big are split into chunks parsed in parallel; smaller
/// ones are one task each (chunking costs a megabyte buffer per file).
const BIG_FILE_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone)]
pub struct ClaudeCodeSource {
    locations: Vec<PathBuf>,
    /// Configured by the user: a missing location is worth a warning.
    explicit: bool,
    big_file_bytes: u64,
}

impl ClaudeCodeSource {
    /// Each entry of `CLAUDE_CONFIG_DIR` (comma-separated; a config dir or a
    /// `projects/` dir), else `~/.claude` and `~/.config/claude` (and
    /// `$XDG_CONFIG_HOME/claude`, which ccusage also reads).
    pub fn from_env(env: &Environment) -> Self {
        let configured = env.path_list("CLAUDE_CONFIG_DIR");
        if !configured.is_empty() {
            return Self::with_roots(configured);
        }
        let mut locations = vec![env.home.join(".claude"), env.home.join(".config/claude")];
        if let Some(xdg) = env.var("XDG_CONFIG_HOME") {
            let xdg = PathBuf::from(xdg).join("claude");
            if !locations.contains(&xdg) {
                locations.push(xdg);
            }
        }
        ClaudeCodeSource {
            locations,
            explicit: false,
            big_file_bytes: BIG_FILE_BYTES,
        }
    }

    /// Explicit locations, each a config dir containing `projects/` or a
    /// `projects/` dir itself; missing ones are reported as warnings.
    pub fn with_roots(roots: Vec<PathBuf>) -> Self {
        ClaudeCodeSource {
            locations: roots,
            explicit: true,
            big_file_bytes: BIG_FILE_BYTES,
        }
    }

    /// The configured locations (config dirs or `projects/` dirs).
    pub fn roots(&self) -> &[PathBuf] {
        &self.locations
    }
}

impl Source for ClaudeCodeSource {
    fn kind(&self) -> SourceKind {
        SourceKind::ClaudeCode
    }

    fn detected(&self) -> bool {
        self.roots().iter().any(|root| root.is_dir())
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let found = paths::discover(&self.locations, self.explicit);
        let names = Names::default();
        let merged = Mutex::new((Candidates::default(), found.warnings));
        // Biggest first, so a huge file does not start last and run alone.
        let mut order: Vec<usize> = (0..found.files.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(found.files[i].size));
        order.par_iter().with_max_len(1).for_each(|&i| {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let loaded = loader::load(&found.files[i], index, &names, self.big_file_bytes);
            let mut merged = merged.lock().unwrap_or_else(PoisonError::into_inner);
            merged.0.merge(loaded.candidates);
            merged.1.extend(loaded.warnings);
        });
        let (candidates, mut warnings) =
            merged.into_inner().unwrap_or_else(PoisonError::into_inner);
        warnings.sort();
        let (winners, duplicates) = candidates.into_winners();
        let names = names.into_table();
        let mut scan = SourceScan {
            searched: found.searched,
            files: found.files.into_iter().map(|f| f.path).collect(),
            events: 0,
            duplicates,
            warnings,
        };
        for c in winners {
            let Ok(timestamp) = jiff::Timestamp::from_microsecond(c.micros) else {
                continue;
            };
            if !window.contains(timestamp) {
                continue;
            }
            let name = |id: u32| Arc::clone(&names[id as usize]);
            let event = UsageEvent {
                timestamp,
                source: SourceKind::ClaudeCode,
                agent_id: name(c.agent),
                session: name(c.session),
                model: name(c.model),
                tokens: c.tokens,
                fast: c.flags & FAST != 0,
                reported_cost: c.cost,
                task: None,
                project: Some(name(c.project)),
                origin: None,
                dedupe_key: c.key.map(|k| Arc::from(format!("cc:{k}"))),
            };
            scan.events += 1;
            sink(&event);
        }
        Ok(scan)
    }
}
