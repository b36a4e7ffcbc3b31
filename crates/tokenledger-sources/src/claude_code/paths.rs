//! Where Claude Code keeps transcripts, and what a transcript's path says
//! about it: project, session, and whether it belongs to a subagent.

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use tokenledger_core::Warning;

/// Who wrote a transcript, judged from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FileKind {
    /// `projects/<p>/<session>.jsonl` (or a deeper non-subagent file).
    Main,
    /// `projects/<p>/<session>/subagents/agent-<id>.jsonl` (current layout).
    Subagent { agent: Box<str> },
    /// `projects/<p>/agent-<shortId>.jsonl` (CC 2.0.x): the session comes from the lines.
    FlatAgent { agent: Box<str> },
}

#[derive(Debug, Clone)]
pub(super) struct Transcript {
    /// The path as reached from its root (not canonicalized), for messages.
    pub path: PathBuf,
    pub size: u64,
    /// The first segment after `projects/`, e.g. `-home-me-src-app`.
    pub project_dir: Box<str>,
    /// The session the path names; subagent files roll into their parent's.
    pub session: Box<str>,
    pub kind: FileKind,
}

#[derive(Debug, Default)]
pub(super) struct Discovery {
    pub searched: Vec<PathBuf>,
    pub files: Vec<Transcript>,
    pub warnings: Vec<Warning>,
}

/// The `projects/` directory of a configured location, which may be a config
/// dir (`~/.claude`) or the `projects/` dir itself.
pub(super) fn projects_dir(location: &Path) -> PathBuf {
    let child = location.join("projects");
    if !child.is_dir() && location.file_name().is_some_and(|n| n == "projects") {
        return location.to_path_buf();
    }
    child
}

/// Every `*.jsonl` under the locations' `projects/` trees, each file once even
/// when symlinks or overlapping locations reach it twice. Missing locations
/// are warned about only when `explicit` (configured rather than defaults).
pub(super) fn discover(locations: &[PathBuf], explicit: bool) -> Discovery {
    let mut walk = Walk::default();
    for location in locations {
        let root = projects_dir(location);
        walk.out.searched.push(root.clone());
        match fs::canonicalize(&root) {
            Ok(canonical) if canonical.is_dir() => {
                if walk.dirs.insert(key(&canonical)) {
                    walk.dir(&root, &canonical, list(&root, 0));
                }
            }
            Ok(_) => walk.warn(&root, "not a directory".into()),
            Err(e) if e.kind() == ErrorKind::NotFound && !explicit => {}
            Err(e) => walk.warn(&root, format!("cannot open: {e}")),
        }
    }
    let taken = std::mem::take(&mut walk.taken);
    // Path order, from each path's components split once (comparing paths
    // splits them on every comparison).
    let components: Vec<Vec<Component<'_>>> = taken
        .par_iter()
        .map(|t| t.path.components().collect())
        .collect();
    let mut order: Vec<usize> = (0..taken.len()).collect();
    order.par_sort_unstable_by(|&a, &b| components[a].cmp(&components[b]));
    // What each path says, worked out in parallel (allocations, mostly).
    walk.out.files = order
        .into_par_iter()
        .map(|i| {
            let t = &taken[i];
            describe(&walk.out.searched[t.root], &t.path, t.size)
        })
        .collect();
    walk.out
}

/// A file taken by the walk: its path, size and root (an index into
/// `searched`).
struct Taken {
    path: PathBuf,
    size: u64,
    root: usize,
}

#[derive(Default)]
struct Walk {
    out: Discovery,
    /// Canonical directories entered (as [`key`]s), so loops and overlaps
    /// are walked once.
    dirs: FxHashSet<u128>,
    /// Canonical files taken, as [`key`]s.
    files: FxHashSet<u128>,
    taken: Vec<Taken>,
    /// For building canonical paths to look up.
    scratch: PathBuf,
}

/// A path's identity in the walk's sets: a 128-bit hash of its bytes, cheaper
/// to compute, store and compare than the path.
fn key(path: &Path) -> u128 {
    xxhash_rust::xxh3::xxh3_128(path.as_os_str().as_encoded_bytes())
}

impl Walk {
    fn warn(&mut self, path: &Path, message: String) {
        self.out.warnings.push(Warning {
            path: path.to_path_buf(),
            line: None,
            message,
        });
    }

