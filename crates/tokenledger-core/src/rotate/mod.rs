//! Rotation: entries older than the kept months move out of the live register
//! into one gzip archive per month, `token-usage-register-YYYY-MM.jsonl.gz`,
//! each line copied byte for byte. A `kill -9` at any instant loses no entry
//! and doubles none, and the next rotation (or [`Register::recover_rotation`])
//! completes the job.
//!
//! # Protocol, all under the home's exclusive lock
//!
//! 1. Recover an interrupted rotation, if its journal exists.
//! 2. Read the register up to the length it has now (`old_len`), noting its
//!    inode; parse in parallel. Kept bytes (entries of kept months, comments,
//!    blank and malformed lines, exactly as they are) go to
//!    `<register>.rotate-tmp`, created only at the first line that moves;
//!    moved lines are compressed into one gzip member per month, in memory.
//!    Nothing moves: stop here, having written nothing. Else fsync the tmp.
//! 3. Write the journal atomically: old inode and length, the tmp's inode, and
//!    the length of every archive to touch (absent: `None`).
//! 4. Append each member to its archive and fsync it; fsync the directory.
//! 5. Copy to the tmp what a writer ignoring the lock (`cat >>`) appended to
//!    the old register since step 2; check the register is still the old inode.
//! 6. Rename the tmp over the register; fsync the directory.
//! 7. Copy once more what such a writer appended to the old inode in between.
//! 8. Delete the key index (the next `log` rebuilds it), then the journal.
//!
//! # Why a crash anywhere is safe
//!
//! Entries live in the old register until the rename (step 6), which is atomic;
//! after it, they live in the new register or in archives that were complete
//! and fsynced before it. The only doubling is in between: a member appended to
//! an archive while the old register still holds its lines. The journal exists
//! during that whole window (written before the first append, deleted after the
//! rename), and recovery decides by inode: the register path still naming
//! `old_ino` means no rename, so each archive is cut back to its recorded
//! length (or removed when the rotation created it) and the tmp deleted: as if
//! the rotation never started. The path naming `tmp_ino` means renamed: the
//! archives are complete and only the index and journal are left to delete.
//! Both are idempotent, so a crash during recovery is recovered the same way.
//! Before the journal there is at most a tmp file, which nothing reads and
//! recovery deletes. Readers between a crash and its recovery may meet a torn
//! archive member or a line in both places: they should call
//! [`Register::recover_rotation`] when [`Register::rotation_pending`].
//!
//! Writers that skip the lock get best effort only: their bytes appended to
//! the old register before step 5 or between steps 5 and 7 are carried over;
//! bytes written through an old descriptor after step 7, or during a crash
//! window, land in an unlinked file. `tokenledger log` always takes the lock.

mod journal;
mod split;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::lock::HomeLock;
use crate::register::Register;
use jiff::Span;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use journal::{ArchiveMark, Journal};
use split::{Member, Month, copy_range, split};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotateSummary {
    /// Entries moved into archives.
    pub moved: u64,
    /// Valid entries left in the live register (comments, blank and
    /// malformed lines are kept too but not counted).
    pub kept: u64,
    /// Each archive appended to, oldest month first, with its lines appended.
    pub archives: Vec<(PathBuf, u64)>,
}

/// Every `TOKENLEDGER_CRASH_AT` point on the rotation's path, in order.
pub const ROTATE_FAULT_POINTS: &[&str] = &[
    "rotate:after-tmp",
    "rotate:after-journal",
    "rotate:mid-archive",
    "rotate:after-archive",
    "rotate:before-rename",
    "rotate:after-rename",
    "rotate:before-journal-delete",
    "rotate:recover-before-journal-delete",
];

/// The instants a rotation can be stopped at: each one is a fault point, and
/// tests stop there to leave exactly what a crash would leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    AfterTmp,
    AfterJournal,
    /// Half of a gzip member written to its archive.
    MidArchive,
    AfterArchive,
    BeforeRename,
    AfterRename,
    BeforeJournalDelete,
}

impl Step {
    pub(crate) fn fault_point(self) -> &'static str {
        match self {
            Step::AfterTmp => "rotate:after-tmp",
            Step::AfterJournal => "rotate:after-journal",
            Step::MidArchive => "rotate:mid-archive",
            Step::AfterArchive => "rotate:after-archive",
            Step::BeforeRename => "rotate:before-rename",
            Step::AfterRename => "rotate:after-rename",
            Step::BeforeJournalDelete => "rotate:before-journal-delete",
        }
    }
}

