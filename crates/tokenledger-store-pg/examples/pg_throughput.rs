//! Insert throughput of the PostgreSQL store, and the time of one report
//! over what was inserted:
//!
//!   cargo run -p tokenledger-store-pg --example pg_throughput -- URL [EVENTS] [BATCH] [THREADS]
//!
//! URL should name an empty scratch database: the events stay there.

use std::sync::Arc;
use std::time::Instant;
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{Prefer, ReportSpec};
use tokenledger_store_pg::PgStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .ok_or("usage: pg_throughput URL [EVENTS] [BATCH] [THREADS]")?;
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (total, batch, threads) = (arg(1, 100_000), arg(2, 500), arg(3, 1));
    let store = Arc::new(PgStore::connect(url)?);
    let run = std::process::id();
    let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let models: [Arc<str>; 3] = [
        "claude-sonnet-4-5".into(),
        "claude-opus-4-6".into(),
        "gpt-5".into(),
    ];
    let events: Vec<UsageEvent> = (0..total)
        .map(|i| UsageEvent {
            timestamp: start + jiff::SignedDuration::from_secs(i as i64 * 37),
            source: SourceKind::ClaudeCode,
            agent_id: "main".into(),
            session: format!("s-{}", i / 200).into(),
            model: Arc::clone(&models[i % 3]),
            tokens: TokenCounts {
                input: 1000 + i as u64 % 977,
                output: 300,
                cache_read: 20_000,
                ..Default::default()
            },
            fast: false,
            reported_cost: None,
            task: None,
            project: None,
            origin: None,
            dedupe_key: Some(format!("bench-{run}-{i}").into()),
        })
        .collect();
    let events = Arc::new(events);
    let began = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (store, events) = (Arc::clone(&store), Arc::clone(&events));
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                for chunk in events.chunks(batch).skip(t).step_by(threads) {
                    let at = Instant::now();
                    store.insert(chunk).expect("insert");
                    latencies.push(at.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    let elapsed = began.elapsed();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "{total} events in batches of {batch}, {threads} thread(s): {:.2} s, {:.0} events/s; batch p50 {:?}, p99 {:?}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        pct(50),
        pct(99)
    );
    let spec = ReportSpec {
        window: TimeWindow::ALL,
        filters: Filters::default(),
        tz: jiff::tz::TimeZone::get("Europe/Berlin")?,
        tz_name: "Europe/Berlin".into(),
        groupings: vec![vec![GroupKey::Day, GroupKey::Model]],
        prefer: Prefer::Log,
    };
    let at = Instant::now();
    let report = store.report(&spec, PriceTable::embedded(), jiff::Timestamp::now())?;
    println!(
        "report by day,model over {} events: {} rows in {:.2} s",
        report.totals.events,
        report.rows().len(),
        at.elapsed().as_secs_f64()
    );
    Ok(())
}
