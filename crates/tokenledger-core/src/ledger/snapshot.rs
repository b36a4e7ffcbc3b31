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
const FORMAT: u32 = 3;
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
    /// xxh3 of the events' bytes: a reader that streams events checks it
    /// first, as it cannot take back events already handed on.
    events_hash: u64,
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

/// A snapshot still describing a prefix of its ledger, mapped: its events
/// are decoded when visited, so they need not all be in memory at once.
pub(super) struct View {
    map: memmap2::Mmap,
    /// Where the events start in `map`.
    events_at: usize,
    count: u64,
    events_hash: u64,
    names: Vec<Arc<str>>,
    kinds: Vec<Option<SourceKind>>,
    pub covered: Covered,
    pub warnings: Vec<(u64, String)>,
}

/// Opens the snapshot at `path` if its header still describes a prefix of
/// `ledger`. Its events are checked as they are decoded: a visit that meets
/// a damaged one fails.
pub(super) fn open(path: &Path, ledger: &File) -> Option<View> {
    // Mapped, not read: copying megabytes into fresh pages cost more than
    // decoding them. Writers replace the file by rename and never truncate
    // it, so the mapping cannot shrink under us.
    let file = File::open(path).ok()?;
    // SAFETY: see above; the bytes are validated by decoding, never trusted.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let body = map.strip_prefix(MAGIC)?;
    let (snapshot, rest): (Snapshot<'_>, &[u8]) = postcard::take_from_bytes(body).ok()?;
    let meta = ledger.metadata().ok()?;
    let valid = snapshot.format == FORMAT
        && snapshot.ledger_ino == meta.ino()
        && snapshot.covered_bytes <= meta.len()
        && tail_hash(ledger, snapshot.covered_bytes) == Some(snapshot.tail);
    if !valid {
        return None;
    }
    let names = snapshot.names.iter().map(|&n| Arc::from(n)).collect();
    let kinds = snapshot
        .names
        .iter()
        .map(|n| SourceKind::ALL.into_iter().find(|k| k.as_str() == *n))
        .collect();
    let covered = Covered {
        bytes: snapshot.covered_bytes,
        lines: snapshot.covered_lines,
    };
    let warnings = snapshot
        .warnings
        .iter()
        .map(|(line, message)| (*line, message.to_string()))
        .collect();
    let (count, events_at) = (snapshot.events, map.len() - rest.len());
    Some(View {
        events_at,
        count,
        events_hash: snapshot.events_hash,
        names,
        kinds,
        covered,
        warnings,
        map,
    })
}

impl View {
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the events' bytes are those written (one fast hash pass).
    pub fn intact(&self) -> bool {
        xxhash_rust::xxh3::xxh3_64(&self.map[self.events_at..]) == self.events_hash
    }

    /// Decodes every event in order, with its dedupe key when `keys`. None
    /// when an event is damaged or bytes are left over (the events visited
    /// before that must then be discarded by the caller).
    pub fn for_each(&self, keys: bool, mut visit: impl FnMut(UsageEvent)) -> Option<()> {
        let mut rest = &self.map[self.events_at..];
        let name = |i: u32| self.names.get(i as usize).cloned();
        for _ in 0..self.count {
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
            visit(UsageEvent {
                timestamp: jiff::Timestamp::from_microsecond(p.micros).ok()?,
                source: (*self.kinds.get(p.source as usize)?)?,
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
        rest.is_empty().then_some(())
    }
}

/// Reads the snapshot at `path` if it still describes a prefix of `ledger`.
/// Without `keys`, events come back without their dedupe keys, but only
/// when nothing follows the snapshot (lines after it are merged by key).
pub(super) fn read(path: &Path, ledger: &File, keys: bool) -> Option<Restored> {
    let view = open(path, ledger)?;
    let keys = keys || view.covered.bytes < ledger.metadata().ok()?.len();
    let count = usize::try_from(view.len()).ok()?;
    // Every event takes at least 20 bytes: a damaged count cannot make us
    // reserve more than the file could hold.
    let mut events = Vec::with_capacity(count.min((view.map.len() - view.events_at) / 20));
    view.for_each(keys, |event| events.push(event))?;
    Some(Restored {
        covered: view.covered,
        events,
        warnings: view.warnings,
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
    write_from(path, ledger, covered, warnings, &mut |visit| {
        events.iter().for_each(&mut *visit);
        Ok(())
    })
}

/// Visits the events a snapshot holds, handing each to the callback.
pub(super) type EachEvent<'a> =
    dyn FnMut(&mut (dyn FnMut(&UsageEvent) + Send)) -> std::io::Result<()> + 'a;

/// [`write`] from events streamed by `each`, which is called twice (names,
/// then events) and must visit the same events in the same order both
/// times: nothing but the distinct names is held in memory.
pub(super) fn write_from(
    path: &Path,
    ledger: &File,
    covered: Covered,
    warnings: &[(u64, String)],
    each: &mut EachEvent<'_>,
) -> std::io::Result<()> {
    let meta = ledger.metadata()?;
    let tail = tail_hash(ledger, covered.bytes).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "ledger shorter than covered",
        )
    })?;
    let mut names = Names::default();
    let mut count = 0u64;
    let mut hasher = Hashing(xxhash_rust::xxh3::Xxh3::new());
    each(&mut |e| {
        names.add(e);
        count += 1;
        // Ids are given in order of first use, so an event's are final
        // once its names are added.
        let _ = postcard::to_io(&names.pack(e), &mut hasher);
    })?;
    let snapshot = Snapshot {
        format: FORMAT,
        ledger_ino: meta.ino(),
        covered_bytes: covered.bytes,
        covered_lines: covered.lines,
        tail,
        names: names.list.iter().map(|n| &**n).collect(),
        warnings: warnings.iter().map(|(l, m)| (*l, m.as_str())).collect(),
        events: count,
        events_hash: hasher.0.digest(),
    };
    // Its own name (not `ledger.jsonl.tmp`, which the state and the snapshot
    // would share) and this process's, so no other writer's temp file is hit.
    let tmp = super::temp_sibling(path);
    let written = write_events(&tmp, &snapshot, &names, count, each)
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        // A disk that filled up mid-write must not keep the fragment.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_events(
    tmp: &Path,
    snapshot: &Snapshot<'_>,
    names: &Names,
    count: u64,
    each: &mut EachEvent<'_>,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    out.write_all(MAGIC)?;
    postcard::to_io(snapshot, &mut out).map_err(std::io::Error::other)?;
    let mut written = 0u64;
    let mut failed: Option<std::io::Error> = None;
    each(&mut |e| {
        if failed.is_some() {
            return;
        }
        written += 1;
        let packed = names.pack(e);
        if let Err(err) = postcard::to_io(&packed, &mut out) {
            failed = Some(std::io::Error::other(err));
        }
    })?;
    if let Some(err) = failed {
        return Err(err);
    }
    if written != count {
        return Err(std::io::Error::other(
            "the events changed between the two passes",
        ));
    }
    out.flush()
}

struct Hashing(xxhash_rust::xxh3::Xxh3);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Each distinct name once, numbered in order of first use.
#[derive(Default)]
struct Names {
    list: Vec<Arc<str>>,
    index: FxHashMap<Arc<str>, u32>,
}

impl Names {
    fn intern(&mut self, name: &str) {
        if !self.index.contains_key(name) {
            let name: Arc<str> = Arc::from(name);
            self.index.insert(name.clone(), self.list.len() as u32);
            self.list.push(name);
        }
    }

    fn add(&mut self, e: &UsageEvent) {
        for name in [e.source.as_str(), &e.agent_id, &e.session, &e.model] {
            self.intern(name);
        }
        for name in [&e.task, &e.project, &e.origin].into_iter().flatten() {
            self.intern(name);
        }
    }

    /// The event with its names as numbers; every name was added before.
    fn pack<'e>(&self, e: &'e UsageEvent) -> Packed<'e> {
        let id = |name: &str| self.index.get(name).copied().unwrap_or(u32::MAX);
        Packed {
            micros: e.timestamp.as_microsecond(),
            source: id(e.source.as_str()),
            agent: id(&e.agent_id),
            session: id(&e.session),
            model: id(&e.model),
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
            task: e.task.as_deref().map(id),
            project: e.project.as_deref().map(id),
            origin: e.origin.as_deref().map(id),
            key: e.dedupe_key.as_deref(),
        }
    }
}

fn tail_hash(file: &File, end: u64) -> Option<u64> {
    crate::resume::hash_before(file, end, TAIL).ok()
}