    /// Judges a directory's entries (listed ahead by [`list`]) in order:
    /// symlinks are followed here, so which path reaches a file first, and
    /// which link is a loop, is decided as by a plain sequential walk.
    fn dir(&mut self, dir: &Path, canonical_dir: &Path, listing: Listing) {
        for Listed { name, kind } in listing.entries {
            let path = dir.join(&name);
            match kind {
                Kind::Vanished => self.warn(&path, "vanished while listing".into()),
                Kind::Dir(listing) => {
                    let canonical = canonical_dir.join(&name);
                    self.enter(&path, canonical_dir, canonical, listing);
                }
                Kind::File(Ok(size)) => {
                    // Not a link: its canonical path is its name under the
                    // directory's.
                    self.scratch.as_mut_os_string().clear();
                    self.scratch.push(canonical_dir);
                    self.scratch.push(&name);
                    let canonical = key(&self.scratch);
                    self.take(path, canonical, size);
                }
                Kind::File(Err(e)) => self.warn(&path, format!("cannot read: {e}")),
                Kind::Symlink => {
                    let is_jsonl = is_jsonl(&path);
                    // Follows the link; a dangling or looping one fails here.
                    let meta = match fs::metadata(&path) {
                        Ok(meta) => meta,
                        Err(e) => {
                            if is_jsonl || e.kind() != ErrorKind::NotFound {
                                self.warn(&path, format!("cannot read: {e}"));
                            }
                            continue;
                        }
                    };
                    let canonical = match fs::canonicalize(&path) {
                        Ok(c) => c,
                        Err(e) => {
                            self.warn(&path, format!("cannot resolve: {e}"));
                            continue;
                        }
                    };
                    if meta.is_dir() {
                        self.enter(&path, canonical_dir, canonical, None);
                    } else if is_jsonl {
                        self.take(path, key(&canonical), meta.len());
                    }
                }
            }
        }
        if let Some(e) = listing.error {
            self.warn(dir, format!("cannot list directory: {e}"));
        }
    }

    fn enter(
        &mut self,
        path: &Path,
        canonical_parent: &Path,
        canonical: PathBuf,
        listing: Option<Listing>,
    ) {
        if self.dirs.insert(key(&canonical)) {
            let listing = listing.unwrap_or_else(|| list(path, 0));
            self.dir(path, &canonical, listing);
        } else if canonical_parent.starts_with(&canonical) {
            self.warn(path, "symlink loop; not followed".into());
        }
    }

    fn take(&mut self, path: PathBuf, canonical: u128, size: u64) {
        if self.files.insert(canonical) {
            self.taken.push(Taken {
                path,
                size,
                root: self.out.searched.len() - 1,
            });
        }
    }
}

fn is_jsonl(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

/// Directories are listed this many levels ahead of the walk; deeper ones
/// when the walk reaches them.
const LIST_AHEAD: u32 = 16;

/// A directory's entries that may matter (subdirectories, symlinks and
/// `*.jsonl` files), in listing order, with what can be learned without
/// following links: listing is most of the discovery's time, and runs in
/// parallel.
#[derive(Default)]
struct Listing {
    entries: Vec<Listed>,
    /// Listing failed (at the start, or partway: after `entries`).
    error: Option<std::io::Error>,
}

struct Listed {
    name: OsString,
    kind: Kind,
}

enum Kind {
    /// Its type could not be read: gone since it was listed.
    Vanished,
    Symlink,
    /// A real directory, listed ahead unless too deep.
    Dir(Option<Listing>),
    /// A real `*.jsonl` file's size.
    File(std::io::Result<u64>),
}

fn list(dir: &Path, depth: u32) -> Listing {
    let mut listing = Listing::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            listing.error = Some(e);
            return listing;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                listing.error = Some(e);
                break;
            }
        };
        let name = entry.file_name();
        let kind = match entry.file_type() {
            Err(_) => Kind::Vanished,
            Ok(t) if t.is_symlink() => Kind::Symlink,
            Ok(t) if t.is_dir() => Kind::Dir(None),
            // The size comes from the directory handle: no path walk.
            Ok(_) if is_jsonl(Path::new(&name)) => Kind::File(entry.metadata().map(|m| m.len())),
            Ok(_) => continue,
        };
        listing.entries.push(Listed { name, kind });
    }
    let ahead = |e: &mut Listed| {
        if let Kind::Dir(ahead) = &mut e.kind {
            *ahead = Some(list(&dir.join(&e.name), depth + 1));
        }
    };
    // Projects and sessions are tasks enough to keep every thread busy;
    // below them a task per directory would cost more than it spreads.
    if depth < 2 {
        listing.entries.par_iter_mut().for_each(ahead);
    } else if depth < LIST_AHEAD {
        listing.entries.iter_mut().for_each(ahead);
    }
    listing
}

/// What a transcript's place under `projects/` says about it.
pub(super) fn describe(root: &Path, path: &Path, size: u64) -> Transcript {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = parts.len();
    let project_dir = if n >= 2 { &parts[0] } else { "unknown" };
    let agent_of = |stem: &str| Box::from(stem.strip_prefix("agent-").unwrap_or(stem));
    let (session, kind) = if n >= 4 && parts[n - 2] == "subagents" {
        (
            parts[n - 3].as_str(),
            FileKind::Subagent {
                agent: agent_of(&stem),
            },
        )
    } else if n == 2 && stem.starts_with("agent-") {
        (
            stem.as_str(),
            FileKind::FlatAgent {
                agent: agent_of(&stem),
            },
        )
    } else if n >= 3 {
        (parts[n - 2].as_str(), FileKind::Main)
    } else {
        (stem.as_str(), FileKind::Main)
    };
    Transcript {
        path: path.to_path_buf(),
        size,
        project_dir: project_dir.into(),
        session: session.into(),
        kind,
    }
}
