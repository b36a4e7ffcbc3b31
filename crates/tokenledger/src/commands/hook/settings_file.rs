//! Writing Claude Code's `settings.json` back: backup first, then an atomic
//! replace. What is written is `tokenledger_cleo::hook_settings`' edit.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// `settings.json.bak-20260206T002300Z`, never overwriting an older backup.
pub(super) fn write_backup(path: &Path, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let name = path.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let backup = path.with_file_name(format!("{name}.bak-{stamp}{suffix}"));
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup)
        {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("creating the backup {}", backup.display()));
            }
        };
        // The backup may hold secrets (env, API keys): same permissions as the original.
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = file.set_permissions(meta.permissions());
        }
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing the backup {}", backup.display()))?;
        return Ok(backup);
    }
    anyhow::bail!(
        "too many backups of {} named for this second; remove some and run again",
        path.display()
    )
}

/// Temp file in the same directory, then rename: a reader (Claude Code
/// starting up) sees the old file or the new one, never half of one.
pub(super) fn write_replacing(
    path: &Path,
    bytes: &[u8],
    expected: Option<&[u8]>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().map_or_else(
        || "settings.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.tokenledger-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())
                .with_context(|| format!("setting the permissions of {}", tmp.display()))?;
        }
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        // Claude Code (or the user) may have saved the file meanwhile; their
        // change wins, and the user simply runs the command again.
        let now = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        if now.as_deref() != expected {
            anyhow::bail!(
                "{} changed while tokenledger was editing it; nothing was written, run the command again",
                path.display()
            );
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("replacing {} with {}", path.display(), tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
