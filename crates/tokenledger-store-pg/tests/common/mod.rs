//! Shared by the store's tests: events shaped like every source's, and the
//! core engine's report over them as the reference.

#![allow(dead_code)]

use jiff::Timestamp;
use std::sync::Arc;
use tokenledger_core::aggregate::{Measures, Row};
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::TimeWindow;
use tokenledger_core::report::{self, ReportData, ReportSpec};
use tokenledger_core::source::{Source, SourceScan};

/// One source kind's events, read as the core reads any source.
pub struct VecSource {
    pub kind: SourceKind,
    pub events: Vec<UsageEvent>,
}

impl Source for VecSource {
    fn kind(&self) -> SourceKind {
        self.kind
    }

    fn scan(
        &self,
        window: &TimeWindow,
        sink: &mut (dyn FnMut(&UsageEvent) + Send),
    ) -> tokenledger_core::Result<SourceScan> {
        for event in self.events.iter().filter(|e| window.contains(e.timestamp)) {
            sink(event);
        }
        Ok(SourceScan::default())
    }
}

/// The core engine's report over `events`, one source per kind.
pub fn reference(events: &[UsageEvent], spec: &ReportSpec, now: Timestamp) -> ReportData {
    let sources: Vec<VecSource> = SourceKind::ALL
        .into_iter()
        .map(|kind| VecSource {
            kind,
            events: events
                .iter()
                .filter(|e| e.source == kind)
                .cloned()
                .collect(),
        })
        .collect();
    let refs: Vec<&dyn Source> = sources.iter().map(|s| s as &dyn Source).collect();
    report::run(&refs, PriceTable::embedded(), spec.clone(), now).expect("core report")
}

/// A small deterministic generator (no dependency for randomness).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const MODELS: &[&str] = &[
    "claude-sonnet-4-5",
    "anthropic/claude-sonnet-4-5-20250929",
    "claude-opus-4-6",
    "gpt-5",
    "mystery-model-x",
];

/// `n` events over three months (Dec–Feb, nanosecond times, some across
/// local midnights): per-request logs with dedupe keys, long prompts, fast
/// mode, reported costs and an unpriced model; register sessions, some
/// split by task (with dedupe keys), some describing a log's session too.
pub fn events(n: usize, seed: u64) -> Vec<UsageEvent> {
    let mut rng = Lcg(seed);
    let start: Timestamp = "2025-12-01T00:00:00Z".parse().expect("time");
    let agents = ["main", "backend", "research"];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let source = match rng.below(10) {
            0..=2 => SourceKind::Register,
            3..=6 => SourceKind::ClaudeCode,
            7 => SourceKind::Codex,
            8 => SourceKind::Otel,
            _ => SourceKind::Active,
        };
        let offset_ns = i128::from(rng.below(90 * 86_400)) * 1_000_000_000
            + i128::from(rng.below(1_000_000_000));
        let timestamp =
            Timestamp::from_nanosecond(start.as_nanosecond() + offset_ns).expect("in range");
        let session = format!("s-{}", rng.below(40));
        let long = rng.below(8) == 0;
        let tokens = TokenCounts {
            input: if long {
                150_000 + rng.below(100_000)
            } else {
                rng.below(5_000)
            },
            output: rng.below(3_000),
            cache_read: rng.below(60_000),
            cache_write_5m: rng.below(4_000),
            cache_write_1h: rng.below(2) * rng.below(3_000),
            reasoning: rng.below(500),
        };
        let session_level = source.is_session_level();
        let split = session_level && rng.below(3) == 0;
        let dedupe_key = match (session_level, split) {
            (false, _) => Some(format!("req-{i}")),
            (true, true) => Some(format!("{session}#task-{}", rng.below(3))),
            (true, false) => None,
        };
        // Session-level records are one per session: give the rest unique keys.
        let session = if session_level && !split && rng.below(2) == 0 {
            format!("reg-{i}")
        } else {
            session
        };
        out.push(UsageEvent {
            timestamp,
            source,
            agent_id: agents[rng.below(3) as usize].into(),
            session: session.into(),
            model: MODELS[rng.below(MODELS.len() as u64) as usize].into(),
            tokens,
            fast: rng.below(6) == 0,
            reported_cost: (rng.below(7) == 0).then(|| rng.below(10_000) as f64 / 997.0),
            task: (rng.below(3) > 0).then(|| Arc::from(format!("T{}", rng.below(4)))),
            project: (rng.below(2) == 0).then(|| Arc::from("/work/app")),
            origin: match source {
                SourceKind::Register => Some(Arc::from(
                    ["claude-code-hook", "openclaw", "codex-wrapper", ""][rng.below(4) as usize],
                )),
                _ => None,
            },
            dedupe_key: dedupe_key.map(Arc::from),
        });
    }
    out
}

/// Equal but for float summation order in costs (the core adds per event,
/// SQL per summed row): those match to 1e-9 relative.
pub fn assert_same(label: &str, expected: &ReportData, actual: &ReportData) {
    assert_measures(
        &format!("{label}: totals"),
        &expected.totals,
        &actual.totals,
    );
    assert_eq!(expected.groupings.len(), actual.groupings.len(), "{label}");
    for ((keys_e, rows_e), (keys_a, rows_a)) in expected.groupings.iter().zip(&actual.groupings) {
        assert_eq!(keys_e, keys_a, "{label}");
        let shown = |rows: &[Row]| rows.iter().map(|r| r.keys.clone()).collect::<Vec<_>>();
        assert_eq!(shown(rows_e), shown(rows_a), "{label}: rows by {keys_e:?}");
        for (e, a) in rows_e.iter().zip(rows_a) {
            assert_measures(
                &format!("{label}: row {:?}", e.keys),
                &e.measures,
                &a.measures,
            );
        }
    }
    assert_eq!(expected.tz_name, actual.tz_name, "{label}");
    assert_eq!(expected.window, actual.window, "{label}");
}

fn assert_measures(label: &str, e: &Measures, a: &Measures) {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-6);
    assert_eq!(e.tokens, a.tokens, "{label}: tokens");
    assert_eq!(e.sessions, a.sessions, "{label}: sessions");
    assert_eq!(e.events, a.events, "{label}: events");
    assert_eq!(e.last_timestamp, a.last_timestamp, "{label}: last");
    assert_eq!(e.unpriced_models, a.unpriced_models, "{label}: unpriced");
    assert!(
        close(e.priced_cost_usd, a.priced_cost_usd),
        "{label}: priced {} vs {}",
        e.priced_cost_usd,
        a.priced_cost_usd
    );
    match (e.cost_usd, a.cost_usd) {
        (Some(x), Some(y)) => assert!(close(x, y), "{label}: cost {x} vs {y}"),
        (x, y) => assert_eq!(x, y, "{label}: cost"),
    }
}

/// What the store keeps of a batch: the first event per identity.
pub fn first_per_identity(
    events: &[tokenledger_core::event::UsageEvent],
) -> Vec<tokenledger_core::event::UsageEvent> {
    let mut seen = std::collections::HashSet::new();
    events
        .iter()
        .filter(|e| seen.insert(tokenledger_core::ledger::ledger_key(e)))
        .cloned()
        .collect()
}
