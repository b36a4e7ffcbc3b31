//! One rollout file to its turns: the stateful half of reading Codex logs
//! (the current model, the previous cumulative snapshot), run in file order.

use super::parser::{Meta, Record, Snapshot, Usage, parse_line};
use super::replay::Replay;
use jiff::Timestamp;
use std::path::Path;
use std::sync::Arc;
use tokenledger_core::Warning;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::jsonl::scan_lines;

/// What ccusage prices model-less logs (before Codex wrote `turn_context`) as.
pub(crate) const FALLBACK_MODEL: &str = "gpt-5";

/// One billed turn of a rollout.
#[derive(Debug, Clone)]
pub(crate) struct Turn {
    pub timestamp: Timestamp,
    pub model: Arc<str>,
    pub tokens: TokenCounts,
    /// The turn's identity inside its session (its cumulative total), the
    /// same in every copy of the rollout, so copies dedupe.
    pub identity: String,
}

/// Everything one rollout file yielded.
#[derive(Debug, Default)]
pub(crate) struct Rollout {
    pub session: Option<String>,
    pub cwd: Option<String>,
    pub originator: Option<String>,
    pub turns: Vec<Turn>,
    /// Snapshots skipped as duplicates, stale re-emissions or a parent's
    /// history replayed into a fork or subagent.
    pub repeated: u64,
    pub warnings: Vec<Warning>,
}

pub(crate) fn load(path: &Path) -> Rollout {
    let mut state = State {
        path,
        rollout: Rollout::default(),
        tracker: Tracker::default(),
        replay: Replay::default(),
        seen_meta: false,
        model: None,
        fallback_warned: false,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            state.warn(None, format!("cannot read rollout: {e}"));
            return state.rollout;
        }
    };
    let parse = |line: &tokenledger_core::jsonl::Line<'_>| match parse_line(line.bytes) {
        Ok(None) => None,
        Ok(Some(record)) => Some((line.number, Ok(record))),
        Err(message) if !line.terminated => Some((
            line.number,
            Err(format!(
                "incomplete last line, perhaps still being written ({message})"
            )),
        )),
        Err(message) => Some((line.number, Err(message))),
    };
    let read = scan_lines(file, parse, |batch| {
        for (number, record) in batch {
            match record {
                Ok(record) => state.apply(number, record),
                Err(message) => state.warn(Some(number), message),
            }
        }
    });
    if let Err(e) = read {
        state.warn(None, format!("reading stopped part-way: {e}"));
    }
    state.rollout
}

struct State<'p> {
    path: &'p Path,
    rollout: Rollout,
    tracker: Tracker,
    replay: Replay,
    seen_meta: bool,
    /// From the latest `turn_context`.
    model: Option<Arc<str>>,
    fallback_warned: bool,
}

