//! The rotation journal and the recovery that reads it.
//!
//! The journal is written once, atomically (tmp file, fsync, rename, fsync of
//! the directory), after the new live content is complete in the rotation's
//! tmp file and before any archive is touched. It records everything needed
//! to undo the archive appends, and the two inodes that tell whether the one
//! irreversible step, the rename of the tmp file over the register, happened.

use crate::error::{Error, Result};
use crate::register::Register;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Journal {
    pub version: u32,
    /// Device of the register, its tmp file and its archives (one directory).
    pub dev: u64,
    /// The register as it was read: while the path still names this inode,
    /// the rename has not happened.
    pub old_ino: u64,
    pub old_len: u64,
    /// The tmp file holding the new live content: once the path names this
    /// inode, the rename has happened.
    pub tmp_ino: u64,
    /// Every archive the rotation appends to, with its length before.
    pub archives: Vec<ArchiveMark>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ArchiveMark {
    pub year: i16,
    pub month: i8,
    /// `None` when the rotation creates the archive.
    pub len_before: Option<u64>,
}

impl Journal {
    pub fn new(
        dev: u64,
        old_ino: u64,
        old_len: u64,
        tmp_ino: u64,
        archives: Vec<ArchiveMark>,
    ) -> Self {
        Journal {
            version: VERSION,
            dev,
            old_ino,
            old_len,
            tmp_ino,
            archives,
        }
    }
}

fn sibling(register: &Register, suffix: &str) -> PathBuf {
    let path = register.path();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

pub(super) fn journal_path(register: &Register) -> PathBuf {
    sibling(register, ".rotate-journal")
}

pub(super) fn journal_tmp_path(register: &Register) -> PathBuf {
    sibling(register, ".rotate-journal.tmp")
}

pub(super) fn tmp_path(register: &Register) -> PathBuf {
    sibling(register, ".rotate-tmp")
}

/// The register's directory, `.` for a bare file name.
pub(super) fn home_dir(register: &Register) -> &Path {
    let dir = register.dir();
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

pub(super) fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

pub(super) fn sync_dir(register: &Register) -> Result<()> {
    let dir = home_dir(register);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

pub(super) fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// `(dev, ino)` of the file at `path`, `None` when there is none.
pub(super) fn file_id(path: &Path) -> Result<Option<(u64, u64)>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some((meta.dev(), meta.ino()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub(super) fn write(register: &Register, journal: &Journal) -> Result<()> {
    let tmp = journal_tmp_path(register);
    let bytes = serde_json::to_vec(journal).expect("a journal always serializes");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    let path = journal_path(register);
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(register)
}

pub(super) fn read(register: &Register) -> Result<Option<Journal>> {
    let path = journal_path(register);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let corrupt = |why: String| {
        Error::io(
            &path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "unreadable rotation journal ({why}); it is written atomically, so \
                     something else changed it: compare the register with its archives \
                     before deleting it"
                ),
            ),
        )
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if journal.version != VERSION {
        return Err(corrupt(format!("version {}", journal.version)));
    }
    Ok(Some(journal))
}

/// Deletes the journal: the last step of every rotation and every recovery.
pub(super) fn remove(register: &Register) -> Result<()> {
    remove_if_exists(&journal_path(register))?;
    sync_dir(register)
}

/// Finishes or undoes an interrupted rotation. The caller holds the home's
/// exclusive lock. Returns whether a journal was found.
pub(super) fn recover(register: &Register) -> Result<bool> {
    // A journal that never reached its name: the rotation had not started.
    remove_if_exists(&journal_tmp_path(register))?;
    let tmp = tmp_path(register);
    let Some(journal) = read(register)? else {
        // A tmp file without a journal: nothing was appended anywhere yet.
        remove_if_exists(&tmp)?;
        return Ok(false);
    };
    let live = file_id(register.path())?;
    if live == Some((journal.dev, journal.tmp_ino)) {
        roll_forward(register)?;
    } else if live == Some((journal.dev, journal.old_ino)) {
        roll_back(register, &journal)?;
    } else if file_id(&tmp)? == Some((journal.dev, journal.tmp_ino)) {
        // Not renamed, yet the register is gone or another file: someone
        // replaced it. Undoing loses what only the archives hold now, and
        // finishing may install torn archives; ask a human.
        return Err(Error::io(
            journal_path(register),
            std::io::Error::other(format!(
                "an interrupted rotation cannot be finished: {} was replaced or removed \
                 while it was rotated; its new content is in {}, the rotated entries in \
                 the archives; merge by hand, then delete this journal and that file",
                register.path().display(),
                tmp.display()
            )),
        ));
    } else {
        // The tmp file is gone, so it was renamed (only a rename or a roll
        // back removes it, and a roll back leaves the old inode in place);
        // the register has since been replaced. Keep the archives: undoing
        // them now could only lose entries.
        roll_forward(register)?;
    }
    Ok(true)
}

/// The rename happened, so every archive append before it is complete.
fn roll_forward(register: &Register) -> Result<()> {
    remove_if_exists(&register.index_path())?;
    crate::fault::point("rotate:recover-before-journal-delete");
    remove(register)
}

/// The register is still the old file holding every entry: cut each archive
/// back to its length before the rotation, as if it never started.
/// Idempotent, so a crash part-way through is undone by running it again.
pub(super) fn roll_back(register: &Register, journal: &Journal) -> Result<()> {
    for mark in &journal.archives {
        let path = register.archive_path(mark.year, mark.month);
        match mark.len_before {
            None => remove_if_exists(&path)?,
            Some(len) => match OpenOptions::new().write(true).open(&path) {
                Ok(file) => {
                    let now = file.metadata().map_err(|e| Error::io(&path, e))?.len();
                    if now > len {
                        file.set_len(len)
                            .and_then(|()| file.sync_all())
                            .map_err(|e| Error::io(&path, e))?;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            },
        }
    }
    sync_dir(register)?;
    remove_if_exists(&tmp_path(register))?;
    remove_if_exists(&journal_tmp_path(register))?;
    crate::fault::point("rotate:recover-before-journal-delete");
    remove(register)
}
