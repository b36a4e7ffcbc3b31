//! Named crash points for the crash-safety tests: when `TOKENLEDGER_CRASH_AT`
//! names a point, the process dies there as abruptly as under `kill -9`.

use std::sync::OnceLock;

pub fn point(name: &str) {
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    let target = TARGET.get_or_init(|| std::env::var("TOKENLEDGER_CRASH_AT").ok());
    if target.as_deref() == Some(name) {
        std::process::abort();
    }
}
