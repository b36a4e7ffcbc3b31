//! The register: the append-only JSONL file every agent logs its session to.

mod append;
mod fast;
mod index;
pub mod line;
mod read;
#[cfg(test)]
mod tests;

pub use append::AppendOutcome;
pub use line::{CostLiteral, NewEntry, ParsedLine, StoredEntry, parse_line};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The seed's file name, kept so existing registers are picked up as they are.
pub const REGISTER_FILE: &str = "token-usage-register.jsonl";

/// A register file and the files that travel with it: its lock, its key index
/// and its monthly gzip archives, all beside it.
#[derive(Debug, Clone)]
pub struct Register {
    path: PathBuf,
}

impl Register {
    pub fn in_home(home: &Path) -> Register {
        Register::at(home.join(REGISTER_FILE))
    }

    pub fn at(path: PathBuf) -> Register {
        Register { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    pub fn index_path(&self) -> PathBuf {
        self.sibling(".idx")
    }

    /// `token-usage-register-YYYY-MM.jsonl.gz` for `token-usage-register.jsonl`.
    pub fn archive_path(&self, year: i16, month: i8) -> PathBuf {
        self.path
            .with_file_name(format!("{}-{year:04}-{month:02}.jsonl.gz", self.stem()))
    }

    fn stem(&self) -> String {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        name.strip_suffix(".jsonl").unwrap_or(&name).to_string()
    }

    /// Existing archives, oldest month first.
    pub fn archives(&self) -> Result<Vec<Archive>> {
        let prefix = format!("{}-", self.stem());
        let entries = match std::fs::read_dir(self.dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(self.dir(), e)),
        };
        let mut archives: Vec<Archive> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let month = name.strip_prefix(&prefix)?.strip_suffix(".jsonl.gz")?;
                let (year, month) = month.split_once('-')?;
                let (year, month) = (year.parse().ok()?, month.parse().ok()?);
                (year > 0 && (1..=12).contains(&month)).then(|| Archive {
                    year,
                    month,
                    path: entry.path(),
                })
            })
            .collect();
        archives.sort_by_key(|a| (a.year, a.month));
        Ok(archives)
    }
}

/// One month's gzip archive of rotated entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub year: i16,
    pub month: i8,
    pub path: PathBuf,
}
