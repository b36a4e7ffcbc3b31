//! Idempotent batched inserts: one statement, one transaction per batch.

use crate::PgStore;
use crate::error::PgError;
use rustc_hash::FxHashSet;
use tokenledger_core::event::UsageEvent;
use tokenledger_core::event_store::Inserted;
use tokenledger_core::ledger::ledger_key;

/// Claims each identity, then stores the events whose claim succeeded; the
/// count of rows the outer INSERT wrote is the count accepted. Rows arrive
/// sorted by identity, so two batches sharing identities claim them in the
/// same order and wait on each other instead of deadlocking.
const INSERT: &str = "
WITH input AS (
    SELECT * FROM unnest(
        $1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[],
        $14::bool[], $15::float8[], $16::text[], $17::text[], $18::text[], $19::text[]
    ) AS t(identity, ts_us, ts_ns, source, agent_id, session, model,
           input, output, cache_read, cache_write_5m, cache_write_1h, reasoning,
           fast, reported_cost, task, project, origin, dedupe_key)
),
claimed AS (
    INSERT INTO event_identities (identity)
    SELECT identity FROM input ORDER BY identity
    ON CONFLICT DO NOTHING
    RETURNING identity
)
INSERT INTO events (identity, ts, ts_ns, source, agent_id, session, model,
    input, output, cache_read, cache_write_5m, cache_write_1h, reasoning,
    fast, reported_cost, task, project, origin, dedupe_key)
SELECT identity, timestamptz 'epoch' + ts_us * interval '1 microsecond', ts_ns, source,
    agent_id, session, model, input, output, cache_read, cache_write_5m, cache_write_1h,
    reasoning, fast, reported_cost, task, project, origin, dedupe_key
FROM input JOIN claimed USING (identity)";

/// A deadlock or serialization failure rolls the whole batch back; running
/// it again is safe, and after a few tries the error is the caller's.
const TRIES: usize = 5;

pub(crate) fn insert(store: &PgStore, events: &[UsageEvent]) -> Result<Inserted, PgError> {
    let rows = Columns::new(store, events)?;
    if rows.identity.is_empty() {
        return Ok(Inserted::default());
    }
    ensure_partitions(store, &rows.ts_ns)?;
    let mut tries = 0;
    let accepted = loop {
        tries += 1;
        match insert_once(store, &rows) {
            Err(e) if e.is_retryable() && tries < TRIES => continue,
            other => break other?,
        }
    };
    Ok(Inserted {
        accepted,
        duplicates: events.len() as u64 - accepted,
    })
}

fn insert_once(store: &PgStore, c: &Columns<'_>) -> Result<u64, PgError> {
    let mut client = store.client()?;
    let mut tx = client
        .transaction()
        .map_err(|e| store.db("inserting into events", e))?;
    let accepted = tx
        .execute(
            INSERT,
            &[
                &c.identity,
                &c.ts_us,
                &c.ts_ns,
                &c.source,
                &c.agent_id,
                &c.session,
                &c.model,
                &c.tokens[0],
                &c.tokens[1],
                &c.tokens[2],
                &c.tokens[3],
                &c.tokens[4],
                &c.tokens[5],
                &c.fast,
                &c.reported_cost,
                &c.task,
                &c.project,
                &c.origin,
                &c.dedupe_key,
            ],
        )
        .map_err(|e| store.db("inserting into events", e))?;
    // Durable on return: the commit waits for the WAL flush (unless the
    // database was told otherwise with synchronous_commit).
    tx.commit()
        .map_err(|e| store.db("committing into events", e))?;
    Ok(accepted)
}

/// Creates the month partitions the batch needs and this process has not
/// seen yet, each in its own short transaction: DDL inside the insert's
/// transaction would lock the whole table until it commits. The advisory
/// lock makes concurrent `CREATE TABLE IF NOT EXISTS` from two servers safe
/// (without it, both may pass the existence check and one fails).
fn ensure_partitions(store: &PgStore, ts_ns: &[i64]) -> Result<(), PgError> {
    let months: std::collections::BTreeSet<(i16, i8)> = ts_ns
        .iter()
        .filter_map(|&ns| {
            let date = jiff::Timestamp::from_nanosecond(i128::from(ns))
                .ok()?
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date();
            Some((date.year(), date.month()))
        })
        .collect();
    let missing: Vec<(i16, i8)> = {
        let known = store.known_partitions();
        months.into_iter().filter(|m| !known.contains(m)).collect()
    };
    if missing.is_empty() {
        return Ok(());
    }
    let mut client = store.client()?;
    for &(year, month) in &missing {
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let sql = format!(
            "SELECT pg_advisory_xact_lock({PARTITION_LOCK});
             CREATE TABLE IF NOT EXISTS events_{year:04}_{month:02} PARTITION OF events
             FOR VALUES FROM ('{year:04}-{month:02}-01 00:00:00+00')
             TO ('{next_year:04}-{next_month:02}-01 00:00:00+00')"
        );
        let context = format!("creating partition events_{year:04}_{month:02}");
        let mut tx = client.transaction().map_err(|e| store.db(&context, e))?;
        tx.batch_execute(&sql).map_err(|e| store.db(&context, e))?;
        tx.commit().map_err(|e| store.db(&context, e))?;
        store.known_partitions().insert((year, month));
    }
    Ok(())
}

