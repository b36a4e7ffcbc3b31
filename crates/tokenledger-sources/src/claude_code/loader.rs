//! Reading transcripts into deduplicated candidates, streaming each through
//! a buffer reused by every file a thread reads (see [`super::lines`]). Big
//! files are split into byte ranges ("pieces") read in parallel; a piece owns
//! the lines that start inside it. Memory is bounded by the buffer and the
//! longest line, never by the file size.

use super::dedupe::{
    Candidate, Candidates, FAST, HAS_SPEED, Key, LocalNames, Names, PROGRESS, SIDECHAIN,
};
use super::lines::{Lines, PAGE};
use super::parser::Record;
use super::paths::{FileKind, Transcript};
use std::fs::File;
use tokenledger_core::Warning;

/// Per-line warnings kept per file; the rest are summed into one.
pub(super) const LINE_WARNINGS: usize = 20;

/// Bytes read at a time: few enough that the lines just read are still in
/// the CPU's cache when they are scanned, many enough that the calls into
/// the kernel are few (each costs microseconds; 256 KiB reads took a fifth
/// longer in all than 1 MiB ones).
pub(super) const CHUNK: usize = 1 << 20;

/// A byte range of a file: the lines that start in `start..end`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    /// Index into the discovered files (path order).
    pub file: u32,
    pub start: u64,
    /// `u64::MAX` for the last piece: read to the end, however long the file
    /// has grown since it was listed.
    pub end: u64,
}

impl Piece {
    /// Expected bytes to read, for scheduling.
    pub fn len(&self, files: &[Transcript]) -> u64 {
        self.end.min(files[self.file as usize].size) - self.start.min(self.end)
    }
}

/// The pieces of `files`, in file order: one per file, or equal parts of at
/// most `piece_bytes` for bigger files.
pub(super) fn plan(files: &[Transcript], piece_bytes: u64) -> Vec<Piece> {
    let piece_bytes = piece_bytes.max(1);
    let mut pieces = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let file = u32::try_from(i).unwrap_or(u32::MAX);
        let parts = f.size.div_ceil(piece_bytes).max(1);
        let step = f.size.div_ceil(parts);
        for p in 0..parts {
            let end = if p + 1 == parts {
                u64::MAX
            } else {
                (p + 1) * step
            };
            pieces.push(Piece {
                file,
                start: p * step,
                end,
            });
        }
    }
    pieces
}

/// What reading a piece leaves for its file's warnings.
#[derive(Debug, Default)]
pub(super) struct Report {
    /// Lines that start in the piece.
    pub lines: u64,
    /// The first [`LINE_WARNINGS`], numbered from the piece's first line.
    pub line_warnings: Vec<(u64, String)>,
    /// Further lines that deserved a warning.
    pub suppressed: u64,
    /// About the file itself: opening or reading failed.
    pub file_warnings: Vec<String>,
}

impl Report {
    pub fn has_warnings(&self) -> bool {
        !self.line_warnings.is_empty() || self.suppressed > 0 || !self.file_warnings.is_empty()
    }
}

/// A file's warnings from its pieces' reports, in piece order.
pub(super) fn warnings(file: &Transcript, reports: &[Report], out: &mut Vec<Warning>) {
    let warn = |line: Option<u64>, message: String| Warning {
        path: file.path.clone(),
        line,
        message,
    };
    let mut base = 0u64;
    let mut kept = 0usize;
    let mut suppressed = 0u64;
    let mut about_file: Vec<&String> = Vec::new();
    for report in reports {
        for (line, message) in &report.line_warnings {
            if kept < LINE_WARNINGS {
                kept += 1;
                out.push(warn(Some(base + line), message.clone()));
            } else {
                suppressed += 1;
            }
        }
        suppressed += report.suppressed;
        base += report.lines;
        for message in &report.file_warnings {
            if !about_file.contains(&message) {
                about_file.push(message);
                out.push(warn(None, message.clone()));
            }
        }
    }
    if suppressed > 0 {
        let message = format!("{suppressed} more lines skipped (see the first {LINE_WARNINGS})");
        out.push(warn(None, message));
    }
}

/// One thread's reading state: its candidates, its name cache and buffer.
pub(super) struct Worker<'n> {
    pub sink: Sink<'n>,
    buf: Vec<u8>,
    /// [`CHUNK`], but tests try tiny ones.
    chunk: usize,
}

