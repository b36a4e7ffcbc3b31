//! Reading chosen transcripts rather than walking a `projects/` tree: a
//! session's own file and its subagents' files, for a hook that must finish
//! in well under a second however many other sessions the machine holds.

use super::ClaudeCodeSource;
use super::paths::{self, Discovery};
use std::path::{Path, PathBuf};
use tokenledger_core::event::UsageEvent;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::SourceScan;
use tokenledger_core::{Result, Warning};

impl ClaudeCodeSource {
    /// Streams the events of exactly `files`, deduplicated among themselves
    /// as a full scan would. Each file's session, project and agent are read
    /// from its path as under `projects/` (`<p>/<session>.jsonl`,
    /// `<p>/<session>/subagents/agent-<id>.jsonl`). Missing files are warnings.
    pub fn scan_files(
        files: &[PathBuf],
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let mut found = Discovery::default();
        for path in files {
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => {
                    let root = root_of(path);
                    found.files.push(paths::describe(&root, path, meta.len()));
                }
                Ok(_) => found.warnings.push(warning(path, "not a file".into())),
                Err(e) => found
                    .warnings
                    .push(warning(path, format!("cannot open: {e}"))),
            }
            found.searched.push(path.clone());
        }
        ClaudeCodeSource::with_roots(Vec::new()).read(found, None, window, sink)
    }
}

/// The `projects/` directory above `path`, else the directory that plays its
/// part: two levels up for a session file, four for a subagent's.
fn root_of(path: &Path) -> PathBuf {
    if let Some(projects) = path.ancestors().skip(1).find(|a| a.ends_with("projects")) {
        return projects.to_path_buf();
    }
    let subagent = path
        .parent()
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "subagents"));
    let up = if subagent { 4 } else { 2 };
    path.ancestors()
        .nth(up)
        .unwrap_or(Path::new("/"))
        .to_path_buf()
}

fn warning(path: &Path, message: String) -> Warning {
    Warning {
        path: path.to_path_buf(),
        line: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_stand_in_for_projects() {
        assert_eq!(
            root_of(Path::new("/h/.claude/projects/p/s/subagents/agent-a.jsonl")),
            Path::new("/h/.claude/projects")
        );
        assert_eq!(root_of(Path::new("/t/p/s.jsonl")), Path::new("/t"));
        assert_eq!(
            root_of(Path::new("/t/p/s/subagents/agent-a.jsonl")),
            Path::new("/t")
        );
    }
}
