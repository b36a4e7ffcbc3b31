//! `config.toml`: every setting optional, every default sensible.

use crate::error::{Error, Result, Warning};
use crate::pricing::PricingConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub register: RegisterConfig,
    pub report: ReportConfig,
    pub rotate: RotateConfig,
    pub pricing: PricingConfig,
    pub merge: MergeConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MergeConfig {
    /// `log` (default): a session found in an agent's log is counted from the
    /// log; `register`: from the register entry, as the seed did.
    pub prefer: crate::report::Prefer,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterConfig {
    /// Use a register outside the home (for example the seed's `~/clawd/data/token-usage-register.jsonl`).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Display time zone when `--tz` is not given (IANA name); UTC when unset.
    pub tz: Option<String>,
    /// Where `report daily` writes its dataset when `--dataset-output` is not given.
    pub dataset_output: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotateConfig {
    pub keep_months: u32,
}

impl Default for RotateConfig {
    fn default() -> Self {
        RotateConfig { keep_months: 2 }
    }
}

/// Sections later versions add; accepted so that a newer config does not break an older binary.
const KNOWN_SECTIONS: [&str; 5] = ["register", "report", "rotate", "pricing", "merge"];

impl Config {
    /// Loads `path`; a missing file is the default config.
    pub fn load(path: &Path) -> Result<(Config, Vec<Warning>)> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Config::default(), Vec::new()));
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<(Config, Vec<Warning>)> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("{e}fix the TOML syntax or move the file aside"),
        })?;
        let warnings = table
            .keys()
            .filter(|k| !KNOWN_SECTIONS.contains(&k.as_str()))
            .map(|k| Warning {
                path: path.to_path_buf(),
                line: None,
                message: format!("unknown section [{k}] ignored"),
            })
            .collect();
        let mut config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        // Relative paths in the config are relative to the config file.
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut config.register.path,
            &mut config.report.dataset_output,
            &mut config.pricing.litellm_file,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok((config, warnings))
    }
}

/// The commented example `tokenledger init` writes.
pub const EXAMPLE_CONFIG: &str = r#"# tokenledger configuration. Every setting is optional; the values shown
# commented out are the defaults.

[register]
# Use a register outside the home, e.g. the Better Claw default:
# path = "/home/ubuntu/clawd/data/token-usage-register.jsonl"

[report]
# Display time zone (IANA name). Stored data is always UTC.
# tz = "UTC"
# Where `report daily` writes token-usage-daily.json when --dataset-output is not given.
# dataset_output = "token-usage-daily.json"

[rotate]
# Keep the current month plus this many minus one previous months in the live register.
# keep_months = 2

[merge]
# When the register and an agent's log describe the same session, count the
# log ("log", the billed per-request data) or the register entry ("register").
# prefer = "log"

[pricing]
# A LiteLLM-format price file, e.g. a copy of model_prices_and_context_window.json.
# litellm_file = "model_prices_and_context_window.json"

# Override or add prices, in USD per 1M tokens:
# [pricing.models."my-company/custom-model"]
# input = 1.0
# output = 4.0
# cache_read = 0.1
# cache_write_5m = 1.25
# cache_write_1h = 2.0
"#;
