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

/// One copy of a request, ~130 bytes: strings are interned ids.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub micros: i64,
    pub tokens: TokenCounts,
    pub cost: Option<f64>,
    pub model: u32,
    pub session: u32,
    pub project: u32,
    pub agent: u32,
    /// File index (in path order) and line number: the last tie-breaker.
    pub order: u64,
    pub flags: u8,
    /// Hash of `message.id`, 0 when there is none.
    pub message_hash: u64,
    /// `<message.id>:<requestId>` for the event's dedupe key.
    pub key: Option<Box<str>>,
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

#[derive(Debug, Default)]
pub(super) struct Candidates {
    /// Non-sidechain copies by hash of (`message.id`, `requestId`).
    exact: FxHashMap<u128, Candidate>,
    /// Sidechain copies by hash of `message.id`.
    side: FxHashMap<u64, Candidate>,
    plain: Vec<Candidate>,
    /// Copies that lost to another copy.
    pub duplicates: u64,
}

pub(super) fn message_hash(message_id: &str) -> u64 {
    // 0 marks "no message id".
    xxhash_rust::xxh3::xxh3_64(message_id.as_bytes()).max(1)
}

fn exact_hash(message_id: &str, request_id: Option<&str>) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(message_id.as_bytes());
    match request_id {
        Some(r) => {
            h.update(b"\x00");
            h.update(r.as_bytes());
        }
        None => h.update(b"\x01"),
    }
    h.digest128()
}

impl Candidates {
    pub fn len(&self) -> usize {
        self.exact.len() + self.side.len() + self.plain.len()
    }

    pub fn add(&mut self, c: Candidate, message_id: Option<&str>, request_id: Option<&str>) {
        match message_id {
            None => self.plain.push(c),
            Some(m) if c.flags & SIDECHAIN != 0 => self.put_side(message_hash(m), c),
            Some(m) => self.put_exact(exact_hash(m, request_id), c),
        }
    }

    fn put_exact(&mut self, hash: u128, c: Candidate) {
        use std::collections::hash_map::Entry;
        match self.exact.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(c);
            }
            Entry::Occupied(mut o) => {
                self.duplicates += 1;
                if c.beats(o.get()) {
                    o.insert(c);
                }
            }
        }
    }

    fn put_side(&mut self, hash: u64, c: Candidate) {
        use std::collections::hash_map::Entry;
        match self.side.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(c);
            }
            Entry::Occupied(mut o) => {
                self.duplicates += 1;
                if c.beats(o.get()) {
                    o.insert(c);
                }
            }
        }
    }

    pub fn merge(&mut self, other: Candidates) {
        if self.len() < other.len() {
            let mine = std::mem::replace(self, other);
            return self.merge(mine);
        }
        self.duplicates += other.duplicates;
        for (hash, c) in other.exact {
            self.put_exact(hash, c);
        }
        for (hash, c) in other.side {
            self.put_side(hash, c);
        }
        self.plain.extend(other.plain);
    }

    /// The copies to count, in time order, and how many copies were dropped.
    pub fn into_winners(self) -> (Vec<Candidate>, u64) {
        let counted: FxHashSet<u64> = self.exact.values().map(|c| c.message_hash).collect();
        let mut duplicates = self.duplicates;
        let mut winners: Vec<Candidate> = self.exact.into_values().collect();
        for c in self.side.into_values() {
            if counted.contains(&c.message_hash) {
                duplicates += 1;
            } else {
                winners.push(c);
            }
        }
        winners.extend(self.plain);
        winners.sort_unstable_by_key(|c| (c.micros, c.order));
        (winners, duplicates)
    }
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

/// A per-file cache in front of [`Names`], so each file takes the shared
/// lock once per distinct string rather than once per line.
pub(super) struct LocalNames<'a> {
    shared: &'a Names,
    cache: FxHashMap<Box<str>, u32>,
}

impl<'a> LocalNames<'a> {
    pub fn new(shared: &'a Names) -> Self {
        LocalNames {
            shared,
            cache: FxHashMap::default(),
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
}
