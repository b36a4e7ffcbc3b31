//! The fixture tree (`tests/fixtures/claude_code/home`) holds every trap of
//! the log-format reference; these tests pin per-day totals computed by hand,
//! which are also exactly what `ccusage claude daily --json --offline
//! --timezone UTC` (v20.0.26) printed for the same tree.

use super::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tokenledger_core::pricing::{PriceTable, TierRule, cost_usd};

pub(super) const S0: &str = "00000000-0000-4000-8000-000000000000";
pub(super) const S1: &str = "11111111-1111-4111-8111-111111111111";
pub(super) const S2: &str = "22222222-2222-4222-8222-222222222222";
pub(super) const S4: &str = "44444444-4444-4444-8444-444444444444";

/// `ccusage claude daily` on the fixture: date, input, output, cache read,
/// cache creation, total tokens, totalCost.
const CCUSAGE_DAILY: [(&str, [u64; 5], f64); 8] = [
    ("2025-05-20", [1200, 300, 0, 0, 1500], 0.0123),
    (
        "2026-01-05",
        [11, 515, 25500, 2140, 28166],
        0.026808000000000002,
    ),
    (
        "2026-01-06",
        [36, 793, 30000, 3100, 33929],
        0.022011999999999997,
    ),
    (
        "2026-01-07",
        [11, 260, 21000, 100, 21371],
        0.010607999999999998,
    ),
    (
        "2026-01-08",
        [10, 550, 31000, 1000, 32560],
        0.23579999999999998,
    ),
    ("2026-01-09", [9, 75, 8000, 300, 8384], 0.004677000000000001),
    ("2026-01-11", [5, 280, 5200, 0, 5485], 0.005775000000000001),
    ("2026-01-12", [1, 90, 1000, 0, 1091], 0.001653),
];

/// The one line ccusage does not read: `"usage": {` with a space is not its
/// compact `"usage":{` marker. We read any valid JSON.
const SPACED_LINE_DAY: (&str, [u64; 5]) = ("2026-01-10", [20, 180, 9000, 400, 9600]);

pub(super) fn fixture_home() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude_code/home")
}

pub(super) fn fixture_roots(home: &Path) -> Vec<PathBuf> {
    vec![home.join(".claude"), home.join(".config/claude")]
}

pub(super) fn run(source: &ClaudeCodeSource, window: &TimeWindow) -> (Vec<UsageEvent>, SourceScan) {
    let mut events = Vec::new();
    let scan = source
        .scan(window, &mut |e| events.push(e.clone()))
        .unwrap();
    (events, scan)
}

pub(super) fn by_day(events: &[UsageEvent]) -> BTreeMap<String, [u64; 5]> {
    let mut days: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for e in events {
        let t = &e.tokens;
        let row = days
            .entry(e.timestamp.strftime("%Y-%m-%d").to_string())
            .or_default();
        for (slot, v) in
            row.iter_mut()
                .zip([t.input, t.output, t.cache_read, t.cache_write(), t.total()])
        {
            *slot += v;
        }
    }
    days
}

fn expected_days() -> BTreeMap<String, [u64; 5]> {
    let mut days: BTreeMap<String, [u64; 5]> = CCUSAGE_DAILY
        .iter()
        .map(|(d, t, _)| (d.to_string(), *t))
        .collect();
    days.insert(SPACED_LINE_DAY.0.to_string(), SPACED_LINE_DAY.1);
    days
}

pub(super) fn one<'a>(events: &'a [UsageEvent], key: &str) -> &'a UsageEvent {
    let found: Vec<_> = events
        .iter()
        .filter(|e| e.dedupe_key.as_deref() == Some(key))
        .collect();
    assert_eq!(found.len(), 1, "{key}: {found:?}");
    found[0]
}

pub(super) fn fixture_events() -> (Vec<UsageEvent>, SourceScan) {
    run(
        &ClaudeCodeSource::with_roots(fixture_roots(&fixture_home())),
        &TimeWindow::ALL,
    )
}

#[test]
fn per_day_tokens_equal_hand_totals_and_ccusage() {
    let (events, scan) = fixture_events();
    assert_eq!(by_day(&events), expected_days());
    assert_eq!(events.len(), 21);
    assert_eq!(scan.events, 21);
    assert_eq!(scan.files.len(), 8);
    // Every event carries a distinct key, so downstream dedupe drops nothing.
    let mut keys: Vec<_> = events.iter().filter_map(|e| e.dedupe_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 19, "two lines without message.id have no key");
}

#[test]
fn reading_in_pieces_and_small_reads_gives_the_same_events_and_warnings() {
    let mut source = ClaudeCodeSource::with_roots(fixture_roots(&fixture_home()));
    let (whole, whole_scan) = run(&source, &TimeWindow::ALL);
    // Pieces of one byte up to bigger than most lines: every boundary case
    // (in a line, on a newline, just after one) comes up.
    // Read buffers down to a byte: lines carried over, buffers grown.
    for (piece_bytes, chunk_bytes) in [
        (1, 1 << 18),
        (2, 1 << 18),
        (3, 1 << 18),
        (7, 1 << 18),
        (64, 1 << 18),
        (333, 1 << 18),
        (1000, 1 << 18),
        (4096, 1 << 18),
        (u64::MAX, 1),
        (u64::MAX, 3),
        (u64::MAX, 100),
        (u64::MAX, 1000),
        (500, 64),
        (5000, 700),
    ] {
        source.piece_bytes = piece_bytes;
        source.chunk_bytes = chunk_bytes;
        let (pieces, scan) = run(&source, &TimeWindow::ALL);
        let case = format!("pieces of {piece_bytes}, reads of {chunk_bytes}");
        assert_eq!(whole, pieces, "{case}");
        assert_eq!(whole_scan.warnings, scan.warnings, "{case}");
        assert_eq!(whole_scan.duplicates, scan.duplicates, "{case}");
    }
}

