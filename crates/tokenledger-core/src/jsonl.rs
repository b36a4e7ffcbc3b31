//! Streaming over JSON-lines files in bounded memory, parsing batches of lines
//! in parallel while handing results on in file order.
//!
//! Files are read, not memory-mapped: a mapped register of 1M lines would put
//! its whole size into the process's resident set, and a file truncated while
//! mapped kills the reader with SIGBUS.

use rayon::prelude::*;
use std::io::Read;

/// Bytes of whole lines handed to one parse task.
const CHUNK_BYTES: usize = 1 << 20;

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
pub fn scan_lines<R, T, P, C>(mut reader: R, parse: P, mut consume: C) -> std::io::Result<u64>
where
    R: Read + Send,
    T: Send,
    P: Fn(&Line<'_>) -> Option<T> + Sync,
    C: FnMut(Vec<T>) + Send,
{
    let batch_chunks = rayon::current_num_threads().max(1) * 2;
    let mut cursor = Cursor::default();
    let mut pending: Vec<Vec<T>> = Vec::new();
    loop {
        let (read, ()) = rayon::join(
            || {
                cursor.read_batch(&mut reader, batch_chunks).map(|chunks| {
                    let parsed: Vec<Vec<T>> = chunks
                        .par_iter()
                        .map(|(buf, first_line, first_offset)| {
                            parse_chunk(buf, *first_line, *first_offset, &parse)
                        })
                        .collect();
                    cursor.recycle(chunks);
                    parsed
                })
            },
            || {
                for batch in pending.drain(..) {
                    consume(batch);
                }
            },
        );
        let parsed = read?;
        if parsed.is_empty() {
            break;
        }
        pending = parsed;
    }
    Ok(cursor.next_line - 1)
}

/// Where the reader stands: the next line's number and offset, bytes of a
/// line not yet complete, and whether the input is exhausted.
#[derive(Default)]
struct Cursor {
    carry: Vec<u8>,
    /// Chunk buffers handed back after parsing: fresh megabyte buffers would
    /// be zeroed and page-faulted in again for every chunk of a large file.
    spare: Vec<Vec<u8>>,
    next_line: u64,
    next_offset: u64,
    eof: bool,
}

impl Cursor {
    /// Up to `count` chunks, each ending on a line boundary; empty at the end.
    fn read_batch<R: Read>(
        &mut self,
        reader: &mut R,
        count: usize,
    ) -> std::io::Result<Vec<(Vec<u8>, u64, u64)>> {
        if self.next_line == 0 {
            self.next_line = 1;
        }
        let mut chunks = Vec::with_capacity(count);
        while chunks.len() < count && !self.eof {
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(&self.carry);
            self.carry.clear();
            let start = buf.len();
            buf.resize(start + CHUNK_BYTES, 0);
            let mut filled = start;
            while filled < buf.len() {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
            let cut = if self.eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(i) => i + 1,
                    // A line longer than a chunk: keep reading into it.
                    None => {
                        self.carry.extend_from_slice(&buf);
                        self.spare.push(buf);
                        continue;
                    }
                }
            };
            self.carry.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
            if buf.is_empty() {
                self.spare.push(buf);
                continue;
            }
            let lines = memchr::memchr_iter(b'\n', &buf).count() as u64
                + u64::from(*buf.last().unwrap_or(&b'\n') != b'\n');
            let len = buf.len() as u64;
            chunks.push((buf, self.next_line, self.next_offset));
            self.next_line += lines;
            self.next_offset += len;
        }
        Ok(chunks)
    }

    fn recycle(&mut self, chunks: Vec<(Vec<u8>, u64, u64)>) {
        self.spare.extend(chunks.into_iter().map(|(buf, _, _)| buf));
    }
}

fn parse_chunk<T, P>(buf: &[u8], first_line: u64, first_offset: u64, parse: &P) -> Vec<T>
where
    P: Fn(&Line<'_>) -> Option<T>,
{
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut number = first_line;
    while start < buf.len() {
        let (end, next, terminated) = match memchr::memchr(b'\n', &buf[start..]) {
            Some(i) => (start + i, start + i + 1, true),
            None => (buf.len(), buf.len(), false),
        };
        let line = Line {
            number,
            offset: first_offset + start as u64,
            bytes: &buf[start..end],
            terminated,
        };
        if let Some(item) = parse(&line) {
            out.push(item);
        }
        number += 1;
        start = next;
    }
    out
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