/// The first instant of the oldest kept month: entries before it move.
/// `None` when that lies before the earliest date there is (nothing moves).
pub fn rotation_cutoff(keep_months: u32, now: Timestamp) -> Result<Option<Timestamp>> {
    if keep_months == 0 {
        return Err(Error::invalid(
            "keep_months",
            "must be at least 1 (1 keeps only the current month)",
        ));
    }
    let this_month = TimeZone::UTC.to_datetime(now).date().first_of_month();
    let oldest = Span::new()
        .try_months(i64::from(keep_months - 1))
        .ok()
        .and_then(|back| this_month.checked_sub(back).ok());
    Ok(oldest.and_then(|date| TimeZone::UTC.to_timestamp(date.at(0, 0, 0, 0)).ok()))
}

impl Register {
    /// Moves every entry older than the current UTC month and the
    /// `keep_months - 1` before it into its month's archive. See the module
    /// documentation for the protocol that makes this crash-safe.
    pub fn rotate(&self, keep_months: u32, now: Timestamp) -> Result<RotateSummary> {
        Ok(self
            .rotate_with(keep_months, now, &mut |_| false)?
            .unwrap_or_default())
    }

    /// Whether an interrupted rotation awaits recovery. Until it is
    /// recovered, an archive may end in a torn gzip member or repeat lines
    /// the register still holds.
    pub fn rotation_pending(&self) -> bool {
        journal::exists(&journal::journal_path(self))
    }

    /// Finishes or undoes an interrupted rotation and deletes its leftovers.
    /// Takes the home's exclusive lock, so it must not be called while this
    /// process holds a [`HomeLock`] on the home (use
    /// [`Register::recover_rotation_locked`] then). Returns whether an
    /// interrupted rotation was found.
    pub fn recover_rotation(&self) -> Result<bool> {
        let leftovers = [
            journal::journal_path(self),
            journal::journal_tmp_path(self),
            journal::tmp_path(self),
        ];
        if !leftovers.iter().any(|path| journal::exists(path)) {
            return Ok(false);
        }
        let _lock = HomeLock::exclusive(&self.lock_path())?;
        journal::recover(self)
    }

    /// [`Register::recover_rotation`] for a caller that already holds the
    /// home's exclusive lock (a shared lock is not enough).
    pub fn recover_rotation_locked(&self, _exclusive: &HomeLock) -> Result<bool> {
        journal::recover(self)
    }

    /// The rotation, stoppable at each [`Step`]: `stop` returning true
    /// abandons it there as a crash would and yields `None`.
    pub(crate) fn rotate_with(
        &self,
        keep_months: u32,
        now: Timestamp,
        stop: &mut dyn FnMut(Step) -> bool,
    ) -> Result<Option<RotateSummary>> {
        let mut stop_at = |step: Step| {
            crate::fault::point(step.fault_point());
            stop(step)
        };
        let cutoff = rotation_cutoff(keep_months, now)?;
        let path = self.path();
        if path.is_dir() {
            return Err(Error::RegisterIsDirectory {
                path: path.to_path_buf(),
            });
        }
        if !journal::exists(path) && !journal::exists(&journal::journal_path(self)) {
            // Nothing to rotate and nothing to recover; a stray tmp file waits
            // for the next rotation that takes the lock.
            return Ok(Some(RotateSummary::default()));
        }
        let _lock = HomeLock::exclusive(&self.lock_path())?;
        journal::recover(self)?;
        let source = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(RotateSummary::default()));
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let meta = source.metadata().map_err(|e| Error::io(path, e))?;
        let old_len = meta.len();
        let tmp_path = journal::tmp_path(self);

        let split = split(path, &source, old_len, &tmp_path, cutoff);
        let split = match split {
            Ok(split) => split,
            Err(e) => {
                let _ = journal::remove_if_exists(&tmp_path);
                return Err(e);
            }
        };
        let Some(tmp_ino) = split.tmp_ino else {
            return Ok(Some(RotateSummary {
                moved: 0,
                kept: split.kept,
                archives: Vec::new(),
            }));
        };
        let summary = RotateSummary {
            moved: split.moved,
            kept: split.kept,
            archives: split
                .members
                .iter()
                .map(|(&(y, m), member)| (self.archive_path(y, m), member.lines))
                .collect(),
        };
        if stop_at(Step::AfterTmp) {
            return Ok(None);
        }

