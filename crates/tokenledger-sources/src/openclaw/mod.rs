//! placeholder: being written
use crate::Environment;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::query::TimeWindow;
use tokenledger_core::source::{Source, SourceScan};
pub struct OpenClawSource;
impl OpenClawSource { pub fn from_env(_env: &Environment) -> Self { OpenClawSource } }
impl Source for OpenClawSource {
    fn kind(&self) -> SourceKind { SourceKind::OpenClaw }
    fn scan(&self, _w: &TimeWindow, _s: &mut (dyn FnMut(&UsageEvent) + Send)) -> tokenledger_core::Result<SourceScan> { Ok(SourceScan::default()) }
}