#[test]
fn per_day_cost_is_within_half_a_percent_of_ccusage() {
    let (events, _) = fixture_events();
    let table = PriceTable::embedded();
    let mut cost: BTreeMap<String, f64> = BTreeMap::new();
    for e in &events {
        let usd = e.reported_cost.unwrap_or_else(|| {
            let price = table
                .lookup(&e.model)
                .expect("fixture models are priced")
                .price;
            cost_usd(price, &e.tokens, TierRule::PerCategory, e.fast)
        });
        *cost
            .entry(e.timestamp.strftime("%Y-%m-%d").to_string())
            .or_default() += usd;
    }
    for (day, _, theirs) in CCUSAGE_DAILY {
        let ours = cost[day];
        assert!(
            (ours - theirs).abs() <= theirs * 0.005,
            "{day}: ours {ours} ccusage {theirs}"
        );
    }
}

#[test]
fn the_window_applies_after_dedupe() {
    let source = ClaudeCodeSource::with_roots(fixture_roots(&fixture_home()));
    let window = TimeWindow {
        since: Some("2026-01-11T00:00:00Z".parse().unwrap()),
        until: Some("2026-01-12T00:00:00Z".parse().unwrap()),
    };
    let (events, _) = run(&source, &window);
    // W1's placeholder copy is inside the window but its final copy (the
    // winner) is not: nothing of W1 may appear.
    let days = by_day(&events);
    assert_eq!(days.len(), 1);
    assert_eq!(days["2026-01-11"], [5, 280, 5200, 0, 5485]);
    // The winner is G1's copy from the later file (other root), not the placeholder.
    let g1 = one(&events, "cc:msg_G1:req_G1");
    assert_eq!((g1.tokens.output, &*g1.session), (240, S4));
}

#[test]
fn from_env_reads_both_default_locations_or_the_configured_list() {
    let home = fixture_home();
    let env = Environment {
        home: home.clone(),
        vars: Default::default(),
    };
    let (events, scan) = run(&ClaudeCodeSource::from_env(&env), &TimeWindow::ALL);
    assert_eq!(by_day(&events), expected_days());
    assert_eq!(
        scan.searched,
        vec![
            home.join(".claude/projects"),
            home.join(".config/claude/projects")
        ]
    );
    assert!(scan.warnings.iter().all(|w| w.line.is_some()));

    // A config dir and a `projects/` dir, overlapping: each file is read once.
    let list = format!(
        "{},{},{}",
        home.join(".claude").display(),
        home.join(".claude/projects").display(),
        home.join(".config/claude/projects").display()
    );
    let env = Environment {
        home: PathBuf::from("/nonexistent"),
        vars: [("CLAUDE_CONFIG_DIR".to_string(), list)].into(),
    };
    let (events, scan) = run(&ClaudeCodeSource::from_env(&env), &TimeWindow::ALL);
    assert_eq!(by_day(&events), expected_days());
    assert_eq!(scan.searched.len(), 3);
    assert_eq!(scan.files.len(), 8);
}

/// Not a test: scans `CC_BENCH_ROOT` (a `CLAUDE_CONFIG_DIR`-style list) and
/// prints per-day rows in the shape of `tokenledger report --by day --format
/// json` (costs by ccusage's per-category tiering), for bench/claude/compare.py
/// until the CLI is wired: `CC_BENCH_ROOT=… cargo test --release -p
/// tokenledger-sources bench_scan -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_scan() {
    let Ok(list) = std::env::var("CC_BENCH_ROOT") else {
        return;
    };
    let env = Environment {
        home: PathBuf::from("/nonexistent"),
        vars: [("CLAUDE_CONFIG_DIR".to_string(), list)].into(),
    };
    let started = std::time::Instant::now();
    let table = PriceTable::embedded();
    let mut rows: BTreeMap<String, ([u64; 5], f64)> = BTreeMap::new();
    let mut sink = |e: &UsageEvent| {
        let t = &e.tokens;
        let row = rows
            .entry(e.timestamp.strftime("%Y-%m-%d").to_string())
            .or_default();
        for (slot, v) in
            row.0
                .iter_mut()
                .zip([t.input, t.output, t.cache_read, t.cache_write(), t.total()])
        {
            *slot += v;
        }
        row.1 += e.reported_cost.unwrap_or_else(|| {
            table
                .lookup(&e.model)
                .map_or(0.0, |m| cost_usd(m.price, t, TierRule::PerCategory, e.fast))
        });
    };
    let scan = ClaudeCodeSource::from_env(&env)
        .scan(&TimeWindow::ALL, &mut sink)
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let rows: Vec<_> = rows
        .into_iter()
        .map(|(day, (t, cost))| {
            serde_json::json!({"day": day, "input_tokens": t[0], "output_tokens": t[1],
                "cache_read_tokens": t[2], "cache_write_tokens": t[3], "total_tokens": t[4], "cost_usd": cost})
        })
        .collect();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    eprintln!(
        "scan: {secs:.2}s, {} files, {} events, {} duplicates, {} warnings; {hwm}",
        scan.files.len(),
        scan.events,
        scan.duplicates,
        scan.warnings.len()
    );
    println!("{}", serde_json::json!({ "rows": rows }));
}
