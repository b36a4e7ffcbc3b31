//! Claude Code's own transcripts (`~/.claude/projects/**/*.jsonl`): one event
//! per billed API request, counted the way ccusage v20 counts them.
//!
//! Files (and pieces of big files) are read in parallel, each thread
//! streaming them through one small buffer: one search for `"usage"` across
//! the buffer's lines finds the few worth parsing, and a hand-rolled reader
//! (`fast.rs`, checked against serde, which judges anything unusual) turns
//! them into compact per-request candidates, deduplicated per thread in parts
//! by `message.id`. Because the copy that wins deduplication may sit in a file
//! read later (a subagent file, another config root), the parts are merged
//! and judged (in parallel) only after every file is read, events are emitted
//! only then, and so is the time window applied, so a copy outside the window
//! cannot change which copy wins.

mod dedupe;
mod fast;
mod fields;
mod files;
mod lines;
mod loader;
mod parser;
mod paths;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_input;
#[cfg(test)]
mod tests_traps;

use crate::Environment;
use dedupe::{FAST, Judged, Names, PARTS, Part};
use loader::{Report, Worker};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokenledger_core::Result;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::resume::{ReadFrom, Resume};
use tokenledger_core::source::{FileRead, Source, SourceScan};

/// Holds the hand-rolled line reader to serde on `line`: on every line it
/// accepts, serde must accept the line too and read the same fields (a
/// disagreement panics). True when the fast reader took the line. For the
/// tests and the fuzzers (`crates/tokenledger-fuzz`).
#[doc(hidden)]
pub fn fast_reader_agrees(line: &[u8]) -> bool {
    let Some(fast) = fast::line(line) else {
        return false;
    };
    match serde_json::from_slice::<parser::Line<'_>>(line) {
        Ok(slow) => assert_eq!(fast, slow, "{}", String::from_utf8_lossy(line)),
        Err(e) => panic!(
            "read here, refused by serde ({e}): {}",
            String::from_utf8_lossy(line)
        ),
    }
    true
}

/// Files bigger than this are split into pieces of at most this size, read
/// in parallel; smaller ones are one task each.
const PIECE_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone)]
pub struct ClaudeCodeSource {
    locations: Vec<PathBuf>,
    /// Configured by the user: a missing location is worth a warning.
    explicit: bool,
    piece_bytes: u64,
    chunk_bytes: usize,
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
            piece_bytes: PIECE_BYTES,
            chunk_bytes: loader::CHUNK,
        }
    }

    /// Explicit locations, each a config dir containing `projects/` or a
    /// `projects/` dir itself; missing ones are reported as warnings.
    pub fn with_roots(roots: Vec<PathBuf>) -> Self {
        ClaudeCodeSource {
            locations: roots,
            explicit: true,
            piece_bytes: PIECE_BYTES,
            chunk_bytes: loader::CHUNK,
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
        self.read(found, None, window, sink)
    }

    /// Every file from where the last sync stopped: a resumed file is read as
    /// one piece that starts at a line boundary, so its lines are parsed
    /// exactly as in a full read.
    fn scan_appended(
        &self,
        resume: &Resume,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let found = paths::discover(&self.locations, self.explicit);
        let starts: Vec<ReadFrom> = found
            .files
            .par_iter()
            .map(|f| resume.read_from(&f.path))
            .collect();
        self.read(found, Some(starts), &TimeWindow::ALL, sink)
    }
}

