//! Reading the register and its archives: every valid line becomes a usage
//! event, every broken one a warning with its file and line, none rewritten.

use super::Register;
use super::index::KeyIndex;
use super::line::{ParsedLine, StoredEntry, parse_line};
use crate::error::{Error, Result, Warning};
use crate::event::{SourceKind, TokenCounts, UsageEvent};
use crate::jsonl::scan_lines;
use crate::lock::HomeLock;
use crate::query::TimeWindow;
use crate::source::SourceScan;
use rustc_hash::FxHashSet;
use std::io::Read;
use std::path::Path;

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
                    self.scan_reader(&archive.path, reader, window, &mut seen, &mut scan, sink)?;
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
                        self.scan_reader(&self.path, known, window, &mut None, &mut scan, sink)?;
                    }
                    _ => {
                        if let Some(seen) = seen.as_mut() {
                            // Sized up front (lines are rarely under 128 bytes): no rehashing.
                            let expected = file.metadata().map_or(0, |m| m.len() / 128) as usize;
                            seen.reserve(expected.min(1 << 24));
                        }
                        self.scan_reader(&self.path, &file, window, &mut seen, &mut scan, sink)?;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        Ok(scan)
    }

    fn scan_reader(
        &self,
        path: &Path,
        reader: impl Read + Send,
        window: &TimeWindow,
        seen: &mut Option<FxHashSet<u64>>,
        scan: &mut SourceScan,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> Result<()> {
        scan.files.push(path.to_path_buf());
        // Conversion and the window test run in the parallel stage; only the
        // duplicate check needs file order. Checking duplicates among entries
        // inside the window only is a deliberate trade: `log` never writes a
        // duplicate, so only a hand-appended copy straddling the window's
        // start could be counted where a full scan would have dropped it.
        let parse = |line: &crate::jsonl::Line<'_>| match parse_line(line.bytes) {
            ParsedLine::Ignorable => None,
            ParsedLine::Entry(entry) if !window.contains(entry.timestamp) => None,
            ParsedLine::Entry(entry) => {
                let key = xxhash_rust::xxh3::xxh3_64(entry.session_key.as_bytes());
                Some((line.number, Ok((key, into_event(entry)))))
            }
            ParsedLine::Malformed(reason) if !line.terminated => Some((
                line.number,
                Err(format!("incomplete last line ({reason}); skipped")),
            )),
            ParsedLine::Malformed(reason) => {
                Some((line.number, Err(format!("{reason}; line skipped"))))
            }
        };
        scan_lines(reader, parse, |batch| {
            for (number, parsed) in batch {
                match parsed {
                    Ok((key, event)) => {
                        if seen.as_mut().is_some_and(|seen| !seen.insert(key)) {
                            scan.duplicates += 1;
                            scan.warnings.push(Warning {
                                path: path.to_path_buf(),
                                line: Some(number),
                                message: format!(
                                    "session_key {:?} was already logged; this later line is not counted again",
                                    event.session
                                ),
                            });
                            continue;
                        }
                        scan.events += 1;
                        sink(&event);
                    }
                    Err(message) => scan.warnings.push(Warning {
                        path: path.to_path_buf(),
                        line: Some(number),
                        message,
                    }),
                }
            }
        })
        .map_err(|e| Error::io(path, e))?;
        Ok(())
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