        let mut marks = Vec::with_capacity(split.members.len());
        for &(year, month) in split.members.keys() {
            let archive = self.archive_path(year, month);
            let len_before = match std::fs::metadata(&archive) {
                Ok(meta) => Some(meta.len()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    let _ = journal::remove_if_exists(&tmp_path);
                    return Err(Error::io(&archive, e));
                }
            };
            marks.push(ArchiveMark {
                year,
                month,
                len_before,
            });
        }
        let journal = Journal::new(meta.dev(), meta.ino(), old_len, tmp_ino, marks);
        let renamed = journal::write(self, &journal).and_then(|()| {
            if stop_at(Step::AfterJournal) || !self.append_archives(&split.members, &mut stop_at)? {
                return Ok(None);
            }
            self.rename_into_place(&journal, &source, &tmp_path, &mut stop_at)
        });
        let copied_to = match renamed {
            Ok(Some(copied_to)) => copied_to,
            Ok(None) => return Ok(None),
            Err(e) => {
                // Nothing renamed: undo the appends now rather than leave a
                // pending journal.
                let _ = journal::roll_back(self, &journal);
                return Err(e);
            }
        };
        journal::sync_dir(self)?;
        if stop_at(Step::AfterRename) {
            return Ok(None);
        }

        // Step 7: bytes appended to the old inode after step 5's copy.
        let old_now = source.metadata().map_err(|e| Error::io(path, e))?.len();
        if old_now > copied_to {
            let mut live = OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            copy_range(&source, path, copied_to, old_now, &mut live, path)?;
            live.sync_all().map_err(|e| Error::io(path, e))?;
        }
        journal::remove_if_exists(&self.index_path())?;
        if stop_at(Step::BeforeJournalDelete) {
            return Ok(None);
        }
        journal::remove(self)?;
        Ok(Some(summary))
    }

    /// Step 4: one new gzip member per archive. `Ok(false)`: stopped.
    fn append_archives(
        &self,
        members: &BTreeMap<Month, Member>,
        stop_at: &mut dyn FnMut(Step) -> bool,
    ) -> Result<bool> {
        for (&(year, month), member) in members {
            let archive = self.archive_path(year, month);
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&archive)
                .map_err(|e| Error::io(&archive, e))?;
            let (first, rest) = member.gzip.split_at(member.gzip.len() / 2);
            file.write_all(first).map_err(|e| Error::io(&archive, e))?;
            if stop_at(Step::MidArchive) {
                return Ok(false);
            }
            file.write_all(rest)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&archive, e))?;
            if stop_at(Step::AfterArchive) {
                return Ok(false);
            }
        }
        journal::sync_dir(self)?;
        Ok(true)
    }

    /// Steps 5 and 6. Returns how much of the old register the new one
    /// holds, or `None` when stopped.
    fn rename_into_place(
        &self,
        journal: &Journal,
        source: &File,
        tmp_path: &Path,
        stop_at: &mut dyn FnMut(Step) -> bool,
    ) -> Result<Option<u64>> {
        let path = self.path();
        let replaced = |what: &str| {
            Error::io(
                path,
                std::io::Error::other(format!(
                    "{what} while it was rotated, by a writer that ignores the lock; \
                     nothing was rotated"
                )),
            )
        };
        if journal::file_id(path)? != Some((journal.dev, journal.old_ino)) {
            return Err(replaced("was replaced"));
        }
        let old_now = source.metadata().map_err(|e| Error::io(path, e))?.len();
        if old_now < journal.old_len {
            return Err(replaced("shrank"));
        }
        if old_now > journal.old_len {
            let mut tmp = OpenOptions::new()
                .append(true)
                .open(tmp_path)
                .map_err(|e| Error::io(tmp_path, e))?;
            copy_range(source, path, journal.old_len, old_now, &mut tmp, tmp_path)?;
            tmp.sync_all().map_err(|e| Error::io(tmp_path, e))?;
        }
        if stop_at(Step::BeforeRename) {
            return Ok(None);
        }
        std::fs::rename(tmp_path, path).map_err(|e| Error::io(path, e))?;
        Ok(Some(old_now))
    }
}
