//! An on-disk hash index of the register's session keys, so that `log` checks
//! for a duplicate in O(1) instead of rescanning a register of a million lines.
//!
//! The index is only a cache: the register is the truth. Every hit is verified
//! against the register line it points at, and an index that is missing,
//! corrupt, or describes another file is rebuilt from the register and its
//! archives. A crash between the register append and the index update leaves
//! the index behind the register, and the next writer indexes the tail.

use super::line::session_key_of;
use crate::error::{Error, Result};
use crate::jsonl::scan_lines;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: [u8; 8] = *b"TLIDX\0\0\x02";
const HEADER_LEN: u64 = 80;
const SLOT_LEN: u64 = 16;
const MIN_CAPACITY: u64 = 1024;
/// Keys that now live only in a gzip archive: verified by hash alone.
const ARCHIVED: u64 = u64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    capacity: u64,
    count: u64,
    covered_len: u64,
    ino: u64,
    dev: u64,
    tail_hash: u64,
    /// Keys whose first copy is a live register line (not an archive).
    live_keys: u64,
    /// Valid entry lines in the live register, duplicates included: equal to
    /// `live_keys` exactly when the register holds no duplicate, which lets a
    /// report skip its own duplicate check.
    valid_lines: u64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [0u8; HEADER_LEN as usize];
        out[..8].copy_from_slice(&MAGIC);
        let fields = [
            self.capacity,
            self.count,
            self.covered_len,
            self.ino,
            self.dev,
            self.tail_hash,
            self.live_keys,
            self.valid_lines,
        ];
        for (i, value) in fields.iter().enumerate() {
            out[8 + i * 8..16 + i * 8].copy_from_slice(&value.to_le_bytes());
        }
        let checksum = xxh3_64(&out[..72]);
        out[72..].copy_from_slice(&checksum.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8; HEADER_LEN as usize]) -> Option<Header> {
        if bytes[..8] != MAGIC {
            return None;
        }
        let field = |i: usize| u64::from_le_bytes(bytes[8 + i * 8..16 + i * 8].try_into().unwrap());
        if field(8) != xxh3_64(&bytes[..72]) {
            return None;
        }
        let header = Header {
            capacity: field(0),
            count: field(1),
            covered_len: field(2),
            ino: field(3),
            dev: field(4),
            tail_hash: field(5),
            live_keys: field(6),
            valid_lines: field(7),
        };
        (header.capacity.is_power_of_two() && header.count < header.capacity).then_some(header)
    }
}

pub struct KeyIndex {
    file: File,
    path: PathBuf,
    header: Header,
}

/// Hash of a session key; never 0, which marks an empty slot.
fn key_hash(key: &str) -> u64 {
    xxh3_64(key.as_bytes()) | 1
}

/// Fingerprint of the bytes just before `len`, to notice a register replaced by another.
fn tail_hash(register: &File, len: u64) -> std::io::Result<u64> {
    crate::resume::hash_before(register, len, 64)
}

impl KeyIndex {
    /// Opens the index and brings it up to date with `register` (opened by the
    /// caller, who holds the home's lock).
    pub fn open_current(
        index_path: &Path,
        register_path: &Path,
        register: &File,
        archives: &[PathBuf],
    ) -> Result<KeyIndex> {
        let meta = register
            .metadata()
            .map_err(|e| Error::io(register_path, e))?;
        if let Some(mut index) = Self::open_existing(index_path)? {
            let h = index.header;
            let same_file = h.ino == meta.ino() && h.dev == meta.dev();
            let consistent = same_file
                && h.covered_len <= meta.len()
                && tail_hash(register, h.covered_len).ok() == Some(h.tail_hash);
            if consistent && index.index_tail(register_path, register, meta.len())? {
                return Ok(index);
            }
        }
        Self::rebuild(index_path, register_path, register, archives)
    }

    /// The index as it stands, without updating it, if it describes exactly
    /// `register` as it is now (for readers, which never write the index).
    pub fn current_for_reading(index_path: &Path, register: &File) -> Option<KeyIndex> {
        let index = Self::open_existing_with(index_path, false).ok()??;
        let meta = register.metadata().ok()?;
        let h = index.header;
        (h.ino == meta.ino()
            && h.dev == meta.dev()
            && h.covered_len == meta.len()
            && tail_hash(register, h.covered_len).ok() == Some(h.tail_hash))
        .then_some(index)
    }

