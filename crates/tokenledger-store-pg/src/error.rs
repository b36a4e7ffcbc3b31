//! Errors of the PostgreSQL store. Each names the database (without its
//! password) and what the store was doing.

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid PostgreSQL URL: {message}")]
    Url { message: String },
    #[error("{target}: {context}: {}", chain(source))]
    Db {
        target: String,
        context: String,
        #[source]
        source: postgres::Error,
    },
    /// An event the schema cannot hold (a count past i64, a time outside
    /// 1677–2262, a NUL byte in text).
    #[error("{target}: event {index} of the batch: {message}")]
    Event {
        target: String,
        index: usize,
        message: String,
    },
    #[error("{target}: {message}")]
    Other { target: String, message: String },
}

/// The client's error with its cause: `db error` alone says nothing, the
/// server's message (and its detail) is under it.
fn chain(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        // The client's own message already carries its cause.
        None => error.to_string(),
    }
}

impl PgError {
    pub(crate) fn target(&self) -> &str {
        match self {
            PgError::Url { .. } => "postgres",
            PgError::Db { target, .. }
            | PgError::Event { target, .. }
            | PgError::Other { target, .. } => target,
        }
    }

    /// Deadlocks and serialization failures: the transaction was rolled
    /// back whole and may simply be run again.
    pub(crate) fn is_retryable(&self) -> bool {
        use postgres::error::SqlState;
        match self {
            PgError::Db { source, .. } => source.code().is_some_and(|code| {
                *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE
            }),
            _ => false,
        }
    }
}

impl From<PgError> for tokenledger_core::Error {
    fn from(error: PgError) -> Self {
        let store = error.target().to_string();
        let full = error.to_string();
        let message = full
            .strip_prefix(&format!("{store}: "))
            .unwrap_or(&full)
            .to_string();
        tokenledger_core::Error::Store { store, message }
    }
}
