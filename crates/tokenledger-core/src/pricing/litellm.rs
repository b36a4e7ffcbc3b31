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
    let map: Map<String, Value> =
        serde_json::from_str(text).map_err(|source| PricingError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    let mut entries = Vec::new();
    for (key, value) in &map {
        if key == "sample_spec" {
            continue; // LiteLLM's self-documentation, not a model
        }
        let Some(obj) = value.as_object() else {
            return Err(field_error(path, key, "(entry)", "must be a JSON object"));
        };
        let f = Fields { path, key, obj };
        if let Some(mode) = f.string("mode")?
            && !MODES.contains(&mode)
        {
            continue;
        }
        let provider = f.string("litellm_provider")?.map(str::to_owned);
        if let Some(price) = price(&f)? {
            entries.push(LayerEntry {
                key: key.clone(),
                provider,
                price,
            });
        }
    }
    let origin = PriceOrigin::LiteLlmFile {
        path: path.to_path_buf(),
    };
    Ok(Layer::new(origin, entries))
}

/// `None` for entries without token prices, and for all-zero ones: LiteLLM
/// writes 0.0 for models it has no price for (`glm-4-7-251222`), never for free ones.
fn price(f: &Fields<'_>) -> Result<Option<ModelPrice>, PricingError> {
    let input = f.rate("input_cost_per_token")?;
    let output = f.rate("output_cost_per_token")?;
    let (Some(input), Some(output)) = (input, output) else {
        return Ok(None);
    };
    if input == 0.0 && output == 0.0 {
        return Ok(None);
    }
    let claude = is_claude(&canonical_model_name(f.key));
    let write_listed = f.rate("cache_creation_input_token_cost")?;
    let base = Rates::new(
        claude,
        input,
        f.rate("cache_read_input_token_cost")?,
        write_listed,
        f.rate("cache_creation_input_token_cost_above_1hr")?,
        None,
    );

    let mut long_context = None;
    for (tier, threshold) in TIERS {
        let above = |name: &str| f.rate(&format!("{name}_above_{tier}_tokens"));
        let (tin, tout) = (
            above("input_cost_per_token")?,
            above("output_cost_per_token")?,
        );
        if tin.is_none() && tout.is_none() {
            continue;
        }
        // Gemini lists a tiered write price without a base one (a storage-style
        // rate); it is only a per-token write rate next to a base write price.
        let tier_write = match write_listed {
            Some(_) => above("cache_creation_input_token_cost")?,
            None => None,
        };
        let r = Rates::new(
            claude,
            tin.unwrap_or(input),
            above("cache_read_input_token_cost")?,
            tier_write,
            above("cache_creation_input_token_cost_above_1hr")?,
            Some(&base),
        );
        long_context = Some(LongContextPrice {
            threshold,
            input: r.input,
            output: tout.unwrap_or(output),
            cache_read: r.read,
            cache_write_5m: r.write_5m,
            cache_write_1h: r.write_1h,
        });
        break;
    }

    let fast_multiplier =
        match f
            .obj
            .get("provider_specific_entry")
            .and_then(|p| p.get("fast"))
        {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_f64().filter(|m| *m > 0.0).ok_or_else(|| {
                f.error("provider_specific_entry.fast", "must be a positive number")
            })?),
        };
    let price = ModelPrice {
        input,
        output,
        cache_read: base.read,
        cache_write_5m: base.write_5m,
        cache_write_1h: base.write_1h,
        long_context,
        fast_multiplier,
    };
    validate(&price).map_err(|(field, v)| f.error(field, &format!("is {v}")))?;
    Ok(Some(price))
}

/// Input and cache rates of one tier, with the gaps LiteLLM leaves filled in.
struct Rates {
    input: f64,
    read: f64,
    write_5m: f64,
    write_1h: f64,
}

impl Rates {
    /// Claude's missing cache rates follow Anthropic's multipliers of this
    /// tier's input; other models fall back to the base tier (`below`), as
    /// LiteLLM's own cost code does, or to the input rate.
    fn new(
        claude: bool,
        input: f64,
        read: Option<f64>,
        write_5m: Option<f64>,
        write_1h: Option<f64>,
        below: Option<&Rates>,
    ) -> Rates {
        let (d_read, d_5m, d_1h) = match below {
            Some(b) if !claude => (b.read, b.write_5m, b.write_1h),
            _ => default_cache_prices(claude, input),
        };
        let write_5m = write_5m.unwrap_or(d_5m);
        // Anthropic defines the 1h write as 2× input and older LiteLLM entries
        // carry stale `_above_1hr` values (claude-3-opus: 6e-06), so Claude
        // always gets the rule; ccusage ignores the key too.
        let write_1h = match write_1h {
            Some(v) if !claude => v,
            _ if claude => d_1h,
            _ => write_5m,
        };
        Rates {
            input,
            read: read.unwrap_or(d_read),
            write_5m,
            write_1h,
        }
    }
}

struct Fields<'a> {
    path: &'a Path,
    key: &'a str,
    obj: &'a Map<String, Value>,
}

impl Fields<'_> {
    /// A per-token price converted to USD per 1M tokens; null counts as absent.
    fn rate(&self, field: &str) -> Result<Option<f64>, PricingError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(round_price(x * 1e6))),
                _ => Err(self.error(field, "must be a non-negative number (USD per token)")),
            },
        }
    }

    fn string(&self, field: &str) -> Result<Option<&str>, PricingError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, "must be a string")),
        }
    }

    fn error(&self, field: &str, reason: &str) -> PricingError {
        field_error(self.path, self.key, field, reason)
    }
}

fn field_error(path: &Path, model: &str, field: &str, reason: &str) -> PricingError {
    PricingError::InvalidField {
        location: path.display().to_string(),
        model: model.to_owned(),
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}
