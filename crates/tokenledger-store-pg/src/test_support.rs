//! For tests here and in the CLI: a database of its own per test, inside
//! the server `TOKENLEDGER_TEST_PG` points at, so tests run in parallel.

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU32, Ordering};

pub const HOW_TO: &str = "set TOKENLEDGER_TEST_PG to a PostgreSQL URL whose user may create \
databases (`source .ci/postgres.sh` starts a throwaway cluster and sets it), or \
TOKENLEDGER_SKIP_PG=1 to skip the PostgreSQL tests";

/// The server to test against; `None` when the tests are told to skip it.
/// Panics with how to set one up when neither is said: a store test that
/// finds no database must fail, not pass silently.
pub fn server_url() -> Option<String> {
    match std::env::var("TOKENLEDGER_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("TOKENLEDGER_SKIP_PG").is_ok_and(|v| v == "1") => {
            eprintln!("TOKENLEDGER_SKIP_PG=1: PostgreSQL test skipped");
            None
        }
        _ => panic!("this test needs PostgreSQL: {HOW_TO}"),
    }
}

/// A fresh database, dropped (with its connections) when this is dropped.
pub struct TestDb {
    pub url: String,
    admin: String,
    name: String,
}

impl TestDb {
    /// `None` only under TOKENLEDGER_SKIP_PG=1.
    pub fn create(label: &str) -> Option<TestDb> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin = server_url()?;
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!(
            "tl_{label}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = Client::connect(&admin, NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to TOKENLEDGER_TEST_PG: {e}; {HOW_TO}"));
        // One statement per call: CREATE DATABASE refuses a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            client.batch_execute(&sql).unwrap_or_else(|e| {
                let reason = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().to_string());
                panic!("cannot create test database {name}: {reason}")
            });
        }
        let url = with_database(&admin, &name);
        Some(TestDb { url, admin, name })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.admin, NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database replaced by `name` (URL form only).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}
