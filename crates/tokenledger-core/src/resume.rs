//! Where `sync` stopped reading each agent log, so the next sync reads only
//! what was appended since, and notices a file that was truncated, replaced
//! or rewritten in place (and then reads it again from the start: the ledger
//! drops what it already holds, so re-reading is always safe; skipping never
//! is).

use crate::source::FileRead;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes before a resume point whose hash must still match: a file rewritten
/// in place keeps its inode and may grow, but not its old content.
const TAIL: u64 = 1024;

/// What one file looked like when a sync read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    /// Bytes the sync read: unchanged length and mtime mean nothing to read.
    pub size: u64,
    pub mtime_ns: i128,
    pub ino: u64,
    /// Where the next read starts: just after the last complete line read. A
    /// partial last line (a reply still being written) is read again whole.
    pub offset: u64,
    /// Hash of the [`TAIL`] bytes before `offset`.
    pub tail: u64,
}

/// Where to start reading a file now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// Unchanged since the last sync.
    Nothing,
    /// From this byte offset, always the start of a line (0: the whole file).
    Offset(u64),
}

/// The marks of one source's files from the last sync. Empty: read everything.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    marks: FxHashMap<PathBuf, FileMark>,
}

impl Resume {
    pub fn new(marks: impl IntoIterator<Item = (PathBuf, FileMark)>) -> Resume {
        Resume {
            marks: marks.into_iter().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    pub fn get(&self, path: &Path) -> Option<&FileMark> {
        self.marks.get(path)
    }

    /// Where to start reading `path`: after what the last sync read, unless
    /// the file was replaced, truncated or rewritten since.
    pub fn read_from(&self, path: &Path) -> ReadFrom {
        let Some(mark) = self.marks.get(path) else {
            return ReadFrom::Offset(0);
        };
        // Unreadable now: the reader will say why.
        let Ok(meta) = std::fs::metadata(path) else {
            return ReadFrom::Offset(0);
        };
        if meta.ino() != mark.ino {
            return ReadFrom::Offset(0);
        }
        if mark.matches(&meta) {
            return ReadFrom::Nothing;
        }
        if meta.len() < mark.offset {
            return ReadFrom::Offset(0);
        }
        match File::open(path)
            .ok()
            .and_then(|f| tail_hash(&f, mark.offset))
        {
            Some(tail) if tail == mark.tail => ReadFrom::Offset(mark.offset),
            _ => ReadFrom::Offset(0),
        }
    }
}

impl Resume {
    /// Which of `files` changed since the last sync, each to be read whole:
    /// what a source that cannot start mid-file must read.
    pub fn changed(&self, files: &[PathBuf]) -> Vec<FileRead> {
        use rayon::prelude::*;
        // One `stat` each: a file read whole needs no resume point checked.
        files
            .par_iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(path).ok();
                let mark = self.marks.get(path);
                match (meta, mark) {
                    (Some(meta), Some(mark)) if mark.matches(&meta) => None,
                    (meta, _) => Some(FileRead {
                        path: path.clone(),
                        from: 0,
                        to: meta.map_or(0, |m| m.len()),
                    }),
                }
            })
            .collect()
    }
}

impl FileMark {
    /// The file is as this sync left it: same inode, length and mtime.
    fn matches(&self, meta: &std::fs::Metadata) -> bool {
        meta.ino() == self.ino && meta.len() == self.size && mtime_ns(meta) == self.mtime_ns
    }

    /// The mark of a file of which the first `read_to` bytes were read.
    /// `None` when the file cannot be opened any more (it will be read whole
    /// next time, which is safe).
    pub fn after_reading(path: &Path, read_to: u64) -> Option<FileMark> {
        let file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        let read_to = read_to.min(meta.len());
        let offset = line_start_at_or_before(&file, read_to)?;
        Some(FileMark {
            size: read_to,
            mtime_ns: mtime_ns(&meta),
            ino: meta.ino(),
            offset,
            tail: tail_hash(&file, offset)?,
        })
    }
}

/// A file's modification time in nanoseconds, as every stamp compares it.
pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}

/// Fingerprint of the (up to) `span` bytes before `end`: a file replaced or
/// rewritten in place rarely keeps the same bytes there.
pub(crate) fn hash_before(file: &File, end: u64, span: u64) -> std::io::Result<u64> {
    let start = end.saturating_sub(span);
    let mut buf = vec![0u8; (end - start) as usize];
    file.read_exact_at(&mut buf, start)?;
    Ok(xxhash_rust::xxh3::xxh3_64(&buf))
}

fn tail_hash(file: &File, offset: u64) -> Option<u64> {
    hash_before(file, offset, TAIL).ok()
}

/// Just after the last newline in `file[..end]`, or 0.
fn line_start_at_or_before(file: &File, end: u64) -> Option<u64> {
    const BLOCK: u64 = 64 << 10;
    let mut buf = vec![0u8; BLOCK as usize];
    let mut to = end;
    while to > 0 {
        let from = to.saturating_sub(BLOCK);
        let block = &mut buf[..(to - from) as usize];
        file.read_exact_at(block, from).ok()?;
        if let Some(i) = memchr::memrchr(b'\n', block) {
            return Some(from + i as u64 + 1);
        }
        to = from;
    }
    Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn resume_after(path: &Path) -> Resume {
        let len = std::fs::metadata(path).unwrap().len();
        Resume::new([(
            path.to_path_buf(),
            FileMark::after_reading(path, len).unwrap(),
        )])
    }

    #[test]
    fn a_new_file_is_read_whole_and_an_unchanged_one_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        append(&path, "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(Resume::default().read_from(&path), ReadFrom::Offset(0));
        assert_eq!(resume_after(&path).read_from(&path), ReadFrom::Nothing);
    }

    #[test]
    fn appended_lines_are_read_from_the_end_of_the_last_complete_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        append(&path, "{\"a\":1}\n{\"partial\":");
        let resume = resume_after(&path);
        append(&path, "2}\n{\"c\":3}\n");
        assert_eq!(resume.read_from(&path), ReadFrom::Offset(8));
    }

    #[test]
    fn truncated_replaced_or_rewritten_files_are_read_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        append(&path, "{\"a\":1}\n{\"b\":2}\n");
        let resume = resume_after(&path);
        // Truncated.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(3)
            .unwrap();
        assert_eq!(resume.read_from(&path), ReadFrom::Offset(0));
        // Rewritten in place (same inode), longer than before.
        std::fs::write(&path, "{\"x\":9}\n{\"y\":8}\n{\"z\":7}\n").unwrap();
        assert_eq!(resume.read_from(&path), ReadFrom::Offset(0));
        // Replaced by another file (new inode).
        let resume = resume_after(&path);
        let other = dir.path().join("b.jsonl");
        append(&other, "{\"x\":9}\n{\"y\":8}\n{\"z\":7}\n{\"w\":6}\n");
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(resume.read_from(&path), ReadFrom::Offset(0));
    }

    #[test]
    fn a_mark_never_points_past_what_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        append(&path, "{\"a\":1}\n{\"b\":2}\n");
        // Read while only the first line existed; the second came after.
        let mark = FileMark::after_reading(&path, 8).unwrap();
        assert_eq!((mark.size, mark.offset), (8, 8));
        let resume = Resume::new([(path.clone(), mark)]);
        assert_eq!(resume.read_from(&path), ReadFrom::Offset(8));
    }
}