const PARTITION_LOCK: i64 = 0x746c_7061_7274_6974; // "tlpartit"

/// The batch as one array per column, first copy per identity, sorted by
/// identity.
struct Columns<'e> {
    identity: Vec<String>,
    ts_us: Vec<i64>,
    ts_ns: Vec<i64>,
    source: Vec<&'static str>,
    agent_id: Vec<&'e str>,
    session: Vec<&'e str>,
    model: Vec<&'e str>,
    /// input, output, cache_read, cache_write_5m, cache_write_1h, reasoning.
    tokens: [Vec<i64>; 6],
    fast: Vec<bool>,
    reported_cost: Vec<Option<f64>>,
    task: Vec<Option<&'e str>>,
    project: Vec<Option<&'e str>>,
    origin: Vec<Option<&'e str>>,
    dedupe_key: Vec<Option<&'e str>>,
}

impl<'e> Columns<'e> {
    fn new(store: &PgStore, events: &'e [UsageEvent]) -> Result<Columns<'e>, PgError> {
        let mut keyed: Vec<(String, usize)> = Vec::with_capacity(events.len());
        let mut seen = FxHashSet::default();
        for (index, event) in events.iter().enumerate() {
            let identity = ledger_key(event);
            if seen.insert(identity.clone()) {
                keyed.push((identity, index));
            }
        }
        keyed.sort_unstable();
        let n = keyed.len();
        let mut c = Columns {
            identity: Vec::with_capacity(n),
            ts_us: Vec::with_capacity(n),
            ts_ns: Vec::with_capacity(n),
            source: Vec::with_capacity(n),
            agent_id: Vec::with_capacity(n),
            session: Vec::with_capacity(n),
            model: Vec::with_capacity(n),
            tokens: Default::default(),
            fast: Vec::with_capacity(n),
            reported_cost: Vec::with_capacity(n),
            task: Vec::with_capacity(n),
            project: Vec::with_capacity(n),
            origin: Vec::with_capacity(n),
            dedupe_key: Vec::with_capacity(n),
        };
        for (identity, index) in keyed {
            let event = &events[index];
            let bad = |message: String| PgError::Event {
                target: store.target.clone(),
                index,
                message,
            };
            let ns = i64::try_from(event.timestamp.as_nanosecond()).map_err(|_| {
                bad(format!(
                    "timestamp {} is outside what the store holds (1677 to 2262)",
                    event.timestamp
                ))
            })?;
            let t = &event.tokens;
            let counts = [
                t.input,
                t.output,
                t.cache_read,
                t.cache_write_5m,
                t.cache_write_1h,
                t.reasoning,
            ];
            for (column, value) in c.tokens.iter_mut().zip(counts) {
                column.push(
                    i64::try_from(value).map_err(|_| {
                        bad(format!("token count {value} is past the store's limit"))
                    })?,
                );
            }
            let texts = [
                ("identity", Some(identity.as_str())),
                ("agent_id", Some(&*event.agent_id)),
                ("session", Some(&*event.session)),
                ("model", Some(&*event.model)),
                ("task", event.task.as_deref()),
                ("project", event.project.as_deref()),
                ("origin", event.origin.as_deref()),
            ];
            if let Some((field, _)) = texts
                .iter()
                .find(|(_, v)| v.is_some_and(|v| v.contains('\0')))
            {
                return Err(bad(format!(
                    "{field} contains a NUL byte, which PostgreSQL text cannot hold"
                )));
            }
            c.identity.push(identity);
            c.ts_us.push(ns.div_euclid(1000));
            c.ts_ns.push(ns);
            c.source.push(event.source.as_str());
            c.agent_id.push(&event.agent_id);
            c.session.push(&event.session);
            c.model.push(&event.model);
            c.fast.push(event.fast);
            c.reported_cost.push(event.reported_cost);
            c.task.push(event.task.as_deref());
            c.project.push(event.project.as_deref());
            c.origin.push(event.origin.as_deref());
            c.dedupe_key.push(event.dedupe_key.as_deref());
        }
        Ok(c)
    }
}
