//! The `[pricing]` section of `config.toml`.
//!
//! ```toml
//! [pricing]
//! litellm_file = "prices/litellm.json"   # optional, LiteLLM format, USD per token
//!
//! [pricing.models."glm-4.7"]             # USD per 1M tokens
//! input = 0.6
//! output = 2.2
//! cache_read = 0.11
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model_name::canonical_model_name;
use super::table::{Layer, LayerEntry};
use super::{
    LongContextPrice, ModelPrice, PriceOrigin, PricingError, default_cache_prices, is_claude,
};

/// Unknown keys are errors so a typo (`cache_raed`) is reported, not ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingConfig {
    /// A LiteLLM-format price file layered over the embedded snapshot.
    pub litellm_file: Option<PathBuf>,
    /// Per-model prices, highest priority; keys match like any model name.
    pub models: BTreeMap<String, ModelPriceOverride>,
}

/// A user's price for one model, USD per 1M tokens. Missing cache prices
/// follow Anthropic's multipliers of `input` for Claude models (read 0.1×,
/// 5m write 1.25×, 1h write 2×) and equal `input` for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPriceOverride {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    #[serde(alias = "cache_write")]
    pub cache_write_5m: Option<f64>,
    pub cache_write_1h: Option<f64>,
    /// Rates for prompts above 200k tokens; setting either enables the tier.
    pub input_above_200k: Option<f64>,
    pub output_above_200k: Option<f64>,
    pub fast_multiplier: Option<f64>,
}

impl ModelPriceOverride {
    pub fn to_price(&self, model: &str) -> ModelPrice {
        let claude = is_claude(&canonical_model_name(model));
        let (read, write_5m, write_1h) = default_cache_prices(claude, self.input);
        let cache_write_5m = self.cache_write_5m.unwrap_or(write_5m);
        let cache_write_1h =
            self.cache_write_1h
                .unwrap_or(if claude { write_1h } else { cache_write_5m });
        let tiered = self.input_above_200k.is_some() || self.output_above_200k.is_some();
        let long_context = tiered.then(|| {
            let input = self.input_above_200k.unwrap_or(self.input);
            let (read, write_5m, write_1h) = default_cache_prices(claude, input);
            let (read, write_5m, write_1h) = if claude {
                (read, write_5m, write_1h)
            } else {
                (
                    self.cache_read.unwrap_or(input),
                    self.cache_write_5m.unwrap_or(input),
                    self.cache_write_1h.or(self.cache_write_5m).unwrap_or(input),
                )
            };
            LongContextPrice {
                threshold: 200_000,
                input,
                output: self.output_above_200k.unwrap_or(self.output),
                cache_read: read,
                cache_write_5m: write_5m,
                cache_write_1h: write_1h,
            }
        });
        ModelPrice {
            input: self.input,
            output: self.output,
            cache_read: self.cache_read.unwrap_or(read),
            cache_write_5m,
            cache_write_1h,
            long_context,
            fast_multiplier: self.fast_multiplier,
        }
    }

    fn check(&self) -> Result<(), (&'static str, f64)> {
        let optional = [
            ("cache_read", self.cache_read),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("input_above_200k", self.input_above_200k),
            ("output_above_200k", self.output_above_200k),
        ];
        let all = [("input", Some(self.input)), ("output", Some(self.output))];
        for (field, v) in all.into_iter().chain(optional) {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err((field, v));
            }
        }
        match self.fast_multiplier {
            Some(f) if !(f.is_finite() && f > 0.0) => Err(("fast_multiplier", f)),
            _ => Ok(()),
        }
    }
}

pub(crate) fn overrides_layer(
    cfg: &PricingConfig,
    config_path: Option<&Path>,
) -> Result<Layer, PricingError> {
    let mut entries = Vec::with_capacity(cfg.models.len());
    for (model, o) in &cfg.models {
        o.check().map_err(|(field, v)| PricingError::InvalidField {
            location: match config_path {
                Some(p) => format!("{} [pricing.models]", p.display()),
                None => "[pricing.models]".to_owned(),
            },
            model: model.clone(),
            field: field.to_owned(),
            reason: format!("must be a finite, non-negative number (got {v})"),
        })?;
        entries.push(LayerEntry {
            key: model.clone(),
            provider: None,
            price: o.to_price(model),
        });
    }
    let origin = PriceOrigin::Config {
        path: config_path.map(Path::to_path_buf),
    };
    Ok(Layer::new(origin, entries))
}

/// `~/…` is taken from `$HOME`; a relative path from the config file's directory.
pub(crate) fn resolve_path(file: &Path, config_path: Option<&Path>) -> PathBuf {
    if let Ok(rest) = file.strip_prefix("~")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    match config_path.and_then(Path::parent) {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PricingConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn claude_defaults_follow_anthropic_multipliers() {
        let cfg = parse("[models.claude-x-9]\ninput = 4\noutput = 20\n").unwrap();
        let p = cfg.models["claude-x-9"].to_price("claude-x-9");
        assert_eq!(
            (p.cache_read, p.cache_write_5m, p.cache_write_1h),
            (0.4, 5.0, 8.0)
        );
        assert_eq!(p.long_context, None);
    }

    #[test]
    fn other_models_default_cache_to_input() {
        let cfg =
            parse("[models.\"glm-4.7\"]\ninput = 0.6\noutput = 2.2\ncache_write = 0.7\n").unwrap();
        let p = cfg.models["glm-4.7"].to_price("glm-4.7");
        assert_eq!(
            (p.cache_read, p.cache_write_5m, p.cache_write_1h),
            (0.6, 0.7, 0.7)
        );
    }

    #[test]
    fn long_context_from_above_200k() {
        let cfg = parse("[models.claude-y]\ninput = 3\noutput = 15\ninput_above_200k = 6\noutput_above_200k = 22.5\n").unwrap();
        let lc = cfg.models["claude-y"]
            .to_price("claude-y")
            .long_context
            .unwrap();
        assert_eq!((lc.threshold, lc.input, lc.output), (200_000, 6.0, 22.5));
        assert_eq!(
            (lc.cache_read, lc.cache_write_5m, lc.cache_write_1h),
            (0.6, 7.5, 12.0)
        );
    }

    #[test]
    fn typos_are_reported() {
        let err = parse("[models.m]\ninput = 1\noutput = 1\ncache_raed = 1\n").unwrap_err();
        assert!(err.to_string().contains("cache_raed"), "{err}");
        assert!(parse("litellm_fiel = \"x\"\n").is_err());
        assert!(
            parse("[models.m]\ninput = 1\n").is_err(),
            "output is required"
        );
    }

    #[test]
    fn invalid_values_name_file_and_field() {
        let cfg = parse("[models.m]\ninput = -1\noutput = 1\n").unwrap();
        let err = overrides_layer(&cfg, Some(Path::new("/etc/tl/config.toml"))).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/etc/tl/config.toml") && msg.contains("`input`"),
            "{msg}"
        );
    }

    #[test]
    fn relative_files_are_next_to_the_config() {
        let p = resolve_path(Path::new("p.json"), Some(Path::new("/cfg/config.toml")));
        assert_eq!(p, Path::new("/cfg/p.json"));
        assert_eq!(
            resolve_path(Path::new("/abs.json"), None),
            Path::new("/abs.json")
        );
    }
}
