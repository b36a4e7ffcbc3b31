//! The embedded price data: the LiteLLM snapshot and the hand-written supplement.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::model_name::canonical_model_name;
use super::table::{Layer, LayerEntry};
use super::{LongContextPrice, ModelPrice, PriceOrigin, default_cache_prices, is_claude, validate};

const SNAPSHOT: &str = include_str!("../../data/prices.json");
const SUPPLEMENT: &str = include_str!("../../data/prices-supplement.json");

#[derive(Deserialize)]
struct PriceFile {
    #[serde(default)]
    source: String,
    #[serde(default)]
    version: String,
    models: BTreeMap<String, Entry>,
}

/// One model as `scripts/update-prices.py` writes it (USD per 1M tokens).
/// Unknown fields are refused so the script and this reader cannot drift apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    provider: Option<String>,
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_write_5m: Option<f64>,
    cache_write_1h: Option<f64>,
    long_context: Option<LongContextPrice>,
    fast: Option<f64>,
    #[serde(rename = "max_input_tokens")]
    _max_input_tokens: Option<u64>,
    #[serde(rename = "litellm_key")]
    _litellm_key: Option<String>,
    #[serde(rename = "source")]
    _source: Option<String>,
}

impl Entry {
    fn price(&self, key: &str) -> Result<ModelPrice, String> {
        let (Some(input), Some(output)) = (self.input, self.output) else {
            return Err(format!("{key}: `input` and `output` are required"));
        };
        let (read, write_5m, write_1h) =
            default_cache_prices(is_claude(&canonical_model_name(key)), input);
        let price = ModelPrice {
            input,
            output,
            cache_read: self.cache_read.unwrap_or(read),
            cache_write_5m: self.cache_write_5m.unwrap_or(write_5m),
            cache_write_1h: self.cache_write_1h.unwrap_or(write_1h),
            long_context: self.long_context,
            fast_multiplier: self.fast,
        };
        validate(&price).map_err(|(field, v)| format!("{key}: `{field}` is {v}"))?;
        Ok(price)
    }
}

pub(crate) struct Embedded {
    pub snapshot: Layer,
    pub supplement: Layer,
    /// e.g. "litellm 1.109.1".
    pub label: String,
}

/// Parsed once per process; both files are compiled in, so a parse failure is
/// a build defect caught by the tests, not a runtime condition.
pub(crate) fn embedded() -> &'static Embedded {
    static EMBEDDED: OnceLock<Embedded> = OnceLock::new();
    EMBEDDED.get_or_init(|| build(SNAPSHOT, SUPPLEMENT).expect("embedded price data is valid"))
}

fn build(snapshot: &str, supplement: &str) -> Result<Embedded, String> {
    let snap: PriceFile =
        serde_json::from_str(snapshot).map_err(|e| format!("prices.json: {e}"))?;
    let supp: PriceFile =
        serde_json::from_str(supplement).map_err(|e| format!("prices-supplement.json: {e}"))?;
    let label = format!("{} {}", snap.source, snap.version);

    let mut entries = Vec::with_capacity(snap.models.len());
    for (key, e) in &snap.models {
        let price = e.price(key)?;
        if price.input == 0.0 && price.output == 0.0 {
            continue; // all-zero means "LiteLLM does not know", never "free"
        }
        entries.push(LayerEntry {
            key: key.clone(),
            provider: e.provider.clone(),
            price,
        });
    }

    // The supplement sits under the snapshot: for a model the snapshot has it
    // only fills what LiteLLM leaves out; other models it prices outright.
    let mut extra = Vec::new();
    for (key, e) in &supp.models {
        if let Some(have) = entries.iter_mut().find(|x| x.key == *key) {
            if have.price.long_context.is_none() {
                have.price.long_context = e.long_context;
            }
            if have.price.fast_multiplier.is_none() {
                have.price.fast_multiplier = e.fast;
            }
            validate(&have.price).map_err(|(f, v)| format!("supplement {key}: `{f}` is {v}"))?;
        } else {
            let price = e.price(key).map_err(|m| format!("supplement {m}"))?;
            extra.push(LayerEntry {
                key: key.clone(),
                provider: e.provider.clone(),
                price,
            });
        }
    }

    Ok(Embedded {
        snapshot: Layer::new(
            PriceOrigin::Embedded {
                snapshot: label.clone(),
            },
            entries,
        ),
        supplement: Layer::new(PriceOrigin::Supplement, extra),
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        let e = embedded();
        assert_eq!(e.label, "litellm 1.109.1");
        assert!(e.snapshot.len() > 200, "{} models", e.snapshot.len());
    }

    #[test]
    fn supplement_fills_gaps_without_overriding_litellm() {
        let snap = r#"{"source":"litellm","version":"t","models":{
            "claude-x-1":{"provider":"anthropic","input":3,"output":15,"fast":2}}}"#;
        let supp = r#"{"models":{
            "claude-x-1":{"input":99,"output":99,"fast":6,
                "long_context":{"threshold":200000,"input":6,"output":22.5,"cache_read":0.6,
                "cache_write_5m":7.5,"cache_write_1h":12},"source":"test"},
            "glm-x":{"input":0.1,"output":0.1,"source":"test"}}}"#;
        let e = build(snap, supp).unwrap();
        let (_, p) = e.snapshot.get(0);
        assert_eq!((p.input, p.fast_multiplier), (3.0, Some(2.0)));
        assert_eq!(p.long_context.map(|l| l.output), Some(22.5));
        // Defaults follow Anthropic's multipliers for Claude only.
        assert_eq!(
            (p.cache_read, p.cache_write_5m, p.cache_write_1h),
            (0.3, 3.75, 6.0)
        );
        let (key, g) = e.supplement.get(0);
        assert_eq!(key, "glm-x");
        assert_eq!(
            (g.cache_read, g.cache_write_5m, g.cache_write_1h),
            (0.1, 0.1, 0.1)
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let snap = r#"{"models":{"m":{"input":1,"output":1,"inptu":2}}}"#;
        assert!(build(snap, r#"{"models":{}}"#).is_err());
    }
}
