//! placeholder: being written
use crate::Environment;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};
pub struct ClaudeCodeSource;
impl ClaudeCodeSource { pub fn from_env(_env: &Environment) -> Self { ClaudeCodeSource } }
impl Source for ClaudeCodeSource {
    fn kind(&self) -> SourceKind { SourceKind::ClaudeCode }
    fn scan(&self, _w: &TimeWindow, _s: &mut (dyn FnMut(&UsageEvent) + Send)) -> tokenledger_core::Result<SourceScan> { Ok(SourceScan::default()) }
}
