//! Where CLEO's files live and whether tracking is on: `.cleo/config.json`
//! (`metrics.tokenTracking{enabled, sessionLevel, spawnLevel,
//! otelIntegration}`) found upward from the working directory,
//! `CLEO_METRICS_DIR` and `CLEO_TRACK_TOKENS`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;

pub const SESSIONS_FILE: &str = "SESSIONS.jsonl";
pub const USAGE_FILE: &str = "TOKEN_USAGE.jsonl";
const CONFIG_FILE: &str = ".cleo/config.json";
const DEFAULT_METRICS_DIR: &str = ".cleo/metrics";

/// The variables the CLEO layer reads, captured so tests need no process env.
#[derive(Debug, Clone, Default)]
pub struct CleoEnv {
    /// `CLEO_METRICS_DIR`.
    pub metrics_dir: Option<String>,
    /// `CLEO_TRACK_TOKENS`.
    pub track_tokens: Option<String>,
}

impl CleoEnv {
    pub fn from_process() -> CleoEnv {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        CleoEnv {
            metrics_dir: var("CLEO_METRICS_DIR"),
            track_tokens: var("CLEO_TRACK_TOKENS"),
        }
    }
}

/// `metrics.tokenTracking`, every switch on unless the config turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    pub enabled: bool,
    pub session_level: bool,
    pub spawn_level: bool,
    pub otel_integration: bool,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            enabled: true,
            session_level: true,
            spawn_level: true,
            otel_integration: true,
        }
    }
}

/// The resolved configuration for one working directory.
#[derive(Debug, Clone)]
pub struct CleoConfig {
    /// The directory holding `.cleo/`, or the working directory when none does.
    pub project_root: PathBuf,
    /// The `.cleo/config.json` that was read, if any.
    pub config_file: Option<PathBuf>,
    pub tracking: Tracking,
    /// `CLEO_TRACK_TOKENS=0` (anything but `1`, as CLEO reads it) turns all tracking off.
    pub disabled_by_env: bool,
    pub metrics_dir: PathBuf,
}

impl CleoConfig {
    /// Finds `.cleo/config.json` in `cwd` or its ancestors. A config that
    /// cannot be read or parsed leaves every switch on, with a warning.
    pub fn discover(cwd: &Path, env: &CleoEnv) -> (CleoConfig, Vec<Warning>) {
        let mut warnings = Vec::new();
        let found = cwd.ancestors().find(|dir| dir.join(CONFIG_FILE).is_file());
        let (project_root, config_file) = match found {
            Some(dir) => (dir.to_path_buf(), Some(dir.join(CONFIG_FILE))),
            // A `.cleo/` without a config still marks the project root.
            None => match cwd.ancestors().find(|dir| dir.join(".cleo").is_dir()) {
                Some(dir) => (dir.to_path_buf(), None),
                None => (cwd.to_path_buf(), None),
            },
        };
        let tracking = match &config_file {
            Some(path) => read_tracking(path, &mut warnings),
            None => Tracking::default(),
        };
        let metrics_dir = match &env.metrics_dir {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => project_root.join(dir),
            None => project_root.join(DEFAULT_METRICS_DIR),
        };
        let disabled_by_env = env.track_tokens.as_deref().is_some_and(|v| v.trim() != "1");
        let config = CleoConfig {
            project_root,
            config_file,
            tracking,
            disabled_by_env,
            metrics_dir,
        };
        (config, warnings)
    }

    pub fn sessions_path(&self) -> PathBuf {
        self.metrics_dir.join(SESSIONS_FILE)
    }

    pub fn usage_path(&self) -> PathBuf {
        self.metrics_dir.join(USAGE_FILE)
    }

    /// Whether tier 1 (session records) is on.
    pub fn sessions_on(&self) -> bool {
        !self.disabled_by_env && self.tracking.enabled && self.tracking.session_level
    }

    /// Whether tier 2 (spawn attribution) is on.
    pub fn spawns_on(&self) -> bool {
        !self.disabled_by_env && self.tracking.enabled && self.tracking.spawn_level
    }

    /// Why a tier is off, for the message that says nothing was recorded.
    pub fn why_off(&self, tier: &str) -> String {
        if self.disabled_by_env {
            return "CLEO_TRACK_TOKENS is not 1; unset it or set it to 1".into();
        }
        let file = self
            .config_file
            .as_ref()
            .map_or_else(|| CONFIG_FILE.to_string(), |p| p.display().to_string());
        let key = if self.tracking.enabled {
            tier
        } else {
            "enabled"
        };
        format!("metrics.tokenTracking.{key} is false in {file}")
    }
}

fn read_tracking(path: &Path, warnings: &mut Vec<Warning>) -> Tracking {
    let mut warn = |message: String| {
        warnings.push(Warning {
            path: path.to_path_buf(),
            line: None,
            message,
        })
    };
    let value: Value = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(value) => value,
        Err(e) => {
            warn(format!(
                "{e}; token tracking stays on with its defaults until the file is fixed"
            ));
            return Tracking::default();
        }
    };
    let Some(section) = value.pointer("/metrics/tokenTracking") else {
        return Tracking::default();
    };
    let mut tracking = Tracking::default();
    for (key, slot) in [
        ("enabled", &mut tracking.enabled),
        ("sessionLevel", &mut tracking.session_level),
        ("spawnLevel", &mut tracking.spawn_level),
        ("otelIntegration", &mut tracking.otel_integration),
    ] {
        match section.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => *slot = *b,
            Some(other) => warn(format!(
                "metrics.tokenTracking.{key} is {other}, not true or false; using true"
            )),
        }
    }
    tracking
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_found_upward_and_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".cleo")).unwrap();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(
            root.join(".cleo/config.json"),
            r#"{"metrics":{"tokenTracking":{"enabled":true,"sessionLevel":false,"spawnLevel":true,"otelIntegration":"yes"}}}"#,
        )
        .unwrap();
        let (c, warnings) = CleoConfig::discover(&root.join("src/deep"), &CleoEnv::default());
        assert_eq!(c.project_root, root);
        assert_eq!(c.metrics_dir, root.join(".cleo/metrics"));
        assert!(!c.sessions_on());
        assert!(c.spawns_on());
        assert!(c.why_off("sessionLevel").contains("sessionLevel is false"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("otelIntegration"));
    }

    #[test]
    fn env_moves_the_files_and_turns_tracking_off() {
        let dir = tempfile::tempdir().unwrap();
        let env = CleoEnv {
            metrics_dir: Some("m".into()),
            track_tokens: Some("0".into()),
        };
        let (c, _) = CleoConfig::discover(dir.path(), &env);
        assert_eq!(c.usage_path(), dir.path().join("m/TOKEN_USAGE.jsonl"));
        assert!(!c.sessions_on() && !c.spawns_on());
        assert!(c.why_off("spawnLevel").contains("CLEO_TRACK_TOKENS"));
    }

    #[test]
    fn a_broken_config_warns_and_keeps_tracking_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".cleo")).unwrap();
        std::fs::write(dir.path().join(".cleo/config.json"), "{ nope").unwrap();
        let (c, warnings) = CleoConfig::discover(dir.path(), &CleoEnv::default());
        assert!(c.sessions_on());
        assert_eq!(warnings.len(), 1);
    }
}
