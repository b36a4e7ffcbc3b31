//! The collector behind `tokenledger serve`: one HTTP server that a fleet of
//! agents reports to (normalized events, register lines, OpenTelemetry) and
//! that every report reads from, over one [`EventStore`].
//!
//! [`EventStore`]: tokenledger_core::event_store::EventStore

mod app;
mod auth;
mod body;
mod error;
mod file_store;
mod ingest;
pub mod memory;
mod otlp;
mod routes;

pub use app::{ServeOptions, serve};
pub use auth::hash_token;
pub use error::ServerError;
pub use file_store::FileEventStore;
#[doc(hidden)]
pub use otlp::fuzzing;
pub use otlp::prefer::{LOG_KEY_PREFIX, METRIC_KEY_PREFIXES};