impl ClaudeCodeSource {
    /// Reads the files `found` (from the offsets `starts` gives, all of them
    /// whole without it) and emits their events inside `window`.
    fn read(
        &self,
        found: paths::Discovery,
        starts: Option<Vec<ReadFrom>>,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let names = Names::default();
        let files = &found.files;
        let mut pieces = loader::plan(files, self.piece_bytes);
        let mut read: Vec<FileRead> = Vec::new();
        if let Some(starts) = &starts {
            pieces.retain_mut(|piece| match starts[piece.file as usize] {
                ReadFrom::Nothing => false,
                ReadFrom::Offset(from) => {
                    piece.start = piece.start.max(from);
                    piece.end > from
                }
            });
            read = (0..files.len())
                .filter_map(|i| match starts[i] {
                    ReadFrom::Nothing => None,
                    ReadFrom::Offset(from) => Some(FileRead {
                        path: files[i].path.clone(),
                        from,
                        to: files[i].size,
                    }),
                })
                .collect();
        }
        // Biggest first, so a big piece does not start last and run alone.
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].len(files)));
        // One worker per pool thread (and one for any other caller), each
        // locked only by its own thread.
        let slots = rayon::current_num_threads() + 1;
        let workers: Vec<Mutex<Worker<'_>>> = (0..slots)
            .map(|w| Mutex::new(Worker::new(&names, self.chunk_bytes, w as u32)))
            .collect();
        let done: Vec<(usize, Report)> = order
            .par_iter()
            .with_max_len(1)
            .map(|&i| {
                let slot = rayon::current_thread_index().map_or(slots - 1, |t| t.min(slots - 1));
                let mut worker = workers[slot].lock().unwrap_or_else(PoisonError::into_inner);
                let piece = pieces[i];
                (i, worker.read(&files[piece.file as usize], piece))
            })
            .collect();
        let mut reports: Vec<Report> = Vec::with_capacity(done.len());
        reports.resize_with(done.len(), Report::default);
        for (i, report) in done {
            reports[i] = report;
        }
        let mut warnings = found.warnings;
        let mut first = 0;
        while first < pieces.len() {
            let file = pieces[first].file;
            let count = pieces[first..]
                .iter()
                .take_while(|p| p.file == file)
                .count();
            let reports = &reports[first..first + count];
            if reports.iter().any(|r| r.has_warnings()) {
                loader::warnings(&files[file as usize], reports, &mut warnings);
            }
            first += count;
        }
        warnings.sort();
        // Each part of every worker's candidates merged and judged on its
        // own, in parallel.
        let mut by_part: Vec<Vec<Part>> = (0..PARTS).map(|_| Vec::new()).collect();
        let mut keys: Vec<String> = Vec::with_capacity(workers.len());
        for worker in workers {
            let worker = worker.into_inner().unwrap_or_else(PoisonError::into_inner);
            keys.push(worker.sink.keys);
            for (p, part) in worker.sink.candidates.into_parts().into_iter().enumerate() {
                by_part[p].push(part);
            }
        }
        let judged: Vec<Judged> = by_part
            .into_par_iter()
            .with_max_len(1)
            .map(|parts| {
                let mut parts = parts.into_iter();
                let mut all = parts.next().unwrap_or_default();
                for part in parts {
                    all.merge(part);
                }
                all.judge()
            })
            .collect();
        let duplicates = judged.iter().map(|j| j.duplicates).sum();
        let in_order = dedupe::in_time_order(&judged);
        let names = names.into_table();
        let mut scan = SourceScan {
            searched: found.searched,
            files: found.files.into_iter().map(|f| f.path).collect(),
            events: 0,
            duplicates,
            warnings,
            read,
        };
        // One event, its names replaced only when they change: emitting is
        // the one step that cannot run in parallel.
        let mut event: Option<(UsageEvent, [u32; 4])> = None;
        for (r, i) in in_order {
            let c = &judged[r as usize].kept[i as usize];
            let Ok(timestamp) = jiff::Timestamp::from_microsecond(c.micros) else {
                continue;
            };
            if !window.contains(timestamp) {
                continue;
            }
            let name = |id: u32| Arc::clone(&names[id as usize]);
            let ids = [c.agent, c.session, c.model, c.project];
            let (event, last) = event.get_or_insert_with(|| {
                let event = UsageEvent {
                    timestamp,
                    source: SourceKind::ClaudeCode,
                    agent_id: name(c.agent),
                    session: name(c.session),
                    model: name(c.model),
                    tokens: c.tokens,
                    fast: false,
                    reported_cost: None,
                    task: None,
                    project: Some(name(c.project)),
                    origin: None,
                    dedupe_key: None,
                };
                (event, ids)
            });
            if *last != ids {
                if last[0] != ids[0] {
                    event.agent_id = name(c.agent);
                }
                if last[1] != ids[1] {
                    event.session = name(c.session);
                }
                if last[2] != ids[2] {
                    event.model = name(c.model);
                }
                if last[3] != ids[3] {
                    event.project = Some(name(c.project));
                }
                *last = ids;
            }
            event.timestamp = timestamp;
            event.tokens = c.tokens;
            event.fast = c.flags & FAST != 0;
            event.reported_cost = c.cost;
            event.dedupe_key = c.key.text(&keys).map(Arc::from);
            scan.events += 1;
            sink(event);
        }
        Ok(scan)
    }
}
