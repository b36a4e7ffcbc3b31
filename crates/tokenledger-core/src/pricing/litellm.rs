//! A user-supplied price file in LiteLLM's `model_prices_and_context_window.json`
//! format: USD per token, keyed by (often provider-prefixed) model id.
//! The conversion rules match `scripts/update-prices.py`.

use std::path::Path;

use serde_json::{Map, Value};

use super::model_name::canonical_model_name;
use super::table::{Layer, LayerEntry};
use super::{
    LongContextPrice, ModelPrice, PriceOrigin, PricingError, default_cache_prices, is_claude,
    round_price, validate,
};

/// LiteLLM's tier suffixes; one tier is modelled, the lowest threshold wins.
const TIERS: [(&str, u64); 4] = [
    ("100k", 100_000),
    ("128k", 128_000),
    ("200k", 200_000),
    ("272k", 272_000),
];
/// Text-generation modes; other modes (embeddings, images, audio) are skipped.
const MODES: [&str; 3] = ["chat", "responses", "completion"];

pub(crate) fn load_file(path: &Path) -> Result<Layer, PricingError> {
    let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

pub(crate) fn parse(text: &str, path: &Path) -> Result<Layer, PricingError> {
    let map: Map<String, Value> = serde_json::from_str(text).map_err(|source| PricingError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let mut entries = Vec::new();
    for (key, value) in &map {
        if key == "sample_spec" {
            continue; // LiteLLM's self-documentation, not a model
        }
        let fields = Fields { path, key, obj: value.as_object() };
        let Some(obj) = fields.obj else {
            return Err(fields.error("(entry)", "must be a JSON object"));
        };
        if let Some(mode) = fields.string("mode")?
            && !MODES.contains(&mode)
        {
            continue;
        }
        let provider = fields.string("litellm_provider")?.map(str::to_owned);
        if let Some(price) = price(&fields, obj)? {
            entries.push(LayerEntry { key: key.clone(), provider, price });
        }
    }
    Ok(Layer::new(PriceOrigin::LiteLlmFile { path: path.to_path_buf() }, entries))
}

/// `None` for entries without token prices, and for all-zero ones: LiteLLM
/// writes 0.0 for models it has no price for (`glm-4-7-251222`), never for free ones.
fn price(f: &Fields<'_>, obj: &Map<String, Value>) -> Result<Option<ModelPrice>, PricingError> {
    let (Some(input), Some(output)) = (f.rate("input_cost_per_token")?, f.rate("output_cost_per_token")?) else {
        return Ok(None);
    };
    if input == 0.0 && output == 0.0 {
        return Ok(None);
    }
    let claude = is_claude(&canonical_model_name(f.key));
    let (read, write_5m, write_1h) = default_cache_prices(claude, input);
    let cache_read = f.rate("cache_read_input_token_cost")?.unwrap_or(read);
    let write_listed = f.rate("cache_creation_input_token_cost")?;
    let cache_write_5m = write_listed.unwrap_or(write_5m);
    // Anthropic defines the 1h write as 2× input and older LiteLLM entries
    // carry stale `_above_1hr` values (claude-3-opus: 6e-06), so Claude always
    // gets the rule; ccusage ignores the key too.
    let cache_write_1h = match f.rate("cache_creation_input_token_cost_above_1hr")? {
        Some(v) if !claude => v,
        _ if claude => write_1h,
        _ => cache_write_5m,
    };

    let mut long_context = None;
    for (tier, threshold) in TIERS {
        let above = |name: &str| f.rate(&format!("{name}_above_{tier}_tokens"));
        let (tin, tout) = (above("input_cost_per_token")?, above("output_cost_per_token")?);
        if tin.is_none() && tout.is_none() {
            continue;
        }
        let tin = tin.unwrap_or(input);
        let (read, write_5m, write_1h) = default_cache_prices(claude, tin);
        // Gemini lists a tiered write price without a base one (a storage-style
        // rate); it is only a per-token write rate next to a base write price.
        let tier_write = match write_listed {
            Some(_) => above("cache_creation_input_token_cost")?,
            None => None,
        };
        let lc_write_5m = tier_write.unwrap_or(if claude { write_5m } else { cache_write_5m });
        long_context = Some(LongContextPrice {
            threshold,
            input: tin,
            output: tout.unwrap_or(output),
            cache_read: above("cache_read_input_token_cost")?
                .unwrap_or(if claude { read } else { cache_read }),
            cache_write_5m: lc_write_5m,
            cache_write_1h: match above("cache_creation_input_token_cost_above_1hr")? {
                Some(v) if !claude => v,
                _ if claude => write_1h,
                _ => lc_write_5m,
            },
        });
        break;
    }

    let fast_multiplier = match obj.get("provider_specific_entry").and_then(|p| p.get("fast")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_f64().filter(|m| *m > 0.0).ok_or_else(|| {
            f.error("provider_specific_entry.fast", "must be a positive number")
        })?),
    };
    let price = ModelPrice {
        input,
        output,
        cache_read,
        cache_write_5m,
        cache_write_1h,
        long_context,
        fast_multiplier,
    };
    validate(&price).map_err(|(field, v)| f.error(field, &format!("is {v}")))?;
    Ok(Some(price))
}

struct Fields<'a> {
    path: &'a Path,
    key: &'a str,
    obj: Option<&'a Map<String, Value>>,
}

impl Fields<'_> {
    /// A per-token price converted to USD per 1M tokens; null counts as absent.
    fn rate(&self, field: &str) -> Result<Option<f64>, PricingError> {
        match self.obj.and_then(|o| o.get(field)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(round_price(x * 1e6))),
                _ => Err(self.error(field, "must be a non-negative number (USD per token)")),
            },
        }
    }

    fn string(&self, field: &str) -> Result<Option<&str>, PricingError> {
        match self.obj.and_then(|o| o.get(field)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, "must be a string")),
        }
    }

    fn error(&self, field: &str, reason: &str) -> PricingError {
        PricingError::InvalidField {
            location: self.path.display().to_string(),
            model: self.key.to_owned(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }
}
