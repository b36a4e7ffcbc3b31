//! Claude Code's `api_request` log events and its token/cost counters
//! describe the same requests: summing both would count them twice. Which
//! one counts is decided when reporting, per session, because logs (every
//! 5 s) and metrics (every 60 s) arrive in any order: a session with any
//! record of the preferred kind hides its records of the other kind.
//!
//! The kind of an OpenTelemetry event is read from its dedupe key prefix,
//! so any store can apply the same rule (the PostgreSQL store does it in SQL).

use rustc_hash::FxHashSet;
use tokenledger_core::event::{SourceKind, UsageEvent};
use tokenledger_core::server_config::OtelPrefer;

pub use tokenledger_core::server_config::{
    OTEL_LOG_KEY_PREFIX as LOG_KEY_PREFIX, OTEL_METRIC_KEY_PREFIXES as METRIC_KEY_PREFIXES,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Log,
    Metric,
}

fn class(event: &UsageEvent) -> Option<Class> {
    if event.source != SourceKind::Otel {
        return None;
    }
    let key = event.dedupe_key.as_deref()?;
    if key.starts_with(LOG_KEY_PREFIX) {
        Some(Class::Log)
    } else if METRIC_KEY_PREFIXES.iter().any(|p| key.starts_with(p)) {
        Some(Class::Metric)
    } else {
        None
    }
}

/// The sessions whose records of the preferred kind hide the other kind's.
pub struct OtelShadow {
    preferred: Class,
    sessions: FxHashSet<u64>,
}

impl OtelShadow {
    /// A shadow that has seen nothing yet: [`OtelShadow::observe`] every event.
    pub fn empty(prefer: OtelPrefer) -> Self {
        let preferred = match prefer {
            OtelPrefer::Events => Class::Log,
            OtelPrefer::Metrics => Class::Metric,
        };
        OtelShadow {
            preferred,
            sessions: FxHashSet::default(),
        }
    }

    pub fn observe(&mut self, event: &UsageEvent) {
        if class(event) == Some(self.preferred) {
            self.sessions.insert(session_hash(&event.session));
        }
    }

    /// True for an OpenTelemetry record of the other kind in a session that
    /// has records of the preferred kind.
    pub fn hides(&self, event: &UsageEvent) -> bool {
        match class(event) {
            Some(c) if c != self.preferred => {
                !self.sessions.is_empty() && self.sessions.contains(&session_hash(&event.session))
            }
            _ => false,
        }
    }
}

fn session_hash(session: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(session.as_bytes())
}
