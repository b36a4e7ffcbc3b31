//! Reading one agent's sessions directory: its store (which session key owns
//! which session id) and each transcript's billed requests.

use super::parser::{Billed, Record, StoreEntry, parse_line, read_store};
use super::paths::{self, AgentDir};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::jsonl::{Line, scan_lines};

/// One agent's store, indexed by session id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub entries: Vec<StoreEntry>,
    /// Session id (current or an earlier one of the same key) → entry index.
    by_session: FxHashMap<String, usize>,
}

impl Store {
    /// A missing store is empty: transcripts still count without it.
    pub fn load(dir: &AgentDir, warnings: &mut Vec<Warning>) -> Store {
        let path = dir.sessions.join("sessions.json");
        let entries = match std::fs::File::open(&path) {
            Ok(file) => read_store(file).unwrap_or_else(|e| {
                warnings.push(Warning {
                    path: path.clone(),
                    line: (e.line() > 0).then_some(e.line() as u64),
                    message: format!("unreadable session store ({e}); transcripts counted under their session ids"),
                });
                Vec::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                warnings.push(Warning {
                    path,
                    line: None,
                    message: format!("cannot read session store: {e}"),
                });
                Vec::new()
            }
        };
        let mut by_session = FxHashMap::default();
        // Current ids first, so an id listed as some other key's predecessor
        // never takes a live session away from its own key.
        for (i, entry) in entries.iter().enumerate() {
            if let Some(id) = &entry.session_id {
                by_session.entry(id.clone()).or_insert(i);
            }
        }
        for (i, entry) in entries.iter().enumerate() {
            for id in &entry.family {
                by_session.entry(id.clone()).or_insert(i);
            }
        }
        Store {
            entries,
            by_session,
        }
    }

    /// The entry owning a transcript (by its id, or a topic file's base id).
    pub fn owner(&self, transcript: &str) -> Option<&StoreEntry> {
        let index = self
            .by_session
            .get(transcript)
            .or_else(|| self.by_session.get(paths::base_session(transcript)))?;
        self.entries.get(*index)
    }

    /// Where an entry's transcript is: `sessionFile` when recorded
    /// (relative to the sessions directory), else `<sessionId>.jsonl`.
    pub fn transcript_path(dir: &AgentDir, entry: &StoreEntry) -> Option<PathBuf> {
        match (&entry.session_file, &entry.session_id) {
            (Some(file), _) => Some(dir.sessions.join(file)),
            (None, Some(id)) => Some(dir.sessions.join(format!("{id}.jsonl"))),
            (None, None) => None,
        }
    }
}

/// Everything one transcript yielded.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    pub cwd: Option<String>,
    /// Billed requests with their line numbers.
    pub billed: Vec<(u64, Billed)>,
    pub warnings: Vec<Warning>,
}

pub(crate) fn load_transcript(path: &Path) -> Transcript {
    let mut out = Transcript::default();
    let warn = |warnings: &mut Vec<Warning>, line, message| {
        warnings.push(Warning {
            path: path.to_path_buf(),
            line,
            message,
        })
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            warn(
                &mut out.warnings,
                None,
                format!("cannot read transcript: {e}"),
            );
            return out;
        }
    };
    let parse = |line: &Line<'_>| match parse_line(line.bytes, line.number == 1) {
        Ok(None) => None,
        Ok(Some(record)) => Some((line.number, Ok(record))),
        Err(message) if !line.terminated => Some((
            line.number,
            Err(format!(
                "incomplete last line, perhaps still being written ({message})"
            )),
        )),
        Err(message) => Some((line.number, Err(message))),
    };
    let read = scan_lines(file, parse, |batch| {
        for (number, record) in batch {
            match record {
                Ok(Record::Header { cwd }) => out.cwd = cwd,
                Ok(Record::Billed(billed)) => out.billed.push((number, billed)),
                Err(message) => warn(&mut out.warnings, Some(number), message),
            }
        }
    });
    if let Err(e) = read {
        warn(
            &mut out.warnings,
            None,
            format!("reading stopped part-way: {e}"),
        );
    }
    out
}
