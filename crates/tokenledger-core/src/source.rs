//! The seam every usage source plugs into: the register today, the agents'
//! own logs and OpenTelemetry later. A source streams normalized events.

use crate::error::{Result, Warning};
use crate::event::{SourceKind, UsageEvent};
use crate::query::TimeWindow;
use crate::register::Register;
use crate::resume::Resume;
use crate::session::SessionState;
use std::path::PathBuf;

/// What one scan of a source found.
#[derive(Debug, Default)]
pub struct SourceScan {
    /// Every root the source looked in, found or not (for `tokenledger sources`).
    pub searched: Vec<PathBuf>,
    pub files: Vec<PathBuf>,
    pub events: u64,
    pub duplicates: u64,
    pub warnings: Vec<Warning>,
    /// For [`Source::scan_appended`]: the files read, and which bytes
    /// (files in `files` but not here were unchanged and skipped).
    pub read: Vec<FileRead>,
}

/// The bytes `from..to` of `path` were read (`to`: the length when listed;
/// a file still growing may have been read a little further).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    pub path: PathBuf,
    pub from: u64,
    pub to: u64,
}

pub trait Source {
    fn kind(&self) -> SourceKind;
    /// Whether this source has anything on this machine (its directories
    /// exist); reports read every detected source unless told otherwise.
    fn detected(&self) -> bool {
        true
    }
    /// Streams every event inside `window` to `sink`, each counted once.
    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan>;
    /// For `sync`: every event, over all time, in what changed since the
    /// last sync stopped (`resume`). A source that cannot start mid-file
    /// reads a changed file whole; one that cannot tell what changed reads
    /// everything (this default). Either way the ledger drops what it holds.
    fn scan_appended(
        &self,
        resume: &Resume,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let _ = resume;
        self.scan(&TimeWindow::ALL, sink)
    }
    /// What the source records about sessions apart from their events
    /// (status, last activity), for views that list sessions still running.
    /// Most sources record nothing beyond the events themselves.
    fn session_states(&self, warnings: &mut Vec<Warning>) -> Vec<SessionState> {
        let _ = warnings;
        Vec::new()
    }
}

impl Source for Register {
    fn kind(&self) -> SourceKind {
        SourceKind::Register
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        Register::scan(self, window, sink)
    }
}
