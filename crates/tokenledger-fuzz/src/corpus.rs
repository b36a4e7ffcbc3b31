//! Where each target's first inputs are: `fuzz/seeds.txt` names the
//! repository's fixtures for each target, and `fuzz/regressions/<target>/`
//! holds every crash found, minimized. `bench/fuzz.sh` copies both into the
//! fuzzers' corpora; `tests/regressions.rs` replays both.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One line of `fuzz/seeds.txt`: a target, a directory from the root, and
/// the file names to take from it (`*`, `*.jsonl` or an exact name), as
/// `find DIR -type f -name PATTERN` takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedDir {
    pub target: String,
    pub dir: PathBuf,
    pub pattern: String,
}

pub fn seed_dirs() -> Vec<SeedDir> {
    let path = root().join("fuzz/seeds.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [target, dir, pattern] => SeedDir {
                    target: target.to_string(),
                    dir: root().join(dir),
                    pattern: pattern.to_string(),
                },
                _ => panic!("{path:?}: {line:?} is not `TARGET DIR PATTERN`"),
            },
        )
        .collect()
}

impl SeedDir {
    pub fn files(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(&self.dir, &mut |path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let taken = match self.pattern.strip_prefix('*') {
                Some(suffix) => name.ends_with(suffix),
                None => name == self.pattern,
            };
            if taken {
                found.push(path.to_path_buf());
            }
        });
        found.sort();
        found
    }
}

/// Every committed crash input, with its target (its directory's name).
pub fn regressions() -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let dir = root().join("fuzz/regressions");
    walk(&dir, &mut |path| {
        let target = path.parent().and_then(Path::file_name);
        found.push((
            target.unwrap_or_default().to_string_lossy().into_owned(),
            path.to_path_buf(),
        ));
    });
    found.sort();
    found
}

fn walk(dir: &Path, visit: &mut impl FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // Symlinks are not followed, as `find` does not follow them.
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&entry.path(), visit),
            Ok(kind) if kind.is_file() => visit(&entry.path()),
            _ => {}
        }
    }
}
