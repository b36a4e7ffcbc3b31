//! Tier 2: the boundary records (`spawn_start`, `spawn_end`, `manifest_read`,
//! `skill_inject`), each with its estimate and how it was made.

use crate::config::CleoConfig;
use crate::error::{CleoError, Result};
use crate::estimate::{Estimate, Estimator};
use crate::usage::{EventType, UsageRecord};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

pub struct Tracker<'a> {
    pub config: &'a CleoConfig,
    pub estimator: &'a Estimator,
    /// The CLEO session the records belong to (CLEO wrote `null` without one).
    pub session: Option<String>,
    pub now: Timestamp,
}

/// A prompt's identity, so a subagent's first message finds its spawn.
pub fn prompt_hash(prompt: &str) -> String {
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(prompt.trim().as_bytes())
    )
}

/// How an estimate was made, stored with it so it is never taken for a measurement.
pub fn estimate_context(e: &Estimate) -> Value {
    json!({
        "method": e.method.label(),
        "raw_tokens": e.raw,
        "factor": e.factor,
        "family": e.family,
        "bytes": e.bytes,
    })
}

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CleoError::io(path, e))
}

impl Tracker<'_> {
    /// Builds, appends and returns one record.
    pub fn record(
        &self,
        event_type: EventType,
        estimate: &Estimate,
        source: String,
        task: &str,
        mut context: Map<String, Value>,
    ) -> Result<UsageRecord> {
        context.insert("estimate".into(), estimate_context(estimate));
        let record = UsageRecord {
            timestamp: self.now,
            event_type,
            estimated_tokens: estimate.tokens,
            source,
            task_id: Some(task.to_string()),
            session_id: self.session.clone(),
            context,
        };
        record.append(&self.config.usage_path())?;
        Ok(record)
    }

    pub fn spawn_start(
        &self,
        task: &str,
        prompt: &str,
        source: String,
        mut context: Map<String, Value>,
    ) -> Result<UsageRecord> {
        context.insert("prompt_hash".into(), prompt_hash(prompt).into());
        let estimate = self.estimator.text(prompt);
        self.record(EventType::SpawnStart, &estimate, source, task, context)
    }

    /// The subagent's output, from the file it wrote.
    pub fn spawn_end_output(&self, task: &str, output: &Path) -> Result<UsageRecord> {
        let estimate = self.estimator.bytes(&read_file(output)?);
        let source = output.display().to_string();
        self.record(EventType::SpawnEnd, &estimate, source, task, Map::new())
    }

    /// The subagent's output as its manifest entry states it.
    pub fn spawn_end_manifest(
        &self,
        task: &str,
        manifest: &Path,
        entry: &str,
    ) -> Result<UsageRecord> {
        let (text, _) = find_entry(manifest, entry)?;
        let estimate = self.estimator.text(&text);
        let mut context = Map::new();
        context.insert("manifest_entry".into(), entry.into());
        let source = manifest.display().to_string();
        self.record(EventType::SpawnEnd, &estimate, source, task, context)
    }

    /// A manifest entry read instead of the full file: both are counted, so
    /// the saving is measured. The full file is `full_file`, else the
    /// entry's `file` (relative to the manifest's directory).
    pub fn manifest_read(
        &self,
        task: &str,
        manifest: &Path,
        entry: &str,
        full_file: Option<&Path>,
    ) -> Result<UsageRecord> {
        let (text, value) = find_entry(manifest, entry)?;
        let full: PathBuf = match full_file {
            Some(path) => path.to_path_buf(),
            None => {
                let named = value
                    .get("file")
                    .or_else(|| value.get("output_file"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        CleoError::invalid(
                            "--full-file",
                            format!(
                                "entry {entry:?} in {} names no \"file\"; pass --full-file with the document it summarizes",
                                manifest.display()
                            ),
                        )
                    })?;
                let base = manifest.parent().unwrap_or(Path::new("."));
                base.join(named)
            }
        };
        let entry_estimate = self.estimator.text(&text);
        let full_estimate = self.estimator.bytes(&read_file(&full)?);
        let mut context = Map::new();
        context.insert("entry".into(), entry.into());
        context.insert("full_file".into(), full.display().to_string().into());
        context.insert("full_file_tokens".into(), full_estimate.tokens.into());
        let saved = full_estimate.tokens as i64 - entry_estimate.tokens as i64;
        context.insert("saved_tokens".into(), saved.into());
        let source = manifest.display().to_string();
        self.record(
            EventType::ManifestRead,
            &entry_estimate,
            source,
            task,
            context,
        )
    }

    pub fn skill_inject(&self, task: &str, skill: &str, file: &Path) -> Result<UsageRecord> {
        let estimate = self.estimator.bytes(&read_file(file)?);
        let mut context = Map::new();
        context.insert("skill".into(), skill.into());
        context.insert("file".into(), file.display().to_string().into());
        self.record(
            EventType::SkillInject,
            &estimate,
            format!("skills/{skill}"),
            task,
            context,
        )
    }
}

/// The manifest line whose `id` is `entry`: its text as an agent reads it,
/// and its parsed value.
pub fn find_entry(manifest: &Path, entry: &str) -> Result<(String, Value)> {
    let text = std::fs::read_to_string(manifest).map_err(|e| CleoError::io(manifest, e))?;
    for line in text.lines() {
        let trimmed = line.trim();
        if !trimmed.starts_with('{') || !trimmed.contains(entry) {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
            continue;
        };
        if value.get("id").and_then(Value::as_str) == Some(entry) {
            return Ok((trimmed.to_string(), value));
        }
    }
    Err(CleoError::invalid(
        "--entry",
        format!(
            "no line with \"id\":{entry:?} in {}; check the id (manifest lines are JSON objects with an \"id\" key)",
            manifest.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CleoConfig, CleoEnv};
    use crate::estimate::Method;
    use tokenledger_core::config::EstimateConfig;

    #[test]
    fn manifest_reads_measure_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let (config, _) = CleoConfig::discover(dir.path(), &CleoEnv::default());
        let estimator = Estimator::new(Method::Chars4, None, &EstimateConfig::default()).unwrap();
        let tracker = Tracker {
            config: &config,
            estimator: &estimator,
            session: Some("S".into()),
            now: "2026-02-01T10:00:00Z".parse().unwrap(),
        };
        let manifest = dir.path().join("MANIFEST.jsonl");
        let entry = r#"{"id":"research-1","file":"research-1.md","title":"x"}"#;
        std::fs::write(&manifest, format!("{{\"id\":\"other\"}}\n{entry}\n")).unwrap();
        std::fs::write(dir.path().join("research-1.md"), "a".repeat(4000)).unwrap();
        let r = tracker
            .manifest_read("T1", &manifest, "research-1", None)
            .unwrap();
        assert_eq!(r.estimated_tokens, (entry.len() as u64).div_ceil(4));
        assert_eq!(r.context["full_file_tokens"], json!(1000));
        assert_eq!(
            r.context["saved_tokens"],
            json!(1000 - r.estimated_tokens as i64)
        );
        assert_eq!(r.context["estimate"]["method"], json!("chars4"));
        let err = tracker
            .manifest_read("T1", &manifest, "nope", None)
            .unwrap_err();
        assert!(
            err.is_invalid_input() && err.to_string().contains("nope"),
            "{err}"
        );
        let (back, _) = crate::usage::read(&config.usage_path()).unwrap();
        assert_eq!(back, vec![r]);
    }
}
