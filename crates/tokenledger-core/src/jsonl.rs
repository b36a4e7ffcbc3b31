//! Streaming over JSON-lines files in bounded memory, parsing batches of lines
//! in parallel while handing results on in file order.
//!
//! Files are read, not memory-mapped: a mapped register of 1M lines would put
//! its whole size into the process's resident set, and a file truncated while
//! mapped kills the reader with SIGBUS.

use rayon::prelude::*;
use std::borrow::Cow;
use std::hash::Hasher;
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes of whole lines handed to one parse task: small enough that the
/// chunk is still in the core's L2 cache when it is parsed right after the
/// read (a megabyte halved the read's copy speed). Tiny under test, so that
/// every test's file spans many chunks.
const CHUNK_BYTES: usize = if cfg!(test) { 1 << 10 } else { 1 << 18 };

/// One line of a file with its 1-based number and byte offset.
pub struct Line<'a> {
    pub number: u64,
    pub offset: u64,
    pub bytes: &'a [u8],
    /// False only for a last line that has no `\n` yet (possibly still being written).
    pub terminated: bool,
}

/// Reads `reader` to the end, calls `parse` on every line in parallel, and
/// `consume` on each batch of results in file order. Consuming one batch
/// overlaps with reading and parsing the next, so a sequential consumer
/// (deduplication, aggregation) costs no extra wall time up to the parse time.
pub fn scan_lines<R, T, P, C>(reader: R, parse: P, mut consume: C) -> std::io::Result<u64>
where
    R: Read + Send,
    T: Send,
    P: Fn(&Line<'_>) -> Option<T> + Sync,
    C: FnMut(Vec<T>) + Send,
{
    scan_chunks(reader, parse, |_, _, batch| consume(std::mem::take(batch)))
}

/// [`scan_lines`] for results that point back into their lines: `consume`
/// also gets the chunk the batch was parsed from, as its file offset and
/// bytes, before the buffer is reused. It drains the batch; what it leaves is
/// dropped, and the emptied vector is reused for a later chunk.
pub fn scan_chunks<R, T, P, C>(reader: R, parse: P, mut consume: C) -> std::io::Result<u64>
where
    R: Read + Send,
    T: Send,
    P: Fn(&Line<'_>) -> Option<T> + Sync,
    C: FnMut(u64, &[u8], &mut Vec<T>) + Send,
{
    let batch_chunks = rayon::current_num_threads().max(1) * 4;
    let input = Mutex::new(Input {
        reader,
        cursor: Cursor::default(),
        spare_batches: Vec::new(),
    });
    let mut pending: Vec<Parsed<T>> = Vec::new();
    loop {
        let (read, consumed) = rayon::join(
            || {
                (0..batch_chunks)
                    .into_par_iter()
                    .map(|_| read_and_parse(&input, &parse))
                    .collect::<std::io::Result<Vec<_>>>()
            },
            || {
                for parsed in &mut pending {
                    let chunk = &parsed.chunk;
                    consume(chunk.offset, &chunk.buf[..chunk.len], &mut parsed.batch);
                    parsed.batch.clear();
                }
                std::mem::take(&mut pending)
            },
        );
        let mut input = lock(&input);
        for parsed in consumed {
            input.cursor.spare.push(parsed.chunk.buf);
            input.spare_batches.push(parsed.batch);
        }
        drop(input);
        // Tasks take chunks in whatever order they get the lock: restore file order.
        let mut parsed: Vec<Parsed<T>> = read?.into_iter().flatten().collect();
        if parsed.is_empty() {
            break;
        }
        parsed.sort_unstable_by_key(|p| p.chunk.offset);
        pending = parsed;
    }
    let input = input.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(input.cursor.next_line - 1)
}

/// The reader and everything that must change with it under one lock.
struct Input<R, T> {
    reader: R,
    cursor: Cursor,
    /// Emptied result vectors, so a chunk's batch is not regrown from nothing.
    spare_batches: Vec<Vec<T>>,
}

struct Parsed<T> {
    chunk: Chunk,
    batch: Vec<T>,
}

fn lock<R, T>(input: &Mutex<Input<R, T>>) -> MutexGuard<'_, Input<R, T>> {
    input.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the next chunk under the lock and parses it outside it, on the same
/// thread, while the chunk is still in cache.
fn read_and_parse<R: Read, T, P>(
    input: &Mutex<Input<R, T>>,
    parse: &P,
) -> std::io::Result<Option<Parsed<T>>>
where
    P: Fn(&Line<'_>) -> Option<T>,
{
    let (chunk, mut batch) = {
        let mut guard = lock(input);
        let input = &mut *guard;
        let Some(chunk) = input.cursor.next_chunk(&mut input.reader)? else {
            return Ok(None);
        };
        (chunk, input.spare_batches.pop().unwrap_or_default())
    };
    // A batch never outgrows its chunk's line count (short lines of a file
    // mostly skipped should not reserve much, hence the cap).
    batch.reserve(chunk.lines.min(CHUNK_BYTES / 64));
    parse_chunk(&chunk, parse, &mut batch);
    Ok(Some(Parsed { chunk, batch }))
}

/// Whole lines from the file: `buf[..len]`, starting at line `first_line`
/// and byte `offset`.
struct Chunk {
    buf: Vec<u8>,
    len: usize,
    first_line: u64,
    offset: u64,
    lines: usize,
}

/// Where the reader stands: the next line's number and offset, bytes of a
/// line not yet complete, and whether the input is exhausted.
struct Cursor {
    carry: Vec<u8>,
    /// Chunk buffers handed back after consumption: fresh buffers would be
    /// zeroed and page-faulted in again for every chunk of a large file.
    spare: Vec<Vec<u8>>,
    next_line: u64,
    next_offset: u64,
    eof: bool,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            carry: Vec::new(),
            spare: Vec::new(),
            next_line: 1,
            next_offset: 0,
            eof: false,
        }
    }
}

impl Cursor {
    /// The next chunk ending on a line boundary; `None` at the end.
    fn next_chunk<R: Read>(&mut self, reader: &mut R) -> std::io::Result<Option<Chunk>> {
        loop {
            if self.eof && self.carry.is_empty() {
                return Ok(None);
            }
            let mut buf = self.spare.pop().unwrap_or_default();
            let start = self.carry.len();
            let want = start + CHUNK_BYTES;
            // Buffers keep their length between uses: only growth is zeroed.
            if buf.len() < want {
                buf.resize(want, 0);
            }
            buf[..start].copy_from_slice(&self.carry);
            self.carry.clear();
            let mut filled = start;
            while filled < want && !self.eof {
                match reader.read(&mut buf[filled..want]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            let cut = if self.eof {
                filled
            } else {
                match memchr::memrchr(b'\n', &buf[..filled]) {
                    Some(i) => i + 1,
                    // A line longer than a chunk: keep reading into it.
                    None => 0,
                }
            };
            self.carry.extend_from_slice(&buf[cut..filled]);
            if cut == 0 {
                self.spare.push(buf);
                continue;
            }
            let lines = memchr::memchr_iter(b'\n', &buf[..cut]).count()
                + usize::from(buf[cut - 1] != b'\n');
            let chunk = Chunk {
                buf,
                len: cut,
                first_line: self.next_line,
                offset: self.next_offset,
                lines,
            };
            self.next_line += lines as u64;
            self.next_offset += cut as u64;
            return Ok(Some(chunk));
        }
    }
}

fn parse_chunk<T, P>(chunk: &Chunk, parse: &P, out: &mut Vec<T>)
where
    P: Fn(&Line<'_>) -> Option<T>,
{
    let buf = &chunk.buf[..chunk.len];
    let mut start = 0usize;
    let mut number = chunk.first_line;
    while start < buf.len() {
        let (end, next, terminated) = match memchr::memchr(b'\n', &buf[start..]) {
            Some(i) => (start + i, start + i + 1, true),
            None => (buf.len(), buf.len(), false),
        };
        let line = Line {
            number,
            offset: chunk.offset + start as u64,
            bytes: &buf[start..end],
            terminated,
        };
        if let Some(item) = parse(&line) {
            out.push(item);
        }
        number += 1;
        start = next;
    }
}

/// Recent names (agents, models, tasks...) read from lines, as shared
/// strings, direct-mapped by a hash of their bytes. Names repeat, so nearly
/// every line finds its names here, in a few cache lines (a hash map shared
/// with thousands of task ids missed the CPU cache on most lookups); a miss
/// costs one small allocation, and memory stays bounded whatever the file
/// holds. One cache per field keeps a field's churn from evicting another's.
pub struct NameCache {
    slots: Vec<Option<Arc<str>>>,
}

const NAME_SLOTS: usize = 512;

impl Default for NameCache {
    fn default() -> Self {
        NameCache {
            slots: vec![None; NAME_SLOTS],
        }
    }
}

impl NameCache {
    /// `text` as a shared string; see [`utf8`].
    pub fn get(&mut self, text: &[u8]) -> &Arc<str> {
        let mut hasher = rustc_hash::FxHasher::default();
        hasher.write(text);
        let slot = &mut self.slots[(hasher.finish() >> 20) as usize % NAME_SLOTS];
        if slot.as_deref().is_some_and(|name| name.as_bytes() != text) {
            *slot = None;
        }
        slot.get_or_insert_with(|| Arc::from(utf8(text)))
    }

    /// Points `slot` at the shared copy of `text`, touching no reference
    /// count when it already does.
    pub fn set(&mut self, slot: &mut Arc<str>, text: &[u8]) {
        let name = self.get(text);
        if !Arc::ptr_eq(slot, name) {
            *slot = Arc::clone(name);
        }
    }
}

/// Text a parser found to be UTF-8 (anything else is replaced), checked
/// with `from_utf8` first: the lossy walk is several times slower.
pub fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_offsets_and_order_survive_chunking() {
        let mut text = String::new();
        for i in 0..300_000 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("tail without newline");
        let mut seen = Vec::new();
        let total = scan_lines(
            text.as_bytes(),
            |line| {
                Some((
                    line.number,
                    line.offset,
                    line.terminated,
                    line.bytes.to_vec(),
                ))
            },
            |batch| seen.extend(batch),
        )
        .unwrap();
        assert_eq!(total, 300_001);
        assert_eq!(seen.len(), 300_001);
        for (i, (number, offset, terminated, bytes)) in seen.iter().enumerate() {
            assert_eq!(*number, i as u64 + 1);
            let expected_bytes = &text.as_bytes()[*offset as usize..][..bytes.len()];
            assert_eq!(expected_bytes, &bytes[..]);
            assert_eq!(*terminated, i < 300_000);
        }
    }

    #[test]
    fn a_line_longer_than_a_chunk_is_one_line() {
        let long = "x".repeat(CHUNK_BYTES * 3);
        let text = format!("a\n{long}\nb\n");
        let mut lens = Vec::new();
        scan_lines(text.as_bytes(), |l| Some(l.bytes.len()), |b| lens.extend(b)).unwrap();
        assert_eq!(lens, vec![1, CHUNK_BYTES * 3, 1]);
    }
}
