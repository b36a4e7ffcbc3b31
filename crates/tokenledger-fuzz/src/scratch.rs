//! Files for the readers that only take a path: one directory per thread
//! and target, kept for the thread's life, each input written over the last
//! (a fresh directory per input would cost more than most parses).

use std::path::{Path, PathBuf};

thread_local! {
    static DIR: tempfile::TempDir = tempfile::Builder::new()
        .prefix("tokenledger-fuzz-")
        .tempdir()
        .expect("a scratch directory in TMPDIR");
}

/// Writes `data` to `file` (relative, directories created) in `target`'s
/// scratch directory, and calls `read` with that directory and the file.
pub(crate) fn with_file<T>(
    target: &str,
    file: &str,
    data: &[u8],
    read: impl FnOnce(&Path, &Path) -> T,
) -> T {
    let root: PathBuf = DIR.with(|dir| dir.path().join(target));
    let path = root.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("creating a scratch directory");
    }
    std::fs::write(&path, data).expect("writing a scratch file");
    read(&root, &path)
}
