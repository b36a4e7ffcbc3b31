//! Two stores on one database, as two `serve` processes would be: overlapping
//! batches inserted at once are stored once and counted right, migrations
//! and partitions race safely, and the store works from a tokio runtime's
//! blocking threads.

mod common;

use common::events;
use std::sync::{Arc, Barrier};
use tokenledger_core::event_store::EventStore;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::query::{Filters, GroupKey, TimeWindow};
use tokenledger_core::report::{Prefer, ReportSpec};
use tokenledger_store_pg::test_support::TestDb;
use tokenledger_store_pg::{MIGRATIONS, PgStore};

fn totals_spec() -> ReportSpec {
    ReportSpec {
        window: TimeWindow::ALL,
        filters: Filters::default(),
        tz: jiff::tz::TimeZone::UTC,
        tz_name: "UTC".into(),
        groupings: vec![vec![GroupKey::Model]],
        prefer: Prefer::Log,
    }
}

#[test]
fn two_servers_inserting_overlapping_batches_agree() {
    let Some(db) = TestDb::create("two_servers") else {
        return;
    };
    // Both connect at once: the migration lock lets one apply the schema.
    let barrier = Arc::new(Barrier::new(2));
    let connect = |barrier: Arc<Barrier>, url: String| {
        std::thread::spawn(move || {
            barrier.wait();
            PgStore::connect(&url).expect("connect")
        })
    };
    let a = connect(Arc::clone(&barrier), db.url.clone());
    let b = connect(Arc::clone(&barrier), db.url.clone());
    let stores = [
        Arc::new(a.join().expect("thread a")),
        Arc::new(b.join().expect("thread b")),
    ];
    let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(stores[0].schema_versions().expect("versions"), versions);

    // 4 threads per store, each inserting every batch of the same events in
    // its own order: every event is offered 8 times, concurrently.
    let all = Arc::new(events(4_000, 3));
    let distinct: std::collections::HashSet<String> = all
        .iter()
        .map(tokenledger_core::ledger::ledger_key)
        .collect();
    let start = Arc::new(Barrier::new(8));
    let mut threads = Vec::new();
    for t in 0..8usize {
        let store = Arc::clone(&stores[t % 2]);
        let all = Arc::clone(&all);
        let start = Arc::clone(&start);
        threads.push(std::thread::spawn(move || {
            start.wait();
            let batches: Vec<&[_]> = all.chunks(250).collect();
            let mut accepted = 0;
            let mut offered = 0;
            for i in 0..batches.len() {
                let batch = batches[(i * (t + 1) + t) % batches.len()];
                let done = store.insert(batch).expect("insert");
                assert_eq!(done.accepted + done.duplicates, batch.len() as u64);
                accepted += done.accepted;
                offered += batch.len() as u64;
            }
            (accepted, offered)
        }));
    }
    let results: Vec<(u64, u64)> = threads
        .into_iter()
        .map(|t| t.join().expect("inserter"))
        .collect();
    let accepted: u64 = results.iter().map(|r| r.0).sum();
    assert_eq!(accepted, distinct.len() as u64, "each event accepted once");

    let now = jiff::Timestamp::UNIX_EPOCH;
    let prices = PriceTable::embedded();
    let one = stores[0]
        .report(&totals_spec(), prices, now)
        .expect("report a");
    let two = stores[1]
        .report(&totals_spec(), prices, now)
        .expect("report b");
    assert_eq!(one.totals, two.totals);
    assert_eq!(one.rows(), two.rows());
    let expected = common::reference(&common::first_per_identity(&all), &totals_spec(), now);
    common::assert_same("after the race", &expected, &one);
}

#[test]
fn works_from_a_tokio_blocking_thread() {
    let Some(db) = TestDb::create("tokio") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = db.url.clone();
    runtime.block_on(async move {
        let store = tokio::task::spawn_blocking(move || PgStore::connect(&url).expect("connect"))
            .await
            .expect("join");
        let store = Arc::new(store);
        let batch = events(300, 5);
        let inserter = Arc::clone(&store);
        let done = tokio::task::spawn_blocking(move || inserter.insert(&batch).expect("insert"))
            .await
            .expect("join");
        assert!(done.accepted > 0);
        let reader = Arc::clone(&store);
        let report = tokio::task::spawn_blocking(move || {
            reader
                .report(
                    &totals_spec(),
                    PriceTable::embedded(),
                    jiff::Timestamp::UNIX_EPOCH,
                )
                .expect("report")
        })
        .await
        .expect("join");
        assert!(report.totals.events > 0 && report.totals.events <= done.accepted);
        // The last handle dropped on an async worker must not panic.
        drop(store);
    });
}

#[test]
fn errors_name_the_database_and_never_the_password() {
    // Nothing listens on port 1: the connection is refused at once.
    let err = PgStore::connect("postgres://ann:s3cret@127.0.0.1:1/ledger")
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(text.contains("postgres://ann@127.0.0.1:1/ledger"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn an_event_the_schema_cannot_hold_rejects_the_batch_whole() {
    let Some(db) = TestDb::create("bad_event") else {
        return;
    };
    let store = PgStore::connect(&db.url).expect("connect");
    let mut batch = events(10, 9);
    batch[4].tokens.output = u64::MAX;
    let err = store.insert(&batch).expect_err("rejected");
    assert!(err.to_string().contains("token count"), "{err}");
    let report = store
        .report(
            &totals_spec(),
            PriceTable::embedded(),
            jiff::Timestamp::UNIX_EPOCH,
        )
        .expect("report");
    assert_eq!(report.totals.events, 0, "nothing of the batch is stored");
}
