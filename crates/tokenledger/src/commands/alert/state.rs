//! What `alert check` already sent, so each alert goes out once per budget,
//! threshold, period and channel however often cron runs it. The file is
//! replaced atomically and only written under the alert lock.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE: &str = "alert-state.json";
pub const LOCK: &str = "alert-state.lock";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub budget: String,
    /// The period key, `2026-02-06` or `2026-02`.
    pub period: String,
    pub threshold: f64,
    pub channel: String,
    pub at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AlertState {
    pub version: u32,
    pub sent: Vec<Sent>,
}

impl AlertState {
    /// A missing file is an empty state; an unreadable one is reported and
    /// treated as empty (one repeated alert beats a cron job failing forever).
    pub fn load(path: &Path) -> AlertState {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                crate::context::warn(&format!(
                    "{}: not valid alert state ({e}); starting afresh, it will be rewritten",
                    path.display()
                ));
                AlertState::default()
            }),
            Err(_) => AlertState::default(),
        }
    }

    pub fn was_sent(&self, budget: &str, period: &str, threshold: f64, channel: &str) -> bool {
        self.sent.iter().any(|s| {
            s.budget == budget
                && s.period == period
                && s.threshold == threshold
                && s.channel == channel
        })
    }

    /// Keeps only entries of the budgets' current periods: older ones can never match again.
    pub fn prune(&mut self, current: &[(String, String)]) {
        self.sent.retain(|s| {
            current
                .iter()
                .any(|(b, p)| *b == s.budget && *p == s.period)
        });
    }

    pub fn save(&mut self, path: &Path) -> anyhow::Result<()> {
        self.version = 1;
        let text = serde_json::to_string_pretty(self)? + "\n";
        let tmp: PathBuf = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_prunes_past_periods() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut state = AlertState::load(&path);
        let sent = |period: &str| Sent {
            budget: "daily".into(),
            period: period.into(),
            threshold: 0.8,
            channel: "telegram".into(),
            at: "2026-02-06T10:00:00Z".into(),
        };
        state.sent = vec![sent("2026-02-05"), sent("2026-02-06")];
        state.prune(&[("daily".into(), "2026-02-06".into())]);
        state.save(&path).unwrap();
        let loaded = AlertState::load(&path);
        assert_eq!(loaded.sent, [sent("2026-02-06")]);
        assert!(loaded.was_sent("daily", "2026-02-06", 0.8, "telegram"));
        assert!(!loaded.was_sent("daily", "2026-02-06", 1.0, "telegram"));
        std::fs::write(&path, "{oops").unwrap();
        assert!(AlertState::load(&path).sent.is_empty());
    }
}
