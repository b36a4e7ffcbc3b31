//! The seam between commands and where records are kept. The embedded file
//! store (the home's register, archives and ledger) is the default; a
//! collector server can put a database behind the same trait.

use crate::error::Result;
use crate::register::{AppendOutcome, NewEntry, Register};
use crate::rotate::RotateSummary;
use crate::source::Source;
use jiff::Timestamp;

pub trait Store {
    /// Appends one session-end record unless its session key is already stored.
    fn append(&self, entry: &NewEntry) -> Result<AppendOutcome>;
    /// Moves records older than the kept months out of the live set.
    fn rotate(&self, keep_months: u32, now: Timestamp) -> Result<RotateSummary>;
    /// The stored records, as a source reports read.
    fn records(&self) -> &dyn Source;
    /// Where the records live, for messages.
    fn describe(&self) -> String;
}

/// The register file in the home: the default, needing nothing installed.
pub struct FileStore {
    register: Register,
}

impl FileStore {
    pub fn new(register: Register) -> FileStore {
        FileStore { register }
    }

    pub fn register(&self) -> &Register {
        &self.register
    }
}

impl Store for FileStore {
    fn append(&self, entry: &NewEntry) -> Result<AppendOutcome> {
        self.register.append(entry)
    }

    fn rotate(&self, keep_months: u32, now: Timestamp) -> Result<RotateSummary> {
        self.register.rotate(keep_months, now)
    }

    fn records(&self) -> &dyn Source {
        &self.register
    }

    fn describe(&self) -> String {
        self.register.path().display().to_string()
    }
}
