//! `SmallDisk`: a tmpfs of a few KiB mounted for one test, so that writes
//! really fail with ENOSPC (`fill`) or EROFS (`read_only`). Mounting needs
//! root (CI runs the tests as root); without it the test fails and says so,
//! unless `TOKENLEDGER_SKIP_MOUNT=1` skips it explicitly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the filler lives on the disk; no reader of a home or of a CLEO
/// metrics directory looks at it.
const FILLER: &str = ".filler";

pub struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size_kb` KiB on `dir` (created when missing).
    /// `None` only under `TOKENLEDGER_SKIP_MOUNT=1`; any failure panics.
    pub fn mount(dir: &Path, size_kb: u64) -> Option<SmallDisk> {
        if std::env::var("TOKENLEDGER_SKIP_MOUNT").is_ok_and(|v| v == "1") {
            eprintln!("TOKENLEDGER_SKIP_MOUNT=1: skipped a test that mounts a small disk");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let size = format!("size={size_kb}k,mode=0755");
        if let Err(why) = run(&["-t", "tmpfs", "-o", &size, "tmpfs"], dir) {
            panic!(
                "this test mounts a {size_kb} KiB tmpfs on {} to make the disk fill up or turn \
                 read-only, which needs root (CAP_SYS_ADMIN) and mount(8): run the tests as root \
                 (CI does), or set TOKENLEDGER_SKIP_MOUNT=1 to skip them explicitly. {why}",
                dir.display()
            );
        }
        Some(SmallDisk {
            dir: dir.to_path_buf(),
        })
    }

    pub fn page() -> u64 {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(page).unwrap_or(4096)
    }

    /// A bigger (or smaller, down to what is used) disk, contents kept.
    pub fn grow(&self, size_kb: u64) {
        self.remount(&format!("remount,size={size_kb}k"));
    }

    pub fn read_only(&self) {
        self.remount("remount,ro");
    }

    pub fn read_write(&self) {
        self.remount("remount,rw");
    }

    /// Takes every free page with a filler file: the next write that needs
    /// a page fails with ENOSPC.
    pub fn fill(&self) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(FILLER))
            .unwrap();
        let chunk = vec![0xA5u8; Self::page() as usize];
        loop {
            match file.write(&chunk) {
                Ok(n) if n > 0 => {}
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling {}: {e}", self.dir.display()),
            }
        }
    }

    /// Gives back `pages` pages of the filler.
    pub fn free_pages(&self, pages: u64) {
        let path = self.dir.join(FILLER);
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len.saturating_sub(pages * Self::page()))
            .unwrap();
    }

    /// Fills the disk, leaving exactly `pages` free pages.
    pub fn leave_free(&self, pages: u64) {
        self.fill();
        self.free_pages(pages);
    }

    /// Deletes the filler: the disk has its space back.
    pub fn unfill(&self) {
        let _ = std::fs::remove_file(self.dir.join(FILLER));
    }

    fn remount(&self, options: &str) {
        if let Err(why) = run(&["-o", options], &self.dir) {
            panic!("mount -o {options} {}: {why}", self.dir.display());
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let plain = Command::new("umount").arg(&self.dir).output();
        if !matches!(plain, Ok(out) if out.status.success()) {
            // Busy (a process of a failed test still inside): detach it.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        }
    }
}

/// `mount ARGS DIR`, its stderr as the error.
fn run(args: &[&str], dir: &Path) -> Result<(), String> {
    match Command::new("mount").args(args).arg(dir).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "mount exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run mount: {e}")),
    }
}

/// Every file under `dir` whose name marks it as a temporary file, i.e.
/// what a failed write left behind.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(temp_files(&path));
        } else if name.contains(".tmp") || name.ends_with("-tmp") {
            found.push(path);
        }
    }
    found
}

/// Every file under `dir` (the filler aside) and its bytes.
pub fn contents(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut all = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.extend(contents(&path));
        } else if entry.file_name() != FILLER {
            all.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    all
}
