//! Reading the register and its archives: every valid line becomes a usage
//! event, every broken one a warning with its file and line, none rewritten.

use super::Register;
use super::fast::{self, AGENT_ID, Flat, MODEL, PROJECT, SESSION_KEY, SOURCE, TASK};
use super::index::KeyIndex;
use super::line::{ParsedLine, StoredEntry, check_flat, parse_line, trim_line};
use crate::error::{Error, Result, Warning};
use crate::event::{SourceKind, TokenCounts, UsageEvent};
use crate::jsonl::{Line, NameCache, scan_chunks, utf8};
use crate::lock::HomeLock;
use crate::query::TimeWindow;
use crate::source::SourceScan;
use jiff::Timestamp;
use rustc_hash::FxHashSet;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

impl Register {
    /// Streams every entry inside `window` to `sink`, oldest archive first,
    /// counting each session key once (its first line wins, as `log` would have).
    pub fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<SourceScan> {
        let mut scan = SourceScan::default();
        // A rotation killed half-way may have left an entry in two places or
        // half a gzip member: finish or undo it first.
        if self.rotation_pending()
            && let Err(e) = self.recover_rotation()
        {
            scan.warnings.push(Warning {
                path: self.path.clone(),
                line: None,
                message: format!("an interrupted rotation could not be recovered ({e}); run `tokenledger rotate` with write access"),
            });
        }
        scan.searched.push(self.path.clone());
        let mut seen: Option<FxHashSet<u64>> = Some(FxHashSet::default());
        let mut events = EventBuilder::new();
        let archives: Vec<_> = self
            .archives()?
            .into_iter()
            .filter(|a| window.may_contain_month(a.year, a.month))
            .collect();
        // Rotation moves lines from the register into archives; reading both
        // under the shared lock sees them in one place or the other, never both.
        let _lock = if archives.is_empty() {
            None
        } else {
            HomeLock::shared(&self.lock_path()).ok()
        };
        for archive in &archives {
            match std::fs::File::open(&archive.path) {
                Ok(file) => {
                    let reader = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
                    let (seen, scan, events) = (&mut seen, &mut scan, &mut events);
                    Self::scan_reader(&archive.path, reader, window, seen, scan, events, sink)?;
                }
                Err(e) => scan.warnings.push(Warning {
                    path: archive.path.clone(),
                    line: None,
                    message: format!("cannot read archive: {e}"),
                }),
            }
        }
        match std::fs::File::open(&self.path) {
            Ok(file) => {
                if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                    return Err(Error::RegisterIsDirectory {
                        path: self.path.clone(),
                    });
                }
                // The key index `log` keeps knows whether the register holds
                // any duplicate; when it holds none (and no archive is read),
                // the million-key duplicate check is skipped. Reading stops
                // where the index's knowledge does.
                match KeyIndex::current_for_reading(&self.index_path(), &file) {
                    Some(index) if archives.is_empty() && index.live_keys_unique() => {
                        let known = std::io::Read::take(&file, index.covered_len());
                        let (scan, events) = (&mut scan, &mut events);
                        Self::scan_reader(
                            &self.path, known, window, &mut None, scan, events, sink,
                        )?;
                    }
                    _ => {
                        if let Some(seen) = seen.as_mut() {
                            // Sized up front (lines are rarely under 128 bytes): no rehashing.
                            let expected = file.metadata().map_or(0, |m| m.len() / 128) as usize;
                            seen.reserve(expected.min(1 << 24));
                        }
                        let (seen, scan, events) = (&mut seen, &mut scan, &mut events);
                        Self::scan_reader(&self.path, &file, window, seen, scan, events, sink)?;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        Ok(scan)
    }

    fn scan_reader(
        path: &Path,
        reader: impl Read + Send,
        window: &TimeWindow,
        seen: &mut Option<FxHashSet<u64>>,
        scan: &mut SourceScan,
        events: &mut EventBuilder,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<()> {
        scan.files.push(path.to_path_buf());
        // Conversion and the window test run in the parallel stage; only the
        // duplicate check needs file order. Checking duplicates among entries
        // inside the window only is a deliberate trade: `log` never writes a
        // duplicate, so only a hand-appended copy straddling the window's
        // start could be counted where a full scan would have dropped it.
        let keyed = seen.is_some();
        let parse = |line: &Line<'_>| scan_line(line, window, keyed);
        scan_chunks(reader, parse, |offset, chunk, batch| {
            // By reference: records are large, and moving each out is a copy.
            for (number, scanned) in batch.iter_mut() {
                let entry = match scanned {
                    Scanned::Entry(entry) => &*entry,
                    Scanned::Warning(message) => {
                        scan.warnings.push(Warning {
                            path: path.to_path_buf(),
                            line: Some(*number),
                            message: std::mem::take(message),
                        });
                        continue;
                    }
                };
                let key = match entry {
                    Entry::Flat(flat) => flat.key,
                    Entry::Event(key, _) => *key,
                };
                let text = |flat: &FlatLine| &chunk[(flat.at - offset) as usize..];
                if seen.as_mut().is_some_and(|seen| !seen.insert(key)) {
                    let session = match entry {
                        Entry::Flat(flat) => flat.text(SESSION_KEY, text(flat)),
                        Entry::Event(_, event) => Cow::Borrowed(&*event.session),
                    };
                    scan.duplicates += 1;
                    scan.warnings.push(Warning {
                        path: path.to_path_buf(),
                        line: Some(*number),
                        message: format!(
                            "session_key {session:?} was already logged; this later line is not counted again"
                        ),
                    });
                    continue;
                }
                scan.events += 1;
                match entry {
                    Entry::Flat(flat) => sink(events.fill(flat, text(flat))),
                    Entry::Event(_, event) => sink(event),
                }
            }
        })
        .map_err(|e| Error::io(path, e))?;
        Ok(())
    }
}

/// What the parallel stage hands on for a line it counts or warns about.
enum Scanned {
    Entry(Entry),
    Warning(String),
}

/// A counted line, with its session key's hash when duplicates are checked.
enum Entry {
    Flat(FlatLine),
    /// A line only serde could read (escapes, odd shapes): already an event.
    Event(u64, Box<UsageEvent>),
}

/// A line the fast path read and checked, its strings still in the chunk.
struct FlatLine {
    /// File offset of the line as parsed (after any BOM and blanks).
    at: u64,
    key: u64,
    timestamp: Timestamp,
    fields: Flat,
}

impl FlatLine {
    fn text<'a>(&self, field: usize, line: &'a [u8]) -> Cow<'a, str> {
        utf8(self.fields.text(field).map_or(&[][..], |s| s.of(line)))
    }
}

fn scan_line(line: &Line<'_>, window: &TimeWindow, keyed: bool) -> Option<(u64, Scanned)> {
    let trimmed = trim_line(line.bytes);
    let malformed = |reason: String| {
        Scanned::Warning(if line.terminated {
            format!("{reason}; line skipped")
        } else {
            format!("incomplete last line ({reason}); skipped")
        })
    };
    let hash = |session: &[u8]| xxhash_rust::xxh3::xxh3_64(session);
    let key = |session: &[u8]| if keyed { hash(session) } else { 0 };
    let lead = trimmed.as_ptr().addr() - line.bytes.as_ptr().addr();
    let mut flat = FlatLine {
        at: line.offset + lead as u64,
        key: 0,
        timestamp: Timestamp::UNIX_EPOCH,
        fields: Flat::default(),
    };
    let scanned = match fast::scan(trimmed, &mut flat.fields) {
        Some(()) => match check_flat(&flat.fields, trimmed) {
            Ok(timestamp) if !window.contains(timestamp) => return None,
            Ok(timestamp) => {
                flat.timestamp = timestamp;
                flat.key = flat
                    .fields
                    .text(SESSION_KEY)
                    .map_or(0, |s| key(s.of(trimmed)));
                Scanned::Entry(Entry::Flat(flat))
            }
            Err(reason) => malformed(reason),
        },
        // Blank lines and comments land here too: `parse_line` sorts them out.
        None => match parse_line(line.bytes) {
            ParsedLine::Ignorable => return None,
            ParsedLine::Entry(entry) if !window.contains(entry.timestamp) => return None,
            ParsedLine::Entry(entry) => Scanned::Entry(Entry::Event(
                key(entry.session_key.as_bytes()),
                Box::new(into_event(entry)),
            )),
            ParsedLine::Malformed(reason) => malformed(reason),
        },
    };
    Some((line.number, scanned))
}

/// Makes the fast path's lines into events on the one consuming thread,
/// reusing one event: names are swapped only when a line names another, and
/// no shared name's count is touched from two threads.
struct EventBuilder {
    event: UsageEvent,
    /// Agents, models, tasks, projects, sources.
    names: [NameCache; 5],
}

impl EventBuilder {
    fn new() -> Self {
        EventBuilder {
            event: into_event(StoredEntry::default()),
            names: std::array::from_fn(|_| NameCache::default()),
        }
    }

    /// The event `validate` and `into_event` would make of the line.
    fn fill(&mut self, line: &FlatLine, text: &[u8]) -> &UsageEvent {
        let span = |field: usize| line.fields.text(field).map(|s| s.of(text));
        let [agents, models, tasks, projects, sources] = &mut self.names;
        let event = &mut self.event;
        event.timestamp = line.timestamp;
        event.session = Arc::from(line.text(SESSION_KEY, text));
        let or = |field, default: &'static [u8]| {
            span(field).filter(|t| !t.is_empty()).unwrap_or(default)
        };
        agents.set(&mut event.agent_id, or(AGENT_ID, b"main"));
        models.set(&mut event.model, or(MODEL, b"unknown"));
        for (names, slot, field) in [
            (tasks, &mut event.task, TASK),
            (projects, &mut event.project, PROJECT),
            (sources, &mut event.origin, SOURCE),
        ] {
            match (slot.as_mut(), span(field)) {
                (_, None) => *slot = None,
                (Some(name), Some(text)) => names.set(name, text),
                (None, Some(text)) => *slot = Some(Arc::clone(names.get(text))),
            }
        }
        let [input, output, cache_read, cache_write_5m, cache_write_1h] = line.fields.counts;
        event.tokens = TokenCounts {
            input,
            output,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            reasoning: 0,
        };
        event.reported_cost = line.fields.cost;
        event
    }
}

impl StoredEntry {
    /// The session-level event this entry is in every report.
    pub fn into_event(self) -> UsageEvent {
        into_event(self)
    }
}

fn into_event(entry: StoredEntry) -> UsageEvent {
    UsageEvent {
        timestamp: entry.timestamp,
        source: SourceKind::Register,
        dedupe_key: None,
        agent_id: entry.agent_id,
        session: entry.session_key,
        model: entry.model,
        tokens: TokenCounts {
            input: entry.tokens_input,
            output: entry.tokens_output,
            cache_read: entry.tokens_cache_read,
            cache_write_5m: entry.tokens_cache_write,
            cache_write_1h: entry.tokens_cache_write_1h,
            reasoning: 0,
        },
        fast: false,
        origin: entry.source,
        reported_cost: entry.cost,
        task: entry.task_id,
        project: entry.project,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a scan must report, worked out line by line with `parse_line`.
    fn expected(lines: &[String]) -> (Vec<UsageEvent>, Vec<String>) {
        let (mut events, mut warnings, mut seen) = (vec![], vec![], FxHashSet::default());
        for line in lines {
            match parse_line(line.as_bytes()) {
                ParsedLine::Entry(e) if !seen.insert(e.session_key.clone()) => {
                    warnings.push(format!(
                        "session_key {:?} was already logged; this later line is not counted again",
                        e.session_key
                    ))
                }
                ParsedLine::Entry(e) => events.push(into_event(e)),
                ParsedLine::Malformed(reason) => warnings.push(format!("{reason}; line skipped")),
                ParsedLine::Ignorable => {}
            }
        }
        (events, warnings)
    }

    /// Lines that mostly count, with a few of everything that must not:
    /// escapes, odd values, blank keys, repeated keys, a BOM, a CR.
    fn line() -> impl Strategy<Value = String> {
        let one_of = |fields: &[&'static str]| prop::sample::select(fields.to_vec());
        let timestamp = one_of(&[
            r#""timestamp":"2026-02-05T20:00:00Z""#,
            r#""timestamp":"2026-02-05T20:00:00Z""#,
            r#""timestamp":"2026-02-05 21:00:00""#,
            r#""timestamp":"2026-02-30T20:00:00Z""#,
            "",
        ]);
        let session = prop_oneof![
            4 => "\"session_key\":\"[sé][0-9]{1,2}\"",
            1 => one_of(&[
                r#""session_key":" ""#, "\"session_key\":\"\u{3000}\"",
                r#""session_key":"s\\1""#, r#""session_key":null"#,
            ]).prop_map(String::from),
        ];
        let others = prop::sample::subsequence(
            vec![
                r#""agent_id":"a""#,
                r#""agent_id":"""#,
                r#""model":"m""#,
                r#""model":null"#,
                r#""model":"é/m""#,
                r#""tokens_input":1234"#,
                r#""tokens_input":"12""#,
                r#""tokens_output":123456789012"#,
                r#""tokens_cache_read":0"#,
                r#""tokens_cache_write":null"#,
                r#""tokens_cache_write_1h":7"#,
                r#""cost":0.0075"#,
                r#""cost":1e-3"#,
                r#""task_id":"T1""#,
                r#""task":"T2""#,
                r#""task_id":"""#,
                r#""project":"p""#,
                r#""source":"hook""#,
                r#""other":[1]"#,
                r#""other":"x\"y""#,
            ],
            0..6,
        );
        (timestamp, session, others, any::<bool>(), any::<bool>()).prop_flat_map(
            |(t, s, others, bom, cr)| {
                let mut fields: Vec<String> = others.into_iter().map(String::from).collect();
                fields.extend([t.to_string(), s].into_iter().filter(|f| !f.is_empty()));
                Just(fields).prop_shuffle().prop_map(move |fields| {
                    let (bom, cr) = (
                        if bom { "\u{feff}" } else { "" },
                        if cr { "\r" } else { "" },
                    );
                    format!("{bom}{{{}}}{cr}", fields.join(","))
                })
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        // Many lines per file: the one reused event must not carry a name
        // from one line into the next, and (chunks being tiny under test)
        // the lines span many chunks.
        #[test]
        fn a_scan_reads_every_line_as_parse_line_does(lines in prop::collection::vec(line(), 1..60)) {
            let dir = tempfile::tempdir().unwrap();
            let register = Register::in_home(dir.path());
            std::fs::write(register.path(), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
            let mut events = vec![];
            let scan = register.scan(&TimeWindow::ALL, &mut |e| events.push(e.clone())).unwrap();
            let warnings = scan.warnings.into_iter().map(|w| w.message).collect();
            prop_assert_eq!((events, warnings), expected(&lines));
        }
    }
}
