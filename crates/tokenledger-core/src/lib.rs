//! tokenledger's core: the usage event model, pricing, the register and
//! ledger, and aggregation. The CLI and renderers sit on top of this crate.

pub mod aggregate;
pub mod budget;
pub mod config;
pub mod error;
pub mod event;
pub mod event_store;
pub mod fault;
pub mod intern;
pub mod jsonl;
pub mod ledger;
pub mod lock;
pub mod paths;
pub mod pricing;
pub mod query;
pub mod reconcile;
pub mod register;
pub mod report;
pub mod report_query;
pub mod resume;
pub mod rotate;
pub mod schedule;
pub mod server_config;
pub mod session;
pub mod source;
pub mod store;
pub mod time;

pub use error::{Error, Result, Warning};
