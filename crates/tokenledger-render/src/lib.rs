//! Report renderers for tokenledger. Every renderer is a pure function from
//! the core's [`ReportData`](tokenledger_core::report::ReportData) to a
//! `String`: no I/O, no clock, no terminal probing, so output is reproducible
//! and snapshot-testable.
//!
//! - [`json`]: the stable machine contract (`schema_version` 1).
//! - [`csv`], [`markdown`], [`text`]: tables for spreadsheets, PRs and terminals.
//! - [`daily`]: the Better Claw daily digest and its `token-usage-daily.json` dataset.

pub mod csv;
pub mod daily;
pub mod json;
pub mod markdown;
pub mod text;

mod chart;
mod fmt;
mod pyjson;

#[cfg(test)]
mod fixtures;
