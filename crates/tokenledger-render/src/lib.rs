//! Report renderers for tokenledger. Every renderer is a pure function from
//! the core's [`ReportData`](tokenledger_core::report::ReportData) to a
//! `String`: no I/O, no clock, no terminal probing, so output is reproducible
//! and snapshot-testable.
//!
//! - [`json`]: the stable machine contract (`schema_version` 1).
//! - [`csv`], [`markdown`], [`text`]: tables for spreadsheets, PRs and terminals.
//! - [`daily`]: the Better Claw daily digest and its `token-usage-daily.json` dataset.
//! - [`html`], [`png`]: a self-contained page of SVG charts and tables, and
//!   its main chart as a PNG; [`series`] shapes rows for every chart.

pub mod budget;
pub mod csv;
pub mod daily;
pub mod format;
pub mod html;
pub mod json;
pub mod markdown;
pub mod png;
pub mod series;
pub mod text;

mod chart;
mod fmt;

pub use fmt::thousands;
mod pyjson;

#[cfg(test)]
mod fixtures;
