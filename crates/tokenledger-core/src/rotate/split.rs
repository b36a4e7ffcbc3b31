//! Step 2 of a rotation: one pass over the register that writes the new live
//! content to the tmp file and compresses the lines that move, per month.

use crate::error::{Error, Result};
use crate::jsonl::scan_lines;
use crate::register::{ParsedLine, parse_line};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// `(year, month)` of an archive.
pub(super) type Month = (i16, i8);

/// One month's moved lines, compressed into one gzip member.
pub(super) struct Member {
    pub gzip: Vec<u8>,
    pub lines: u64,
}

pub(super) struct Split {
    /// The tmp file's inode; `None` when nothing moves and none was written.
    pub tmp_ino: Option<u64>,
    pub members: BTreeMap<Month, Member>,
    pub moved: u64,
    pub kept: u64,
}

enum Dest {
    Keep,
    Move {
        year: i16,
        month: i8,
        bytes: Vec<u8>,
    },
}

/// Where a line goes: kept entries and moved lines are reported, everything
/// else is kept silently (it is copied with the kept byte ranges).
fn classify(line: &crate::jsonl::Line<'_>, cutoff: Option<Timestamp>) -> Option<(u64, u64, Dest)> {
    let ParsedLine::Entry(entry) = parse_line(line.bytes) else {
        return None;
    };
    let end = line.offset + line.bytes.len() as u64 + u64::from(line.terminated);
    let dest = match cutoff {
        Some(cutoff) if entry.timestamp < cutoff => {
            let civil = TimeZone::UTC.to_datetime(entry.timestamp);
            // An archive of a year before 1 would be invisible to `Register::archives`.
            if civil.year() >= 1 {
                Dest::Move {
                    year: civil.year(),
                    month: civil.month(),
                    bytes: line.bytes.to_vec(),
                }
            } else {
                Dest::Keep
            }
        }
        _ => Dest::Keep,
    };
    Some((line.offset, end, dest))
}

/// Step 2: the new live content into the tmp file, moved lines into members.
pub(super) fn split(
    path: &Path,
    source: &File,
    old_len: u64,
    tmp_path: &Path,
    cutoff: Option<Timestamp>,
) -> Result<Split> {
    let mut tmp: Option<BufWriter<File>> = None;
    let mut encoders: BTreeMap<Month, (GzEncoder<Vec<u8>>, u64)> = BTreeMap::new();
    let (mut moved, mut kept) = (0u64, 0u64);
    // Kept bytes from here on are not yet in the tmp file.
    let mut keep_from = 0u64;
    let mut failed: Option<Error> = None;
    let mut take = |offset: u64, end: u64, dest: Dest| -> Result<()> {
        let Dest::Move { year, month, bytes } = dest else {
            kept += 1;
            return Ok(());
        };
        let out = match &mut tmp {
            Some(out) => out,
            None => tmp.insert(BufWriter::with_capacity(1 << 20, create_new_tmp(tmp_path)?)),
        };
        copy_range(source, path, keep_from, offset, out, tmp_path)?;
        keep_from = end;
        let (encoder, lines) = encoders
            .entry((year, month))
            .or_insert_with(|| (GzEncoder::new(Vec::new(), Compression::default()), 0));
        encoder
            .write_all(&bytes)
            .and_then(|()| encoder.write_all(b"\n"))
            .map_err(|e| Error::io(path, e))?;
        *lines += 1;
        moved += 1;
        Ok(())
    };
    scan_lines(
        source.take(old_len),
        |line| classify(line, cutoff),
        |batch| {
            for (offset, end, dest) in batch {
                if failed.is_none()
                    && let Err(e) = take(offset, end, dest)
                {
                    failed = Some(e);
                }
            }
        },
    )
    .map_err(|e| Error::io(path, e))?;
    if let Some(e) = failed {
        return Err(e);
    }
    let tmp_ino = match tmp {
        None => None,
        Some(mut out) => {
            copy_range(source, path, keep_from, old_len, &mut out, tmp_path)?;
            let file = out
                .into_inner()
                .map_err(|e| Error::io(tmp_path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(tmp_path, e))?;
            Some(file.metadata().map_err(|e| Error::io(tmp_path, e))?.ino())
        }
    };
    let mut members = BTreeMap::new();
    for (month, (encoder, lines)) in encoders {
        let gzip = encoder.finish().map_err(|e| Error::io(path, e))?;
        members.insert(month, Member { gzip, lines });
    }
    Ok(Split {
        tmp_ino,
        members,
        moved,
        kept,
    })
}

fn create_new_tmp(tmp_path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(tmp_path)
        .map_err(|e| Error::io(tmp_path, e))
}

/// Copies `from..to` of `source` (without moving its cursor) to `out`.
pub(super) fn copy_range(
    source: &File,
    source_path: &Path,
    from: u64,
    to: u64,
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<()> {
    let mut buf = vec![0u8; (to.saturating_sub(from)).min(1 << 16) as usize];
    let mut at = from;
    while at < to {
        let want = buf.len().min((to - at) as usize);
        let n = source
            .read_at(&mut buf[..want], at)
            .map_err(|e| Error::io(source_path, e))?;
        if n == 0 {
            return Err(Error::io(
                source_path,
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file shrank"),
            ));
        }
        out.write_all(&buf[..n])
            .map_err(|e| Error::io(out_path, e))?;
        at += n as u64;
    }
    Ok(())
}
