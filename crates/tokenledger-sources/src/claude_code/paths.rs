//! Where Claude Code keeps transcripts, and what a transcript's path says
//! about it: project, session, and whether it belongs to a subagent.

use rustc_hash::FxHashSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
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
                if walk.dirs.insert(canonical.clone()) {
                    walk.dir(&root, &root, &canonical);
                }
            }
            Ok(_) => walk.warn(&root, "not a directory".into()),
            Err(e) if e.kind() == ErrorKind::NotFound && !explicit => {}
            Err(e) => walk.warn(&root, format!("cannot open: {e}")),
        }
    }
    walk.out.files.sort_by(|a, b| a.path.cmp(&b.path));
    walk.out
}

#[derive(Default)]
struct Walk {
    out: Discovery,
    /// Canonical directories entered, so loops and overlaps are walked once.
    dirs: FxHashSet<PathBuf>,
    /// Canonical files taken.
    files: FxHashSet<PathBuf>,
}

impl Walk {
    fn warn(&mut self, path: &Path, message: String) {
        self.out.warnings.push(Warning {
            path: path.to_path_buf(),
            line: None,
            message,
        });
    }

    fn dir(&mut self, root: &Path, dir: &Path, canonical_dir: &Path) {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.warn(dir, format!("cannot list directory: {e}")),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.warn(dir, format!("cannot list directory: {e}"));
                    break;
                }
            };
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                self.warn(&path, "vanished while listing".into());
                continue;
            };
            let is_jsonl = path.extension().is_some_and(|e| e == "jsonl");
            if !file_type.is_dir() && !file_type.is_symlink() && !is_jsonl {
                continue;
            }
            // Follows symlinks; a dangling or looping link fails here.
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    if file_type.is_dir() || is_jsonl || e.kind() != ErrorKind::NotFound {
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
                if self.dirs.insert(canonical.clone()) {
                    self.dir(root, &path, &canonical);
                } else if canonical_dir.starts_with(&canonical) {
                    self.warn(&path, "symlink loop; not followed".into());
                }
            } else if is_jsonl && self.files.insert(canonical) {
                let file = describe(root, &path, meta.len());
                self.out.files.push(file);
            }
        }
    }
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
