//! Reading one transcript into deduplicated candidates, streaming: small
//! files line by line through one reused buffer, big ones through
//! [`scan_lines`], which parses chunks of the file in parallel. Memory is
//! bounded by the longest line and the chunk size, never by the file size.

use super::dedupe::{
    Candidate, Candidates, FAST, HAS_SPEED, LocalNames, Names, PROGRESS, SIDECHAIN,
};
use super::parser::{Parsed, Record, parse_line};
use super::paths::{FileKind, Transcript};
use std::fs::File;
use std::io::Read;
use tokenledger_core::Warning;
use tokenledger_core::jsonl::scan_lines;

/// Per-line warnings kept per file; the rest are summed into one.
const LINE_WARNINGS: usize = 20;

pub(super) struct Loaded {
    pub candidates: Candidates,
    pub warnings: Vec<Warning>,
}

/// Reads `file` (number `index` in path order). Files of `big_file` bytes or
/// more are parsed in parallel chunks.
pub(super) fn load(file: &Transcript, index: u32, names: &Names, big_file: u64) -> Loaded {
    let mut collector = Collector {
        file,
        index,
        names: LocalNames::new(names),
        out: Loaded {
            candidates: Candidates::default(),
            warnings: Vec::new(),
        },
        suppressed: 0,
    };
    let handle = match File::open(&file.path) {
        Ok(handle) => handle,
        Err(e) => {
            collector.warn(None, format!("cannot open: {e}"));
            return collector.out;
        }
    };
    let result = if file.size >= big_file {
        scan_lines(
            handle,
            |line| match parse_line(line.bytes) {
                Parsed::Nothing => None,
                parsed => Some((line.number, line.terminated, parsed)),
            },
            |batch| {
                for (number, terminated, parsed) in batch {
                    collector.accept(number, terminated, parsed);
                }
            },
        )
        .map(drop)
    } else {
        read_small(handle, &mut collector)
    };
    if let Err(e) = result {
        collector.warn(None, format!("read failed, later lines skipped: {e}"));
    }
    if collector.suppressed > 0 {
        let message = format!(
            "{} more lines skipped (see the first {LINE_WARNINGS})",
            collector.suppressed
        );
        collector.warn(None, message);
    }
    collector.out
}

/// Small files (under the big-file threshold) are read whole into a buffer
/// reused across the files a thread reads, and split in place: no per-line
/// copy, which was a fifth of a 1 GiB scan.
fn read_small(mut handle: File, collector: &mut Collector<'_, '_>) -> std::io::Result<()> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        handle.read_to_end(buf)?;
        let mut start = 0usize;
        let mut number = 0u64;
        while start < buf.len() {
            number += 1;
            let (end, next, terminated) = match memchr::memchr(b'\n', &buf[start..]) {
                Some(i) => (start + i, start + i + 1, true),
                None => (buf.len(), buf.len(), false),
            };
            let parsed = parse_line(&buf[start..end]);
            if parsed != Parsed::Nothing {
                collector.accept(number, terminated, parsed);
            }
            start = next;
        }
        // A big file read whole must not pin its buffer for the rest of the scan.
        if buf.capacity() > 16 << 20 {
            *buf = Vec::new();
        }
        Ok(())
    })
}

struct Collector<'f, 'n> {
    file: &'f Transcript,
    index: u32,
    names: LocalNames<'n>,
    out: Loaded,
    suppressed: u64,
}

impl Collector<'_, '_> {
    fn warn(&mut self, line: Option<u64>, message: String) {
        self.out.warnings.push(Warning {
            path: self.file.path.clone(),
            line,
            message,
        });
    }

    fn warn_line(&mut self, line: u64, message: String) {
        if self.out.warnings.len() < LINE_WARNINGS {
            self.warn(Some(line), message);
        } else {
            self.suppressed += 1;
        }
    }

    fn accept(&mut self, number: u64, terminated: bool, parsed: Parsed) {
        match parsed {
            Parsed::Nothing => {}
            Parsed::Record(record) => self.add(number, *record),
            Parsed::Skipped(why) => self.warn_line(number, format!("skipped: {why}")),
            // The last line of a transcript being written is incomplete: not an error.
            Parsed::Malformed(_) if !terminated => {}
            Parsed::Malformed(why) => self.warn_line(number, format!("malformed line: {why}")),
        }
    }

    fn add(&mut self, number: u64, r: Record) {
        let file = self.file;
        let line_agent = r.agent_id.as_deref();
        let agent = match &file.kind {
            FileKind::Main if !r.progress => "main".to_string(),
            FileKind::Main => match line_agent {
                Some(id) => format!("subagent:{id}"),
                None => "subagent".to_string(),
            },
            FileKind::Subagent { agent } | FileKind::FlatAgent { agent } => {
                format!("subagent:{}", line_agent.unwrap_or(agent))
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
        let key = r.message_id.as_deref().map(|m| {
            let request = r.request_id.as_deref().unwrap_or("");
            format!("{m}:{request}").into_boxed_str()
        });
        let candidate = Candidate {
            micros: r.timestamp.as_microsecond(),
            tokens: r.tokens,
            cost: r.cost_usd,
            model: self.names.id(r.model.as_deref().unwrap_or("unknown")),
            session: self.names.id(session),
            project: self.names.id(project),
            agent: self.names.id(&agent),
            order: (u64::from(self.index) << 32) | number.min(u64::from(u32::MAX)),
            flags,
            message_hash: r
                .message_id
                .as_deref()
                .map_or(0, super::dedupe::message_hash),
            key,
        };
        self.out
            .candidates
            .add(candidate, r.message_id.as_deref(), r.request_id.as_deref());
    }
}
