//! A compact binary copy of what a prefix of `ledger.jsonl` holds (the most
//! complete copy per key, and the warnings its lines gave), written by
//! `sync`, so that a report after a sync decodes a few bytes per event
//! instead of parsing JSON. `ledger.jsonl` stays the record: the snapshot is
//! only ever trusted for the exact bytes it says it covers (same file, same
//! length or longer, same last bytes), and anything appended after them is
//! parsed as usual. A missing, stale or damaged snapshot is ignored.

use crate::event::{SourceKind, TokenCounts, UsageEvent};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

/// Bumped whenever the layout below changes.
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"TLSNAP\0\0";
/// Ledger bytes before the covered end whose hash must still match.
const TAIL: u64 = 4096;

/// Where in the ledger a snapshot ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Covered {
    pub bytes: u64,
    pub lines: u64,
}

#[derive(Serialize, Deserialize)]
struct Snapshot<'a> {
    format: u32,
    ledger_ino: u64,
    covered_bytes: u64,
    covered_lines: u64,
    tail: u64,
    #[serde(borrow)]
    names: Vec<&'a str>,
    warnings: Vec<(u64, &'a str)>,
    /// The events follow the header one by one: decoding a `Vec` grows it
    /// step by step, and that reallocation cost more than the decoding.
    events: u64,
}

/// One event, its names as indexes into `names`.
#[derive(Serialize, Deserialize)]
struct Packed<'a> {
    micros: i64,
    source: u32,
    agent: u32,
    session: u32,
    model: u32,
    tokens: [u64; 6],
    fast: bool,
    cost: Option<f64>,
    task: Option<u32>,
    project: Option<u32>,
    origin: Option<u32>,
    key: Option<&'a str>,
}

/// What a valid snapshot gives back.
pub(super) struct Restored {
    pub covered: Covered,
    pub events: Vec<UsageEvent>,
    pub warnings: Vec<(u64, String)>,
}

/// Reads the snapshot at `path` if it still describes a prefix of `ledger`.
/// Without `keys`, events come back without their dedupe keys, but only
/// when nothing follows the snapshot (lines after it are merged by key).
pub(super) fn read(path: &Path, ledger: &File, keys: bool) -> Option<Restored> {
    // Mapped, not read: copying megabytes into fresh pages cost more than
    // decoding them. `sync` replaces the file by rename and never truncates
    // it, so the mapping cannot shrink under us.
    let file = File::open(path).ok()?;
    // SAFETY: see above; the bytes are validated by decoding, never trusted.
    let bytes = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (snapshot, mut rest): (Snapshot<'_>, &[u8]) = postcard::take_from_bytes(body).ok()?;
    let meta = ledger.metadata().ok()?;
    let valid = snapshot.format == FORMAT
        && snapshot.ledger_ino == meta.ino()
        && snapshot.covered_bytes <= meta.len()
        && tail_hash(ledger, snapshot.covered_bytes) == Some(snapshot.tail);
    if !valid {
        return None;
    }
    let keys = keys || snapshot.covered_bytes < meta.len();
    let names: Vec<Arc<str>> = snapshot.names.iter().map(|&n| Arc::from(n)).collect();
    let name = |i: u32| names.get(i as usize).cloned();
    let kinds: Vec<Option<SourceKind>> = snapshot
        .names
        .iter()
        .map(|n| SourceKind::ALL.into_iter().find(|k| k.as_str() == *n))
        .collect();
    let count = usize::try_from(snapshot.events).ok()?;
    // Every event takes at least 20 bytes: a damaged count cannot make us
    // reserve more than the file could hold.
    let mut events = Vec::with_capacity(count.min(rest.len() / 20));
    for _ in 0..count {
        let (p, after): (Packed<'_>, &[u8]) = postcard::take_from_bytes(rest).ok()?;
        rest = after;
        let [
            input,
            output,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            reasoning,
        ] = p.tokens;
        events.push(UsageEvent {
            timestamp: jiff::Timestamp::from_microsecond(p.micros).ok()?,
            source: (*kinds.get(p.source as usize)?)?,
            agent_id: name(p.agent)?,
            session: name(p.session)?,
            model: name(p.model)?,
            tokens: TokenCounts {
                input,
                output,
                cache_read,
                cache_write_5m,
                cache_write_1h,
                reasoning,
            },
            fast: p.fast,
            reported_cost: p.cost,
            task: p.task.and_then(name),
            project: p.project.and_then(name),
            origin: p.origin.and_then(name),
            dedupe_key: p.key.filter(|_| keys).map(Arc::from),
        });
    }
    if !rest.is_empty() {
        return None;
    }
    Some(Restored {
        covered: Covered {
            bytes: snapshot.covered_bytes,
            lines: snapshot.covered_lines,
        },
        events,
        warnings: snapshot
            .warnings
            .iter()
            .map(|(line, message)| (*line, message.to_string()))
            .collect(),
    })
}

/// Writes a snapshot of `events` (what `ledger[..covered.bytes]` holds) by
/// temp file and rename. Failing to write one only costs speed later.
pub(super) fn write(
    path: &Path,
    ledger: &File,
    covered: Covered,
    events: &[UsageEvent],
    warnings: &[(u64, String)],
) -> std::io::Result<()> {
    let meta = ledger.metadata()?;
    let mut names = Names::default();
    let packed: Vec<Packed<'_>> = events
        .iter()
        .map(|e| Packed {
            micros: e.timestamp.as_microsecond(),
            source: names.id(e.source.as_str()),
            agent: names.id(&e.agent_id),
            session: names.id(&e.session),
            model: names.id(&e.model),
            tokens: [
                e.tokens.input,
                e.tokens.output,
                e.tokens.cache_read,
                e.tokens.cache_write_5m,
                e.tokens.cache_write_1h,
                e.tokens.reasoning,
            ],
            fast: e.fast,
            cost: e.reported_cost,
            task: e.task.as_deref().map(|n| names.id(n)),
            project: e.project.as_deref().map(|n| names.id(n)),
            origin: e.origin.as_deref().map(|n| names.id(n)),
            key: e.dedupe_key.as_deref(),
        })
        .collect();
    let snapshot = Snapshot {
        format: FORMAT,
        ledger_ino: meta.ino(),
        covered_bytes: covered.bytes,
        covered_lines: covered.lines,
        tail: tail_hash(ledger, covered.bytes).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "ledger shorter than covered",
            )
        })?,
        names: names.list,
        warnings: warnings.iter().map(|(l, m)| (*l, m.as_str())).collect(),
        events: packed.len() as u64,
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend(postcard::to_stdvec(&snapshot).map_err(std::io::Error::other)?);
    for p in &packed {
        bytes.extend(postcard::to_stdvec(p).map_err(std::io::Error::other)?);
    }
    // Its own name (not `ledger.jsonl.tmp`, which the state and the snapshot
    // would share) and this process's, so no other writer's temp file is hit.
    let tmp = super::temp_sibling(path);
    let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        // A disk that filled up mid-write must not keep the fragment.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Each distinct name once, numbered in order of first use.
#[derive(Default)]
struct Names<'e> {
    list: Vec<&'e str>,
    index: FxHashMap<&'e str, u32>,
}

impl<'e> Names<'e> {
    fn id(&mut self, name: &'e str) -> u32 {
        *self.index.entry(name).or_insert_with(|| {
            self.list.push(name);
            (self.list.len() - 1) as u32
        })
    }
}

fn tail_hash(file: &File, end: u64) -> Option<u64> {
    crate::resume::hash_before(file, end, TAIL).ok()
}
