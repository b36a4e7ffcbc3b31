//! What the files of each source looked like at the last sync. When nothing
//! recorded has changed, a report can read the ledger alone: a file grown or
//! replaced changes its own stamp, and a file added or removed changes the
//! stamp of the directory holding it, which is recorded too.

use crate::error::{Error, Result};
use crate::event::SourceKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ino: meta.ino(),
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SourceFiles {
    /// Files read and the directories above them, up to and including the
    /// roots searched; `None` for a root that did not exist. A list, not a
    /// map: a report only walks it, and sorting thousands of paths on every
    /// load cost more than the check itself.
    stamps: Vec<(PathBuf, Option<Stamp>)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncState {
    version: u32,
    sources: BTreeMap<String, SourceFiles>,
}

impl SyncState {
    pub fn load(path: &Path) -> Option<SyncState> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str::<SyncState>(&text)
            .ok()
            .filter(|s| s.version == 1)
    }

    pub(super) fn record(&mut self, kind: SourceKind, searched: &[PathBuf], files: &[PathBuf]) {
        self.version = 1;
        let mut stamps = BTreeMap::new();
        for root in searched {
            stamps.insert(root.clone(), Stamp::of(root));
        }
        for file in files {
            stamps.insert(file.clone(), Stamp::of(file));
            let mut dir = file.parent();
            while let Some(d) = dir {
                if stamps.contains_key(d) {
                    break; // this directory and everything above it are in already
                }
                stamps.insert(d.to_path_buf(), Stamp::of(d));
                if searched.iter().any(|root| root == d) {
                    break;
                }
                dir = d.parent();
            }
        }
        self.sources.insert(
            kind.as_str().to_string(),
            SourceFiles {
                stamps: stamps.into_iter().collect(),
            },
        );
    }

    /// True when the source was synced and none of its files or directories changed since.
    pub fn unchanged(&self, kind: SourceKind) -> bool {
        self.sources.get(kind.as_str()).is_some_and(|files| {
            files
                .stamps
                .iter()
                .all(|(path, stamp)| Stamp::of(path) == *stamp)
        })
    }

    /// Written by temp file and rename: a crash leaves the old state or the new one.
    pub(super) fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string(self).expect("state always serializes");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| Error::io(path, e))
    }
}
