//! ccusage v20's deduplication, made independent of the order files are read
//! in, over compact candidate records so memory stays bounded by the number
//! of distinct API requests rather than by file sizes.
//!
//! Per `message.id`: if any copy is not a sidechain, keep one winner per
//! `requestId` among the non-sidechain copies and drop every sidechain copy
//! (a `/btw` replay reuses the parent's `message.id` with a new `requestId`).
//! Otherwise all (sidechain) copies collapse into one. Among copies of one
//! key the larger token total wins, then the copy that has `speed`, then a
//! direct line over a mirrored progress entry, then the earlier file/line.
//! Copies without `message.id` are never deduplicated.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::{Arc, Mutex, PoisonError};
use tokenledger_core::event::TokenCounts;

pub(super) const SIDECHAIN: u8 = 1;
pub(super) const HAS_SPEED: u8 = 2;
pub(super) const FAST: u8 = 4;
pub(super) const PROGRESS: u8 = 8;

/// One copy of a request, ~140 bytes: strings are interned ids.
#[derive(Debug, Clone, Default)]
pub(super) struct Candidate {
    pub micros: i64,
    pub tokens: TokenCounts,
    pub cost: Option<f64>,
    pub model: u32,
    pub session: u32,
    pub project: u32,
    pub agent: u32,
    /// File index (in path order) and the line's byte offset: the last
    /// tie-breaker (offsets order lines as line numbers would).
    pub order: (u32, u64),
    pub flags: u8,
    /// Hash of `message.id`, 0 when there is none.
    pub message_hash: u64,
    /// The event's dedupe key, `cc:<message.id>:<requestId>`, kept in its
    /// reader's arena: an allocation per copy, and freeing them all, cost
    /// more than making the winners' keys when they are emitted.
    pub key: Key,
}

/// Where a candidate's dedupe key is: `len` bytes from `start` in the key
/// arena of worker `worker`; `len` 0 for none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Key {
    pub worker: u32,
    pub len: u32,
    pub start: u64,
}

impl Key {
    /// The key's text, from the workers' arenas.
    pub fn text<'a>(&self, arenas: &'a [String]) -> Option<&'a str> {
        let start = usize::try_from(self.start).ok()?;
        let len = usize::try_from(self.len).ok()?;
        (len > 0).then(|| &arenas[self.worker as usize][start..start + len])
    }
}

impl Candidate {
    /// Whether `self` should replace `other` as the copy kept.
    fn beats(&self, other: &Candidate) -> bool {
        let rank = |c: &Candidate| {
            (
                c.tokens.total(),
                c.flags & HAS_SPEED != 0,
                c.flags & PROGRESS == 0,
                std::cmp::Reverse(c.order),
            )
        };
        rank(self) > rank(other)
    }
}

/// How many parts [`Candidates`] are split into, by `message.id`: every
/// copy that can compete with another lands in the same part, so parts are
/// merged and judged independently, in parallel.
pub(super) const PARTS: usize = 16;

/// Candidates, split by `message.id` into [`PARTS`] independent parts.
#[derive(Debug, Default)]
pub(super) struct Candidates {
    parts: [Part; PARTS],
}

/// The copies of the requests whose `message.id` hashes to one part. The
/// maps hold indices into `kept`: small entries, so growing them moves and
/// touches little memory.
#[derive(Debug, Default)]
pub(super) struct Part {
    /// The copies winning so far, and every copy without `message.id`.
    kept: Vec<Candidate>,
    /// Non-sidechain copies by hash of (`message.id`, `requestId`).
    exact: FxHashMap<u128, u32>,
    /// Sidechain copies by hash of `message.id`.
    side: FxHashMap<u64, u32>,
    /// Copies that lost to another copy.
    duplicates: u64,
}

pub(super) fn message_hash(message_id: &str) -> u64 {
    // 0 marks "no message id".
    xxhash_rust::xxh3::xxh3_64(message_id.as_bytes()).max(1)
}

