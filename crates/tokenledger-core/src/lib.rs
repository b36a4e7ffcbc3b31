//! tokenledger's core: the usage event model, pricing, the register and
//! ledger, and aggregation. The CLI and renderers sit on top of this crate.

pub mod event;
pub mod pricing;
