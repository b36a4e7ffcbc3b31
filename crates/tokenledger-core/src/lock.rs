//! The one exclusive lock that serializes every writer of a home.
//!
//! It lives in its own file rather than on the register itself because
//! rotation replaces the register by rename: a writer that had locked the old
//! inode would then append to a file nobody reads any more.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

pub struct HomeLock {
    _file: File,
    path: PathBuf,
}

impl HomeLock {
    pub fn exclusive(lock_path: &Path) -> Result<HomeLock> {
        let file = open_lock_file(lock_path)?;
        file.lock().map_err(|e| Error::io(lock_path, e))?;
        Ok(HomeLock {
            _file: file,
            path: lock_path.to_path_buf(),
        })
    }

    pub fn shared(lock_path: &Path) -> Result<HomeLock> {
        let file = open_lock_file(lock_path)?;
        file.lock_shared().map_err(|e| Error::io(lock_path, e))?;
        Ok(HomeLock {
            _file: file,
            path: lock_path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_lock_file(lock_path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(lock_path)
        .or_else(|e| {
            // A read-only home still allows shared readers to proceed unlocked
            // consistency-wise, but writers must fail: surface the error.
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                File::open(lock_path)
            } else {
                Err(e)
            }
        })
        .map_err(|e| Error::io(lock_path, e))
}