pub(super) struct Sink<'n> {
    pub candidates: Candidates,
    /// The candidates' dedupe keys, end to end.
    pub keys: String,
    /// This worker's index, for [`Key::worker`].
    worker: u32,
    names: LocalNames<'n>,
    scratch: String,
}

impl<'n> Worker<'n> {
    pub fn new(names: &'n Names, chunk: usize, worker: u32) -> Self {
        Worker {
            chunk: chunk.max(1),
            sink: Sink {
                candidates: Candidates::default(),
                keys: String::new(),
                worker,
                names: LocalNames::new(names),
                scratch: String::new(),
            },
            buf: Vec::new(),
        }
    }

    /// Reads the lines starting in `piece` of `file`.
    pub fn read(&mut self, file: &Transcript, piece: Piece) -> Report {
        let mut report = Report::default();
        let handle = match File::open(&file.path) {
            Ok(handle) => handle,
            Err(e) => {
                report.file_warnings.push(format!("cannot open: {e}"));
                return report;
            }
        };
        if self.buf.len() < self.chunk + PAGE {
            self.buf = vec![0; self.chunk + PAGE];
        }
        let mut lines = Lines {
            file,
            piece,
            chunk: self.chunk,
            sink: &mut self.sink,
            report: &mut report,
        };
        if let Err(e) = lines.stream(handle, &mut self.buf) {
            report
                .file_warnings
                .push(format!("read failed, later lines skipped: {e}"));
        }
        // A huge line must not pin its buffer for the rest of the scan.
        if self.buf.len() > 4 * self.chunk + PAGE {
            self.buf = Vec::new();
        }
        report
    }
}

/// Reads one file whole, as one piece or several, into fresh candidates.
#[cfg(test)]
pub(super) fn load(
    file: &Transcript,
    index: u32,
    names: &Names,
    piece_bytes: u64,
) -> (Candidates, Vec<Warning>) {
    let mut worker = Worker::new(names, CHUNK, 0);
    let files = std::slice::from_ref(file);
    let reports: Vec<Report> = plan(files, piece_bytes)
        .into_iter()
        .map(|p| worker.read(file, Piece { file: index, ..p }))
        .collect();
    let mut out = Vec::new();
    warnings(file, &reports, &mut out);
    (worker.sink.candidates, out)
}

impl Sink<'_> {
    pub(super) fn add(&mut self, file: &Transcript, index: u32, offset: u64, r: Record<'_>) {
        let line_agent = r.agent_id.as_deref();
        let scratch = &mut self.scratch;
        let mut subagent = |id: &str| {
            scratch.clear();
            scratch.push_str("subagent:");
            scratch.push_str(id);
            self.names.id_of(0, scratch)
        };
        let agent = match &file.kind {
            FileKind::Main if !r.progress => self.names.id_of(0, "main"),
            FileKind::Main => match line_agent {
                Some(id) => subagent(id),
                None => self.names.id_of(0, "subagent"),
            },
            FileKind::Subagent { agent } | FileKind::FlatAgent { agent } => {
                subagent(line_agent.unwrap_or(agent))
            }
        };
        let session = match (&file.kind, r.session_id.as_deref()) {
            (FileKind::FlatAgent { .. }, Some(s)) => s,
            _ => &file.session,
        };
        let project = r
            .cwd
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&file.project_dir);
        let flags = (if r.sidechain { SIDECHAIN } else { 0 })
            | (if r.has_speed { HAS_SPEED } else { 0 })
            | (if r.fast { FAST } else { 0 })
            | (if r.progress { PROGRESS } else { 0 });
        let message_id = r.message_id.as_deref();
        let request_id = r.request_id.as_deref();
        let key = message_id.map_or(Key::default(), |m| {
            let keys = &mut self.keys;
            let start = keys.len();
            keys.push_str("cc:");
            keys.push_str(m);
            keys.push(':');
            keys.push_str(request_id.unwrap_or(""));
            Key {
                worker: self.worker,
                len: u32::try_from(keys.len() - start).unwrap_or(0),
                start: start as u64,
            }
        });
        let candidate = Candidate {
            micros: r.timestamp.as_microsecond(),
            tokens: r.tokens,
            cost: r.cost_usd,
            model: self.names.id_of(1, r.model.as_deref().unwrap_or("unknown")),
            session: self.names.id_of(2, session),
            project: self.names.id_of(3, project),
            agent,
            order: (index, offset),
            flags,
            message_hash: message_id.map_or(0, super::dedupe::message_hash),
            key,
        };
        self.candidates.add(candidate, message_id, request_id);
    }
}
