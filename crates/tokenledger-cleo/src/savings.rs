//! Manifest savings, measured: each `manifest_read` record holds the tokens
//! of the entry actually read and of the full file it stands for, and the
//! saving is their real difference. CLEO assumed a constant 90%; its own
//! `manifest_read` records carry no full-file figure, so they are counted
//! as unmeasured instead of being given one.

use crate::usage::{EventType, UsageRecord};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Savings {
    /// Reads with both figures.
    pub reads: u64,
    /// Tokens of the entries read (estimated).
    pub manifest_tokens: u64,
    /// Tokens of the full files they stand for (estimated).
    pub full_file_tokens: u64,
    /// Manifest reads without a full-file figure, left out of the sums.
    pub unmeasured_reads: u64,
}

impl Savings {
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a UsageRecord>) -> Savings {
        let mut s = Savings::default();
        for r in records {
            if r.event_type != EventType::ManifestRead {
                continue;
            }
            match r.context.get("full_file_tokens").and_then(Value::as_u64) {
                Some(full) => {
                    s.reads += 1;
                    s.manifest_tokens = s.manifest_tokens.saturating_add(r.estimated_tokens);
                    s.full_file_tokens = s.full_file_tokens.saturating_add(full);
                }
                None => s.unmeasured_reads += 1,
            }
        }
        s
    }

    /// May be negative: an entry bigger than its file is a loss, shown as one.
    pub fn saved(&self) -> i64 {
        let saved = i128::from(self.full_file_tokens) - i128::from(self.manifest_tokens);
        saved.clamp(i64::MIN.into(), i64::MAX.into()) as i64
    }

    pub fn percent(&self) -> Option<f64> {
        (self.full_file_tokens > 0)
            .then(|| self.saved() as f64 * 100.0 / self.full_file_tokens as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn read(entry: u64, full: Option<u64>) -> UsageRecord {
        let mut context = Map::new();
        if let Some(full) = full {
            context.insert("full_file_tokens".into(), json!(full));
        }
        UsageRecord {
            timestamp: "2026-02-01T10:00:00Z".parse().unwrap(),
            event_type: EventType::ManifestRead,
            estimated_tokens: entry,
            source: "MANIFEST.jsonl".into(),
            task_id: Some("T1".into()),
            session_id: None,
            context,
        }
    }

    #[test]
    fn savings_are_the_measured_difference() {
        let records = [read(245, Some(2450)), read(100, Some(400)), read(9, None)];
        let s = Savings::from_records(&records);
        assert_eq!(
            (s.reads, s.manifest_tokens, s.full_file_tokens),
            (2, 345, 2850)
        );
        assert_eq!(s.saved(), 2505);
        assert_eq!(s.unmeasured_reads, 1);
        assert!((s.percent().unwrap() - 87.894_736_842).abs() < 1e-6);
    }

    #[test]
    fn an_entry_bigger_than_its_file_is_a_loss() {
        let s = Savings::from_records(&[read(500, Some(400))]);
        assert_eq!(s.saved(), -100);
        assert_eq!(Savings::default().percent(), None);
    }
}