pub(super) fn exact_hash(message_id: &str, request_id: Option<&str>) -> u128 {
    let (separator, request) = match request_id {
        Some(r) => (0u8, r.as_bytes()),
        None => (1u8, &[][..]),
    };
    let (m, len) = (message_id.as_bytes(), message_id.len() + 1 + request.len());
    // Ids are short: hashed in one go from the stack (the same value as the
    // streaming hasher gives, which is slower to set up).
    let mut buf = [0u8; 128];
    if len <= buf.len() {
        buf[..m.len()].copy_from_slice(m);
        buf[m.len()] = separator;
        buf[m.len() + 1..len].copy_from_slice(request);
        return xxhash_rust::xxh3::xxh3_128(&buf[..len]);
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(m);
    h.update(&[separator]);
    h.update(request);
    h.digest128()
}

impl Candidates {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.parts.iter().map(Part::len).sum()
    }

    /// Adds a copy; `c.message_hash` must be `message_hash(message_id)`.
    pub fn add(&mut self, c: Candidate, message_id: Option<&str>, request_id: Option<&str>) {
        // The top bits: the maps inside a part hash the low ones.
        let part = (c.message_hash >> (64 - PARTS.trailing_zeros())) as usize;
        let part = &mut self.parts[part];
        match message_id {
            None => part.kept.push(c),
            Some(_) if c.flags & SIDECHAIN != 0 => part.put_side(c.message_hash, c),
            Some(m) => part.put_exact(exact_hash(m, request_id), c),
        }
    }

    #[cfg(test)]
    pub fn merge(&mut self, other: Candidates) {
        for (mine, theirs) in self.parts.iter_mut().zip(other.parts) {
            mine.merge(theirs);
        }
    }

    pub fn into_parts(self) -> [Part; PARTS] {
        self.parts
    }

    /// The copies to count, in time order, and how many copies were dropped.
    #[cfg(test)]
    pub fn into_winners(self) -> (Vec<Candidate>, u64) {
        let mut all = Vec::new();
        let mut duplicates = 0;
        for part in self.parts {
            let judged = part.judge();
            let counted = judged.kept.into_iter().zip(judged.count);
            all.extend(counted.filter(|(_, count)| *count).map(|(c, _)| c));
            duplicates += judged.duplicates;
        }
        all.sort_unstable_by_key(|c| (c.micros, c.order));
        (all, duplicates)
    }
}

impl Part {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.len()
    }

    fn put_exact(&mut self, hash: u128, c: Candidate) {
        use std::collections::hash_map::Entry;
        match self.exact.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(self.kept.len() as u32);
                self.kept.push(c);
            }
            Entry::Occupied(o) => {
                self.duplicates += 1;
                let kept = &mut self.kept[*o.get() as usize];
                if c.beats(kept) {
                    *kept = c;
                }
            }
        }
    }

    fn put_side(&mut self, hash: u64, c: Candidate) {
        use std::collections::hash_map::Entry;
        match self.side.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(self.kept.len() as u32);
                self.kept.push(c);
            }
            Entry::Occupied(o) => {
                self.duplicates += 1;
                let kept = &mut self.kept[*o.get() as usize];
                if c.beats(kept) {
                    *kept = c;
                }
            }
        }
    }

    pub fn merge(&mut self, mut other: Part) {
        if self.kept.len() < other.kept.len() {
            std::mem::swap(self, &mut other);
        }
        let Part {
            mut kept,
            exact,
            side,
            duplicates,
        } = other;
        self.duplicates += duplicates;
        self.exact.reserve(exact.len());
        let mut in_map = vec![false; kept.len()];
        for (hash, i) in exact {
            in_map[i as usize] = true;
            self.put_exact(hash, std::mem::take(&mut kept[i as usize]));
        }
        for (hash, i) in side {
            in_map[i as usize] = true;
            self.put_side(hash, std::mem::take(&mut kept[i as usize]));
        }
        // Copies without `message.id`.
        let plain = kept.into_iter().zip(in_map).filter(|(_, in_map)| !in_map);
        self.kept.extend(plain.map(|(c, _)| c));
    }

    /// Which copies count: a sidechain copy does not when its `message.id`
    /// has a non-sidechain copy.
    pub fn judge(self) -> Judged {
        let kept = self.kept;
        let counted: FxHashSet<u64> = self
            .exact
            .values()
            .map(|&i| kept[i as usize].message_hash)
            .collect();
        let mut duplicates = self.duplicates;
        let mut count = vec![true; kept.len()];
        for &i in self.side.values() {
            if counted.contains(&kept[i as usize].message_hash) {
                duplicates += 1;
                count[i as usize] = false;
            }
        }
        Judged {
            kept,
            count,
            duplicates,
        }
    }
}

