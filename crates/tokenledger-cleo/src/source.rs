//! Tasks on the report engine's events, so `report --by task` covers both
//! tiers: a Claude Code subagent's requests get the task its run was tied
//! to, and a session-level record (a register entry) is split into its
//! tasks' measured or reconciled shares. Nothing is counted twice: splits
//! add up to the record they replace, and tagging changes no figure.

use crate::links::{Links, Split};
use std::path::Path;
use std::sync::Arc;
use tokenledger_core::Warning;
use tokenledger_core::event::{TokenCounts, UsageEvent};
use tokenledger_core::intern::shared;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};

type BoxedSource = Box<dyn Source + Send + Sync>;

/// Wraps `sources` with the task links in `home`; without links they are
/// returned as they are.
pub fn attribute(sources: Vec<BoxedSource>, home: &Path) -> (Vec<BoxedSource>, Vec<Warning>) {
    let (links, warnings) = match Links::load(home) {
        Ok(found) => found,
        Err(e) => {
            let warning = Warning {
                path: crate::links::links_path(home),
                line: None,
                message: format!("task links not read, reports show no tasks from them: {e}"),
            };
            return (sources, vec![warning]);
        }
    };
    if links.is_empty() {
        return (sources, warnings);
    }
    let links = Arc::new(links);
    let wrapped = sources
        .into_iter()
        .map(|inner| {
            Box::new(Attributed {
                inner,
                links: Arc::clone(&links),
            }) as BoxedSource
        })
        .collect();
    (wrapped, warnings)
}

pub struct Attributed {
    inner: BoxedSource,
    links: Arc<Links>,
}

impl Source for Attributed {
    fn kind(&self) -> tokenledger_core::event::SourceKind {
        self.inner.kind()
    }

    fn detected(&self) -> bool {
        self.inner.detected()
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> tokenledger_core::Result<SourceScan> {
        let links = &self.links;
        self.inner.scan(window, &mut |event: &UsageEvent| {
            if event.task.is_some() {
                return sink(event);
            }
            if event.source.is_session_level() {
                if let Some(splits) = links.splits.get(&*event.session) {
                    return split(event, splits, sink);
                }
                return sink(event);
            }
            let key = (event.session.to_string(), event.agent_id.to_string());
            match links.subagents.get(&key) {
                Some(task) => {
                    let mut tagged = event.clone();
                    tagged.task = Some(shared(task));
                    sink(&tagged)
                }
                None => sink(event),
            }
        })
    }
}

/// One event per task share, capped so the shares never exceed the record,
/// and the rest with no task. Each piece is a part of its session: the
/// dedupe key makes the aggregator count the session once, not per piece.
fn split(event: &UsageEvent, splits: &[Split], sink: &mut (dyn FnMut(&UsageEvent) + Send)) {
    let mut left = event.tokens;
    let whole = weight(&event.tokens).max(f64::MIN_POSITIVE);
    for s in splits {
        let part = take(&mut left, &s.tokens);
        if part.total() == 0 {
            continue;
        }
        let mut piece = event.clone();
        piece.tokens = part;
        piece.task = Some(shared(&s.task_id));
        piece.reported_cost = event.reported_cost.map(|c| c * weight(&part) / whole);
        piece.dedupe_key = Some(shared(&format!("{}#{}", event.session, s.task_id)));
        sink(&piece);
    }
    if left.total() > 0 || splits.is_empty() {
        let mut rest = event.clone();
        rest.reported_cost = event.reported_cost.map(|c| c * weight(&left) / whole);
        rest.tokens = left;
        if !splits.is_empty() {
            rest.dedupe_key = Some(shared(&format!("{}#", event.session)));
        }
        sink(&rest);
    }
}

/// A reported cost is shared in proportion to list price: Anthropic prices
/// every current Claude model at these multiples of its input rate (output
/// 5×, cache read 0.1×, 5-minute write 1.25×, 1-hour write 2×), so for a
/// Claude session without long-context requests the shares are exact.
fn weight(t: &TokenCounts) -> f64 {
    t.input as f64
        + 5.0 * t.output as f64
        + 0.1 * t.cache_read as f64
        + 1.25 * t.cache_write_5m as f64
        + 2.0 * t.cache_write_1h as f64
}

/// Takes up to `want` out of `left`, per category.
fn take(left: &mut TokenCounts, want: &TokenCounts) -> TokenCounts {
    let mut part = TokenCounts::default();
    for (l, w, p) in [
        (&mut left.input, want.input, &mut part.input),
        (&mut left.output, want.output, &mut part.output),
        (&mut left.cache_read, want.cache_read, &mut part.cache_read),
        (
            &mut left.cache_write_5m,
            want.cache_write_5m,
            &mut part.cache_write_5m,
        ),
        (
            &mut left.cache_write_1h,
            want.cache_write_1h,
            &mut part.cache_write_1h,
        ),
    ] {
        *p = w.min(*l);
        *l -= *p;
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::Basis;
    use tokenledger_core::event::SourceKind;

    fn event(source: SourceKind, session: &str, agent: &str, input: u64) -> UsageEvent {
        UsageEvent {
            timestamp: "2026-02-01T10:00:00Z".parse().unwrap(),
            source,
            agent_id: shared(agent),
            session: shared(session),
            model: shared("claude-sonnet-4-5"),
            tokens: TokenCounts {
                input,
                output: 10,
                ..Default::default()
            },
            fast: false,
            reported_cost: Some(1.0),
            task: None,
            project: None,
            origin: None,
            dedupe_key: None,
        }
    }

    #[test]
    fn splits_sum_to_the_record_and_tags_change_no_figure() {
        let mut links = Links::default();
        links
            .subagents
            .insert(("s".into(), "subagent:a".into()), "T1".into());
        links.splits.insert(
            "s".into(),
            vec![Split {
                task_id: "T2".into(),
                tokens: TokenCounts {
                    input: 60,
                    output: 50,
                    ..Default::default()
                },
                basis: Basis::Reconciled,
            }],
        );
        let mut out = Vec::new();
        let mut sink = |e: &UsageEvent| out.push(e.clone());
        split(
            &event(SourceKind::Register, "s", "main", 100),
            &links.splits["s"],
            &mut sink,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].task.as_deref(), Some("T2"));
        assert_eq!((out[0].tokens.input, out[0].tokens.output), (60, 10));
        assert_eq!((out[1].task.as_deref(), out[1].tokens.input), (None, 40));
        let cost: f64 = out.iter().filter_map(|e| e.reported_cost).sum();
        assert!((cost - 1.0).abs() < 1e-12);
    }
}
