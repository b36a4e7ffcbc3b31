//! The seam every usage source plugs into: the register today, the agents'
//! own logs and OpenTelemetry later. A source streams normalized events.

use crate::error::{Result, Warning};
use crate::event::{SourceKind, UsageEvent};
use crate::query::TimeWindow;
use crate::register::Register;
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