    fn open_existing(index_path: &Path) -> Result<Option<KeyIndex>> {
        Self::open_existing_with(index_path, true)
    }

    fn open_existing_with(index_path: &Path, write: bool) -> Result<Option<KeyIndex>> {
        let file = match OpenOptions::new().read(true).write(write).open(index_path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(index_path, e)),
        };
        let mut bytes = [0u8; HEADER_LEN as usize];
        if file.read_exact_at(&mut bytes, 0).is_err() {
            return Ok(None);
        }
        let Some(header) = Header::decode(&bytes) else {
            return Ok(None);
        };
        let expected_len = HEADER_LEN + header.capacity * SLOT_LEN;
        match file.metadata() {
            Ok(m) if m.len() == expected_len => Ok(Some(KeyIndex {
                file,
                path: index_path.to_path_buf(),
                header,
            })),
            _ => Ok(None),
        }
    }

    /// Builds a fresh index from the register and archives, then renames it into place.
    pub fn rebuild(
        index_path: &Path,
        register_path: &Path,
        register: &File,
        archives: &[PathBuf],
    ) -> Result<KeyIndex> {
        let mut keys: Vec<(u64, u64)> = Vec::new();
        for archive in archives {
            let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
            let reader = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
            scan_lines(
                reader,
                |line| session_key_of(line.bytes).map(|k| (key_hash(&k), ARCHIVED)),
                |batch| keys.extend(batch),
            )
            .map_err(|e| Error::io(archive, e))?;
        }
        let meta = register
            .metadata()
            .map_err(|e| Error::io(register_path, e))?;
        let len = meta.len();
        scan_lines(
            std::io::Read::take(reader_at(register, 0), len),
            |line| session_key_of(line.bytes).map(|k| (key_hash(&k), line.offset)),
            |batch| keys.extend(batch),
        )
        .map_err(|e| Error::io(register_path, e))?;

        let capacity = (keys.len() as u64 * 4)
            .max(MIN_CAPACITY)
            .next_power_of_two();
        let mut slots = vec![0u8; (capacity * SLOT_LEN) as usize];
        let mut count = 0;
        let mut live_keys = 0;
        let valid_lines = keys
            .iter()
            .filter(|(_, offset)| *offset != ARCHIVED)
            .count() as u64;
        for (hash, offset) in keys {
            let mut slot = hash & (capacity - 1);
            loop {
                let at = (slot * SLOT_LEN) as usize;
                let existing = u64::from_le_bytes(slots[at..at + 8].try_into().unwrap());
                if existing == 0 {
                    slots[at..at + 8].copy_from_slice(&hash.to_le_bytes());
                    slots[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
                    count += 1;
                    live_keys += u64::from(offset != ARCHIVED);
                    break;
                }
                if existing == hash {
                    break; // the first copy of a key is the one that counts
                }
                slot = (slot + 1) & (capacity - 1);
            }
        }
        let header = Header {
            capacity,
            count,
            covered_len: len,
            ino: meta.ino(),
            dev: meta.dev(),
            tail_hash: tail_hash(register, len).map_err(|e| Error::io(register_path, e))?,
            live_keys,
            valid_lines,
        };
        let tmp_path = index_path.with_extension("idx.tmp");
        let write = || -> std::io::Result<File> {
            let file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(&tmp_path)?;
            file.write_all_at(&header.encode(), 0)?;
            file.write_all_at(&slots, HEADER_LEN)?;
            std::fs::rename(&tmp_path, index_path)?;
            Ok(file)
        };
        let file = write().map_err(|e| Error::io(index_path, e))?;
        Ok(KeyIndex {
            file,
            path: index_path.to_path_buf(),
            header,
        })
    }

    /// Indexes lines appended since the last update; `false` when there are
    /// too many for the table and the caller must rebuild.
    fn index_tail(&mut self, register_path: &Path, register: &File, len: u64) -> Result<bool> {
        let from = self.header.covered_len;
        if from == len {
            return Ok(true);
        }
        let mut keys = Vec::new();
        scan_lines(
            std::io::Read::take(reader_at(register, from), len - from),
            |line| session_key_of(line.bytes).map(|k| (k, from + line.offset)),
            |batch| keys.extend(batch),
        )
        .map_err(|e| Error::io(register_path, e))?;
        // Lines appended by hand can be many: past half load, rebuild instead
        // (a full open-addressing table would never find an empty slot).
        if (self.header.count + keys.len() as u64) * 2 > self.header.capacity {
            return Ok(false);
        }
        for (key, offset) in keys {
            self.add_line(&key, offset, register)?;
        }
        self.mark_covered(register, len)
            .map_err(|e| Error::io(register_path, e))?;
        Ok(true)
    }

    /// Records one valid live line: its key if new, and the line in the count.
    pub fn add_line(&mut self, key: &str, offset: u64, register: &File) -> Result<()> {
        if !self.contains(key, register)? {
            self.insert(key, offset)?;
            self.header.live_keys += 1;
        }
        self.header.valid_lines += 1;
        Ok(())
    }

    /// Whether the live register, up to `covered_len`, holds each key once.
    pub fn live_keys_unique(&self) -> bool {
        self.header.valid_lines == self.header.live_keys
    }

    pub fn covered_len(&self) -> u64 {
        self.header.covered_len
    }

    /// True when a valid register line (or archived entry) already holds `key`.
    pub fn contains(&self, key: &str, register: &File) -> Result<bool> {
        let hash = key_hash(key);
        let mask = self.header.capacity - 1;
        let mut slot = hash & mask;
        loop {
            let (found, offset) = self.read_slot(slot)?;
            if found == 0 {
                return Ok(false);
            }
            if found == hash
                && (offset == ARCHIVED || line_key_at(register, offset).as_deref() == Some(key))
            {
                return Ok(true);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Whether one more key fits without passing half load.
    pub fn has_room(&self) -> bool {
        (self.header.count + 1) * 2 <= self.header.capacity
    }

    fn insert(&mut self, key: &str, offset: u64) -> Result<()> {
        let hash = key_hash(key);
        let mask = self.header.capacity - 1;
        let mut slot = hash & mask;
        while self.read_slot(slot)?.0 != 0 {
            slot = (slot + 1) & mask;
        }
        let mut bytes = [0u8; SLOT_LEN as usize];
        bytes[..8].copy_from_slice(&hash.to_le_bytes());
        bytes[8..].copy_from_slice(&offset.to_le_bytes());
        self.file
            .write_all_at(&bytes, HEADER_LEN + slot * SLOT_LEN)
            .map_err(|e| Error::io(&self.path, e))?;
        self.header.count += 1;
        Ok(())
    }

    /// Records that the index now covers the register up to `len`.
    pub fn mark_covered(&mut self, register: &File, len: u64) -> std::io::Result<()> {
        self.header.covered_len = len;
        self.header.tail_hash = tail_hash(register, len)?;
        self.file.write_all_at(&self.header.encode(), 0)
    }

    fn read_slot(&self, slot: u64) -> Result<(u64, u64)> {
        let mut bytes = [0u8; SLOT_LEN as usize];
        self.file
            .read_exact_at(&mut bytes, HEADER_LEN + slot * SLOT_LEN)
            .map_err(|e| Error::io(&self.path, e))?;
        Ok((
            u64::from_le_bytes(bytes[..8].try_into().unwrap()),
            u64::from_le_bytes(bytes[8..].try_into().unwrap()),
        ))
    }
}

/// The session key of the register line starting at `offset`.
fn line_key_at(register: &File, offset: u64) -> Option<std::sync::Arc<str>> {
    let mut line = Vec::new();
    let mut buf = [0u8; 4096];
    let mut at = offset;
    loop {
        let n = register.read_at(&mut buf, at).ok()?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            line.extend_from_slice(&buf[..i]);
            break;
        }
        line.extend_from_slice(&buf[..n]);
        at += n as u64;
    }
    session_key_of(&line)
}

/// A `Read` over a file from `offset` that leaves the file's own cursor alone.
fn reader_at(file: &File, offset: u64) -> impl std::io::Read + '_ {
    struct At<'a> {
        file: &'a File,
        offset: u64,
    }
    impl std::io::Read for At<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.file.read_at(buf, self.offset)?;
            self.offset += n as u64;
            Ok(n)
        }
    }
    At { file, offset }
}