/// A part's copies, judged: those with `count` set are counted.
#[derive(Debug, Default)]
pub(super) struct Judged {
    pub kept: Vec<Candidate>,
    pub count: Vec<bool>,
    /// Copies that lost to another copy.
    pub duplicates: u64,
}

/// The counted candidates of `parts` in time order (file and line order
/// within a microsecond), as (part, index) pairs: sorting small keys rather
/// than the candidates themselves.
pub(super) fn in_time_order(parts: &[Judged]) -> Vec<(u32, u32)> {
    use rayon::prelude::*;
    let counted = parts.iter().map(|p| p.count.iter().filter(|&&c| c).count());
    let mut keys: Vec<(i64, (u32, u64), u32, u32)> = Vec::with_capacity(counted.sum());
    for (p, part) in parts.iter().enumerate() {
        for (i, (c, &count)) in part.kept.iter().zip(&part.count).enumerate() {
            if count {
                keys.push((c.micros, c.order, p as u32, i as u32));
            }
        }
    }
    keys.par_sort_unstable();
    keys.into_iter().map(|(_, _, p, i)| (p, i)).collect()
}

/// Strings shared by all files' candidates, as small ids.
#[derive(Debug, Default)]
pub(super) struct Names {
    inner: Mutex<NameTable>,
}

#[derive(Debug, Default)]
struct NameTable {
    ids: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Names {
    pub fn id(&self, name: &str) -> u32 {
        let mut t = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = t.ids.get(name) {
            return id;
        }
        let id = u32::try_from(t.names.len()).unwrap_or(u32::MAX);
        let name: Arc<str> = Arc::from(name);
        t.names.push(Arc::clone(&name));
        t.ids.insert(name, id);
        id
    }

    pub fn into_table(self) -> Vec<Arc<str>> {
        self.inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .names
    }
}

/// A per-thread cache in front of [`Names`], so each thread takes the shared
/// lock once per distinct string rather than once per line; and, per kind of
/// string, the last one looked up, which the next line mostly repeats.
pub(super) struct LocalNames<'a> {
    shared: &'a Names,
    cache: FxHashMap<Box<str>, u32>,
    recent: [(String, u32); RECENT],
}

/// Kinds of strings with their own last-used entry.
pub(super) const RECENT: usize = 4;

impl<'a> LocalNames<'a> {
    pub fn new(shared: &'a Names) -> Self {
        LocalNames {
            shared,
            cache: FxHashMap::default(),
            recent: Default::default(),
        }
    }

    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.cache.get(name) {
            return id;
        }
        let id = self.shared.id(name);
        self.cache.insert(name.into(), id);
        id
    }

    /// [`LocalNames::id`], first trying the last string of kind `kind`.
    pub fn id_of(&mut self, kind: usize, name: &str) -> u32 {
        let (last, last_id) = &self.recent[kind];
        if !last.is_empty() && last == name {
            return *last_id;
        }
        let id = self.id(name);
        let (last, last_id) = &mut self.recent[kind];
        last.clear();
        last.push_str(name);
        *last_id = id;
        id
    }
}
