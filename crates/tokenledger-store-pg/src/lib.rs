//! The PostgreSQL event store: what `tokenledger serve --store postgres://…`
//! keeps its events in, so several collectors can share one database.
//!
//! Blocking, like the [`EventStore`] trait: it uses the `postgres` client,
//! whose connections each drive a small runtime of their own. The server
//! calls it from `spawn_blocking` threads, where that is allowed.

mod error;
mod insert;
mod keys;
mod migrations;
mod params;
mod pool;
mod report;
#[doc(hidden)]
pub mod test_support;

pub use error::PgError;
pub use migrations::MIGRATIONS;

use jiff::Timestamp;
use pool::Pool;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokenledger_core::event::{TokenCounts, UsageEvent};
use tokenledger_core::event_store::{EventStore, Inserted};
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::report::{ReportData, ReportSpec};
use tokenledger_core::server_config::OtelPrefer;

/// Connections kept per store: enough that concurrent inserts and reports do
/// not queue behind one another, few enough for several servers on one
/// database's default `max_connections` (100).
pub const DEFAULT_POOL_SIZE: usize = 8;

pub struct PgStore {
    pool: Pool,
    /// `postgres://user@host:port/db`, never with the password.
    target: String,
    /// Month partitions known to exist (year, month), so only a batch that
    /// reaches a new month pays for the DDL round trip.
    partitions: Mutex<BTreeSet<(i16, i8)>>,
    /// Which OpenTelemetry kind counts in a session that has both
    /// (`[server] otel_prefer`), applied in SQL when reporting.
    otel_prefer: OtelPrefer,
}

impl PgStore {
    /// Connects to `url` (a `postgres://` URL or a `key=value` string) and
    /// brings its schema up to date.
    pub fn connect(url: &str) -> Result<PgStore, PgError> {
        PgStore::connect_with(url, DEFAULT_POOL_SIZE)
    }

    pub fn connect_with(url: &str, pool_size: usize) -> Result<PgStore, PgError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| PgError::Url {
            // The parser's message never repeats the URL, so no password leaks.
            message: e.to_string(),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let target = redact(&config);
        let store = PgStore {
            pool: Pool::new(config, pool_size.max(1)),
            target,
            partitions: Mutex::new(BTreeSet::new()),
            otel_prefer: OtelPrefer::default(),
        };
        let mut client = store.client()?;
        migrations::apply(&mut client).map_err(|e| store.db("applying migrations", e))?;
        drop(client);
        Ok(store)
    }

    /// Reports count OpenTelemetry log events or metric points per
    /// `prefer`, as the file store does (default: events).
    pub fn with_otel_prefer(mut self, prefer: OtelPrefer) -> PgStore {
        self.otel_prefer = prefer;
        self
    }

    /// The schema versions applied to the database, oldest first.
    pub fn schema_versions(&self) -> Result<Vec<i32>, PgError> {
        let mut client = self.client()?;
        migrations::applied(&mut client).map_err(|e| self.db("reading tokenledger_migrations", e))
    }

    fn client(&self) -> Result<pool::Pooled<'_>, PgError> {
        self.pool.get().map_err(|e| self.db("connecting", e))
    }

    fn db(&self, context: &str, source: postgres::Error) -> PgError {
        PgError::Db {
            target: self.target.clone(),
            context: context.to_string(),
            source,
        }
    }

    fn known_partitions(&self) -> std::sync::MutexGuard<'_, BTreeSet<(i16, i8)>> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventStore for PgStore {
    fn insert(&self, events: &[UsageEvent]) -> tokenledger_core::Result<Inserted> {
        Ok(insert::insert(self, events)?)
    }

    fn report(
        &self,
        spec: &ReportSpec,
        prices: &PriceTable,
        now: Timestamp,
    ) -> tokenledger_core::Result<ReportData> {
        Ok(report::report(self, spec, prices, now)?)
    }

    fn describe(&self) -> String {
        self.target.clone()
    }

    fn claim_run(&self, job: &str, due: Timestamp) -> tokenledger_core::Result<bool> {
        let mut client = self.client()?;
        // The primary key decides: of two concurrent inserts, the second
        // waits for the first's commit and then conflicts.
        let claimed = client
            .execute(
                "INSERT INTO scheduled_runs (job, due_s) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&job, &due.as_second()],
            )
            .map_err(|e| self.db("claiming a scheduled run", e))?;
        Ok(claimed == 1)
    }

    fn totals_by_key_prefix(
        &self,
        prefix: &str,
    ) -> tokenledger_core::Result<Option<(TokenCounts, f64)>> {
        Ok(Some(keys::totals_by_key_prefix(self, prefix)?))
    }
}

/// `postgres://user@host:port/db` from a parsed config: everything a message
/// needs to say where, and never the password.
fn redact(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => format!("{host}:{port}"),
        Some(Host::Unix(dir)) => format!("[{}]:{port}", dir.display()),
        None => format!("localhost:{port}"),
    };
    let db = config.get_dbname().or(config.get_user()).unwrap_or("");
    format!("postgres://{user}{host}/{db}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_the_description() {
        let config = postgres::Config::from_str("postgres://ann:s3cret@db.example:6543/ledger")
            .expect("valid url");
        assert_eq!(redact(&config), "postgres://ann@db.example:6543/ledger");
        let config =
            postgres::Config::from_str("host=/run/pg user=bob password=s3cret").expect("valid");
        assert_eq!(redact(&config), "postgres://bob@[/run/pg]:5432/bob");
    }

    #[test]
    fn a_bad_url_names_no_password() {
        let err = PgStore::connect("postgres://ann:s3cret@host:notaport/db")
            .err()
            .expect("bad port");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
