//! Appending one entry: the duplicate check and the write are one step under
//! the home's exclusive lock, so concurrent agents neither lose nor double a line.

use super::index::KeyIndex;
use super::{NewEntry, Register};
use crate::error::{Error, Result};
use crate::lock::HomeLock;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    Appended { line: String },
    Duplicate,
}

impl Register {
    pub fn append(&self, entry: &NewEntry) -> Result<AppendOutcome> {
        if entry.session_key.trim().is_empty() {
            return Err(Error::invalid(
                "session_key",
                "is empty; pass the agent's session key",
            ));
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        if self.path.is_dir() {
            return Err(Error::RegisterIsDirectory {
                path: self.path.clone(),
            });
        }
        let lock = HomeLock::exclusive(&self.lock_path())?;
        // A rotation killed half-way is finished or undone before anything else.
        if self.rotation_pending() {
            self.recover_rotation_locked(&lock)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        let archives: Vec<PathBuf> = self.archives()?.into_iter().map(|a| a.path).collect();
        let index_path = self.index_path();
        let mut index = KeyIndex::open_current(&index_path, &self.path, &file, &archives)?;
        if index.contains(&entry.session_key, &file)? {
            return Ok(AppendOutcome::Duplicate);
        }
        let len = file.metadata().map_err(|e| Error::io(&self.path, e))?.len();
        let line = entry.to_line();
        let mut bytes = Vec::with_capacity(line.len() + 1);
        // A hand-written last line without its newline must not swallow ours.
        if len > 0 && !ends_with_newline(&file, len) {
            bytes.push(b'\n');
        }
        let offset = len + bytes.len() as u64;
        bytes.extend_from_slice(line.as_bytes());
        crate::fault::point("log:before-append");
        // One write for the whole line, so no reader ever sees a torn line.
        if let Err(e) = (&file).write_all(&bytes) {
            // A short write (disk full) must not leave half a line behind.
            let _ = file.set_len(len);
            return Err(Error::io(&self.path, e));
        }
        crate::fault::point("log:after-append");
        let new_len = len + bytes.len() as u64;
        if !index.has_room() {
            KeyIndex::rebuild(&index_path, &self.path, &file, &archives)?;
        } else {
            index.add_line(&entry.session_key, offset, &file)?;
            index
                .mark_covered(&file, new_len)
                .map_err(|e| Error::io(&index_path, e))?;
        }
        Ok(AppendOutcome::Appended { line })
    }
}

fn ends_with_newline(file: &File, len: u64) -> bool {
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1).is_ok() && last[0] == b'\n'
}
