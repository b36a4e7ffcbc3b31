//! Splitting a piece of a transcript into lines: streamed through a reused
//! buffer with read(2). A piece owns the lines that *start* inside it: it
//! skips the line under way at its start (the piece before owns it) and
//! reads its last line to the end, past its own end if need be.
//!
//! Mapping big files instead (to save the kernel's copy into the buffer, a
//! fifth of a page-cached scan) was measured and dropped: on this 2-core VM
//! the page faults and unmapping cost as much as the copy they save.

use super::loader::{LINE_WARNINGS, Piece, Report, Sink};
use super::parser::{Parsed, USAGE, parse_line_knowing};
use super::paths::Transcript;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};

pub(super) const PAGE: usize = 4096;

pub(super) struct Lines<'a, 'n> {
    pub file: &'a Transcript,
    pub piece: Piece,
    /// Bytes per read(2).
    pub chunk: usize,
    pub sink: &'a mut Sink<'n>,
    pub report: &'a mut Report,
}

/// Where in `buf` to put the byte at file offset `offset`: at the same place
/// in a page as in the file, so the kernel copies page to page (a copy
/// between different offsets in a page can take half as long again).
fn slot(buf: &[u8], offset: u64) -> usize {
    let aligned = buf.as_ptr().align_offset(PAGE);
    (aligned + (offset % PAGE as u64) as usize) % PAGE
}

/// Where the next `"usage"` in `buf[from..to]` starts, or `to`.
fn find_usage(buf: &[u8], from: usize, to: usize) -> usize {
    USAGE.find(&buf[from..to]).map_or(to, |i| from + i)
}

impl Lines<'_, '_> {
    /// Streams the piece's lines through `buf`, which grows only to hold a
    /// line longer than itself.
    pub fn stream(&mut self, mut handle: File, buf: &mut Vec<u8>) -> std::io::Result<()> {
        let Piece { start, end, .. } = self.piece;
        // A piece not at the start begins after the first newline at or after
        // `start - 1`: the line under way there belongs to the piece before.
        let mut skipping = start > 0;
        let first = if skipping {
            handle.seek(SeekFrom::Start(start - 1))?
        } else {
            0
        };
        let mut head = slot(buf, first);
        let mut filled = head;
        // File offset of buf[head].
        let mut offset = first;
        let room = (self.chunk / 2).max(1);
        loop {
            if skipping {
                let skip = match memchr::memchr(b'\n', &buf[head..filled]) {
                    Some(i) => {
                        skipping = false;
                        i + 1
                    }
                    None => filled - head,
                };
                head += skip;
                offset += skip as u64;
                if skipping && offset >= end {
                    return Ok(());
                }
            }
            if !skipping && let Some(last) = memchr::memrchr(b'\n', &buf[head..filled]) {
                head = self.complete_lines(buf, head, head + last + 1, &mut offset);
            }
            if !skipping && offset >= end {
                return Ok(());
            }
            // Read on after the incomplete line; short of room, move it back
            // to the front, and grow only for a line longer than the buffer.
            if buf.len() - filled < room {
                let pending = filled - head;
                let mut at = slot(buf, offset);
                if at + pending + room > buf.len() {
                    buf.resize((2 * buf.len()).max(at + pending + room + PAGE), 0);
                    at = slot(buf, offset);
                }
                buf.copy_within(head..filled, at);
                head = at;
                filled = at + pending;
            }
            let to = buf.len().min(filled + self.chunk);
            let read = loop {
                match handle.read(&mut buf[filled..to]) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    read => break read?,
                }
            };
            if read == 0 {
                // The last line, unterminated: a transcript being written.
                if !skipping && filled > head {
                    let last = &buf[head..filled];
                    let has_usage = USAGE.find(last).is_some();
                    self.line(last, offset, false, has_usage);
                }
                return Ok(());
            }
            filled += read;
        }
    }

    /// The complete lines in `buf[head..complete]` (`buf[head]` is the start
    /// of a line, at file `offset`) that start before the piece's end: one
    /// search for `"usage"` across them all (most lines have none), then the
    /// lines in turn. Returns where it stopped; `offset` follows.
    fn complete_lines(
        &mut self,
        buf: &[u8],
        mut head: usize,
        complete: usize,
        offset: &mut u64,
    ) -> usize {
        let end = self.piece.end;
        let mut hit = find_usage(buf, head, complete);
        while head < complete && *offset < end {
            let Some(i) = memchr::memchr(b'\n', &buf[head..complete]) else {
                break;
            };
            let line_end = head + i;
            let has_usage = hit < line_end;
            self.line(&buf[head..line_end], *offset, true, has_usage);
            if has_usage {
                hit = find_usage(buf, line_end, complete);
            }
            head = line_end + 1;
            *offset += i as u64 + 1;
        }
        head
    }

    fn line(&mut self, bytes: &[u8], offset: u64, terminated: bool, has_usage: bool) {
        self.report.lines += 1;
        match parse_line_knowing(bytes, has_usage) {
            Parsed::Nothing => {}
            Parsed::Record(record) => self.sink.add(self.file, self.piece.file, offset, record),
            Parsed::Skipped(why) => self.warn(format!("skipped: {why}")),
            // The last line of a transcript being written is incomplete: not an error.
            Parsed::Malformed(_) if !terminated => {}
            Parsed::Malformed(why) => self.warn(format!("malformed line: {why}")),
        }
    }

    fn warn(&mut self, message: String) {
        let report = &mut *self.report;
        if report.line_warnings.len() < LINE_WARNINGS {
            report.line_warnings.push((report.lines, message));
        } else {
            report.suppressed += 1;
        }
    }
}
