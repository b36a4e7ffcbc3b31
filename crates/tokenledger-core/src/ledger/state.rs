//! What the files of each source looked like at the last sync, and where it
//! stopped reading each one. When nothing recorded has changed, a report can
//! read the ledger alone: a file grown or replaced changes its own mark, and
//! a file added or removed changes the stamp of the directory holding it,
//! which is recorded too. When something changed, the next sync (or report)
//! reads only from where the last sync stopped.
//!
//! Binary (postcard): a report after a sync checks thousands of files, and
//! parsing the JSON listing of them cost as much as the check. Paths are
//! kept as raw bytes, so names that are not UTF-8 survive.

use crate::error::{Error, Result};
use crate::event::SourceKind;
use crate::resume::{FileMark, Resume};
use crate::source::SourceScan;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TLSTATE\x03";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: meta.len(),
            mtime_ns: crate::resume::mtime_ns(&meta),
            ino: meta.ino(),
        })
    }

    fn of_stat(stat: &rustix::fs::Stat) -> Stamp {
        Stamp {
            len: stat.st_size as u64,
            mtime_ns: i128::from(stat.st_mtime) * 1_000_000_000 + i128::from(stat.st_mtime_nsec),
            ino: stat.st_ino,
        }
    }
}

/// A directory above the source's files (up to and including a root
/// searched), `None` when it did not exist, and the files read in it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Dir {
    path: Vec<u8>,
    stamp: Option<Stamp>,
    files: Vec<(Vec<u8>, FileMark)>,
}

impl Dir {
    fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.path))
    }

    /// The directory and each of its files as recorded. Files are looked up
    /// by name from the open directory: resolving each full path again cost
    /// most of a report after a sync.
    fn unchanged(&self) -> bool {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = match rustix::fs::open(self.path(), flags, Mode::empty()) {
            Ok(dir) => dir,
            Err(_) => return self.stamp.is_none() && self.files.is_empty(),
        };
        let Ok(stat) = rustix::fs::fstat(&dir) else {
            return false;
        };
        if self.stamp != Some(Stamp::of_stat(&stat)) {
            return false;
        }
        self.files.iter().all(|(name, mark)| {
            rustix::fs::statat(&dir, OsStr::from_bytes(name), AtFlags::empty()).is_ok_and(|s| {
                let now = Stamp::of_stat(&s);
                now.ino == mark.ino && now.len == mark.size && now.mtime_ns == mark.mtime_ns
            })
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncState {
    /// The ledger these marks were written for: if it was deleted or
    /// replaced, what the marks say was synced is no longer there.
    ledger: Option<Stamp>,
    sources: BTreeMap<String, Vec<Dir>>,
}

impl SyncState {
    /// The state saved for the ledger at `ledger`, or an empty one (read
    /// everything) when it is missing, unreadable, or belongs to a ledger
    /// that was since replaced or cut short.
    pub fn load(path: &Path, ledger: &Path) -> SyncState {
        let state = std::fs::read(path).ok().and_then(|bytes| {
            let body = bytes.strip_prefix(MAGIC)?;
            postcard::from_bytes::<SyncState>(body).ok()
        });
        match (state, Stamp::of(ledger)) {
            (Some(state), Some(now))
                if state
                    .ledger
                    .is_some_and(|then| then.ino == now.ino && then.len <= now.len) =>
            {
                state
            }
            _ => SyncState::default(),
        }
    }

    /// Where the last sync stopped in each of `kind`'s files.
    pub fn resume(&self, kind: SourceKind) -> Resume {
        let dirs = self
            .sources
            .get(kind.as_str())
            .map_or(&[][..], Vec::as_slice);
        Resume::new(dirs.iter().flat_map(|dir| {
            let path = dir.path();
            dir.files
                .iter()
                .map(move |(name, mark)| (path.join(OsStr::from_bytes(name)), *mark))
        }))
    }

    /// Records what `scan` (a [`crate::source::Source::scan_appended`] from
    /// `previous`) read: new marks for the files it read, the old ones for
    /// files it skipped as unchanged; files gone since are forgotten.
    pub(super) fn record(&mut self, kind: SourceKind, scan: &SourceScan, previous: &Resume) {
        let read: BTreeMap<&Path, u64> =
            scan.read.iter().map(|r| (r.path.as_path(), r.to)).collect();
        let marks: Vec<Option<FileMark>> = scan
            .files
            .par_iter()
            .map(|path| match read.get(path.as_path()) {
                Some(&len) => FileMark::after_reading(path, len),
                None => previous.get(path).copied(),
            })
            .collect();
        let mut dirs: BTreeMap<PathBuf, Dir> = BTreeMap::new();
        let add_dir = |dirs: &mut BTreeMap<PathBuf, Dir>, d: &Path| {
            dirs.entry(d.to_path_buf()).or_insert_with(|| Dir {
                path: d.as_os_str().as_bytes().to_vec(),
                stamp: Stamp::of(d),
                files: Vec::new(),
            });
        };
        for root in &scan.searched {
            add_dir(&mut dirs, root);
        }
        for (file, mark) in scan.files.iter().zip(marks) {
            let (Some(parent), Some(name), Some(mark)) = (file.parent(), file.file_name(), mark)
            else {
                continue; // no mark: read whole next time, which is safe
            };
            let mut dir = Some(parent);
            while let Some(d) = dir {
                if dirs.contains_key(d) {
                    break; // this directory and everything above it are in already
                }
                add_dir(&mut dirs, d);
                if scan.searched.iter().any(|root| root == d) {
                    break;
                }
                dir = d.parent();
            }
            if let Some(entry) = dirs.get_mut(parent) {
                entry.files.push((name.as_bytes().to_vec(), mark));
            }
        }
        self.sources
            .insert(kind.as_str().to_string(), dirs.into_values().collect());
    }

    /// How many of `kind`'s files the last sync recorded.
    pub fn file_count(&self, kind: SourceKind) -> u64 {
        self.sources
            .get(kind.as_str())
            .map_or(0, |dirs| dirs.iter().map(|d| d.files.len() as u64).sum())
    }

    /// True when the source was synced and none of its files or directories
    /// changed since. Thousands of `stat`s: done in parallel.
    pub fn unchanged(&self, kind: SourceKind) -> bool {
        self.sources
            .get(kind.as_str())
            .is_some_and(|dirs| dirs.par_iter().all(Dir::unchanged))
    }

    /// Written by temp file and rename, after the ledger lines it
    /// acknowledges are durable: a crash leaves the old state or the new one.
    pub(super) fn save(&mut self, path: &Path, ledger: &Path) -> Result<()> {
        self.ledger = Stamp::of(ledger);
        // Its own name (not `ledger.jsonl.tmp`, which the state and the snapshot
        // would share) and this process's, so no other writer's temp file is hit.
        let tmp = super::temp_sibling(path);
        let mut bytes = MAGIC.to_vec();
        bytes.extend(
            postcard::to_stdvec(self).map_err(|e| Error::io(path, std::io::Error::other(e)))?,
        );
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                // A disk that filled up mid-write must not keep the fragment.
                let _ = std::fs::remove_file(&tmp);
                Error::io(path, e)
            })
    }
}