impl State<'_> {
    fn warn(&mut self, line: Option<u64>, message: String) {
        self.rollout.warnings.push(Warning {
            path: self.path.to_path_buf(),
            line,
            message,
        });
    }

    fn apply(&mut self, number: u64, record: Record) {
        match record {
            Record::Meta(meta) => self.meta(meta),
            Record::Context { model, turn_id } => {
                self.replay.turn(turn_id.as_deref());
                if let Some(model) = model
                    && self.model.as_deref() != Some(model.as_str())
                {
                    self.model = Some(Arc::from(model));
                }
            }
            Record::TurnStarted { turn_id } => self.replay.turn(turn_id.as_deref()),
            Record::Count(snapshot) => self.count(number, snapshot),
        }
    }

    /// The first `session_meta` is the rollout's own. A later one is either
    /// a resumed session repeating it (which may fill a gap) or a fork
    /// embedding its parent's (which must not).
    fn meta(&mut self, meta: Meta) {
        let first = !std::mem::replace(&mut self.seen_meta, true);
        if first {
            self.replay
                .start(meta.child, meta.id.as_deref(), meta.timestamp);
        }
        let r = &mut self.rollout;
        if !first && meta.id.is_some() && meta.id != r.session {
            return;
        }
        r.session = r.session.take().or(meta.id);
        r.cwd = r.cwd.take().or(meta.cwd);
        r.originator = r.originator.take().or(meta.originator);
    }

    fn count(&mut self, number: u64, snapshot: Snapshot) {
        // Decided before the tracker moves: a replayed snapshot still sets
        // the running total the child's own turns continue from.
        let replayed = self.replay.replays(snapshot.timestamp);
        let (delta, identity) = match self.tracker.advance(snapshot.last, snapshot.total, number) {
            Step::Turn { delta, identity } => (delta, identity),
            Step::Repeat => {
                self.rollout.repeated += 1;
                return;
            }
            Step::Nothing => return,
        };
        if replayed {
            self.rollout.repeated += 1;
            return;
        }
        let Some(timestamp) = snapshot.timestamp else {
            self.warn(
                Some(number),
                "token_count without a readable timestamp; turn not counted".into(),
            );
            return;
        };
        let model = match (&self.model, snapshot.model) {
            (Some(model), _) => model.clone(),
            (None, Some(model)) => Arc::from(model),
            (None, None) => {
                if !std::mem::replace(&mut self.fallback_warned, true) {
                    self.warn(
                        Some(number),
                        format!("no model recorded (no turn_context or info.model); assumed {FALLBACK_MODEL}, as ccusage does"),
                    );
                }
                Arc::from(FALLBACK_MODEL)
            }
        };
        self.rollout.turns.push(Turn {
            timestamp,
            model,
            tokens: normalize(&delta),
            identity,
        });
    }
}

/// Codex counts cached input inside input and reasoning inside output; ours
/// are disjoint except `reasoning`, which is informational.
pub(crate) fn normalize(usage: &Usage) -> TokenCounts {
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    TokenCounts {
        input: usage.input_tokens - cached,
        cache_read: cached,
        output: usage.output_tokens,
        reasoning: usage.reasoning_output_tokens.min(usage.output_tokens),
        ..TokenCounts::default()
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum Step {
    Turn {
        delta: Usage,
        identity: String,
    },
    /// A duplicate or stale snapshot of a turn already counted.
    Repeat,
    /// Nothing billed (an all-zero snapshot).
    Nothing,
}

/// Follows the cumulative `total_token_usage` across a rollout.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    previous: Option<Usage>,
    resets: u32,
}

impl Tracker {
    pub fn advance(&mut self, last: Option<Usage>, total: Option<Usage>, line: u64) -> Step {
        let Some(total) = total else {
            // Without a running total there is nothing to dedupe against.
            return match last {
                Some(last) if !last.is_zero() => Step::Turn {
                    delta: last,
                    identity: format!("line{line}"),
                },
                _ => Step::Nothing,
            };
        };
        let delta = match self.previous {
            None => last.unwrap_or(total),
            Some(previous) if total == previous => return Step::Repeat,
            Some(previous) if total.cumulative() < previous.cumulative() => {
                if looks_stale(&total, &previous, last.as_ref()) {
                    return Step::Repeat;
                }
                self.resets += 1;
                last.unwrap_or(total)
            }
            Some(previous) => last.unwrap_or_else(|| total.saturating_sub(&previous)),
        };
        self.previous = Some(total);
        if delta.is_zero() {
            return Step::Nothing;
        }
        let cumulative = total.cumulative();
        let identity = match self.resets {
            0 => cumulative.to_string(),
            n => format!("{n}.{cumulative}"),
        };
        Step::Turn { delta, identity }
    }
}

/// Snapshots sometimes arrive out of order, so the running total dips by
/// about one recent turn and then resumes; only a drop far below that (to
/// near zero) is a real reset. Same rule as tokscale's
/// `looks_like_stale_regression`.
fn looks_stale(current: &Usage, previous: &Usage, last: Option<&Usage>) -> bool {
    let (now, before) = (current.cumulative(), previous.cumulative());
    now.saturating_mul(100) >= before.saturating_mul(98)
        || last.is_some_and(|l| now.saturating_add(l.cumulative().saturating_mul(2)) >= before)
}
