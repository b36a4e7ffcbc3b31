//! Versioned schema migrations, embedded in the binary and applied in order
//! at connect time.

use postgres::Client;

/// (version, name, SQL). Append only: an applied migration is never edited.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_events",
        include_str!("../migrations/0001_events.sql"),
    ),
    (
        2,
        "0002_scheduled_runs",
        include_str!("../migrations/0002_scheduled_runs.sql"),
    ),
];

/// Taken for the whole transaction, so two servers starting together do not
/// both apply the same migration: the second waits, then finds it applied.
const MIGRATION_LOCK: i64 = 0x746c_6d69_6772_6174; // "tlmigrat"

/// Applies every migration the database lacks, all in one transaction: a
/// failure leaves the schema as it was. Returns the versions applied now.
pub(crate) fn apply(client: &mut Client) -> Result<Vec<i32>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS tokenledger_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM tokenledger_migrations", &[])?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut now = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO tokenledger_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )?;
        now.push(version);
    }
    tx.commit()?;
    Ok(now)
}

pub(crate) fn applied(client: &mut Client) -> Result<Vec<i32>, postgres::Error> {
    Ok(client
        .query(
            "SELECT version FROM tokenledger_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect())
}
