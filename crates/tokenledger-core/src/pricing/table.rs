//! The layered price table and model lookup.

use std::cmp::Reverse;
use std::path::Path;
use std::sync::{OnceLock, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use super::model_name::{
    RESELLER, canonical_model_name, normalized_model_name, provider_rank, split_date,
};
use super::{ModelPrice, PriceOrigin, PricingConfig, PricingError, config, litellm, snapshot};

/// Distinct model strings remembered by [`PriceTable::lookup`]; past this,
/// lookups still work but resolve each time (guards against unbounded input).
const MEMO_CAP: usize = 65_536;

#[derive(Debug, Clone)]
pub(crate) struct LayerEntry {
    pub key: String,
    /// LiteLLM's `litellm_provider`, used to prefer the model's creator.
    pub provider: Option<String>,
    pub price: ModelPrice,
}

/// One price source with its lookup indexes.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    origin: PriceOrigin,
    entries: Vec<LayerEntry>,
    /// [`provider_rank`] per entry.
    provider_rank: Vec<u8>,
    exact: FxHashMap<String, u32>,
    normalized: FxHashMap<String, u32>,
    canonical: FxHashMap<String, u32>,
}

/// Which of several keys with the same normalized/canonical form answers for
/// it: the creator's own entry first, then an undated or the newest dated
/// key, then the least decorated, shortest one.
type Rank = (u8, bool, Reverse<u64>, bool, usize, u32);

impl Layer {
    pub(crate) fn new(origin: PriceOrigin, mut entries: Vec<LayerEntry>) -> Layer {
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        let mut provider_ranks = Vec::with_capacity(entries.len());
        let mut exact = FxHashMap::default();
        let mut normalized: FxHashMap<String, Rank> = FxHashMap::default();
        let mut canonical: FxHashMap<String, Rank> = FxHashMap::default();
        for (i, e) in (0u32..).zip(&entries) {
            let lower = e.key.trim().to_ascii_lowercase();
            let norm = normalized_model_name(&e.key);
            let canon = canonical_model_name(&e.key);
            let provider = provider_rank(&canon, e.provider.as_deref());
            let date = split_date(&norm).map_or(0, |(_, d)| {
                d.bytes()
                    .filter(u8::is_ascii_digit)
                    .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
            });
            let rank = (
                provider,
                date != 0,
                Reverse(date),
                lower != norm,
                e.key.len(),
                i,
            );
            for (index, name) in [(&mut normalized, norm), (&mut canonical, canon)] {
                let slot = index.entry(name).or_insert(rank);
                if rank < *slot {
                    *slot = rank;
                }
            }
            exact.entry(lower).or_insert(i);
            provider_ranks.push(provider);
        }
        let index = |m: FxHashMap<String, Rank>| m.into_iter().map(|(k, r)| (k, r.5)).collect();
        Layer {
            origin,
            entries,
            provider_rank: provider_ranks,
            exact,
            normalized: index(normalized),
            canonical: index(canonical),
        }
    }

    /// Exact key → same model without decorations (a dated spelling only when
    /// no better-ranked provider has the model) → a `-latest` alias. Never a
    /// prefix or substring match, so `claude-opus-4` cannot hit `claude-opus-4-1`.
    fn resolve(&self, model: &str) -> Option<u32> {
        let lower = model.trim().to_ascii_lowercase();
        if let Some(&i) = self.exact.get(&lower) {
            return Some(i);
        }
        let norm = normalized_model_name(&lower);
        let canon = canonical_model_name(&norm);
        let by_model = self.canonical.get(&canon).copied();
        // `gpt-4o-2024-05-13` is priced apart from `gpt-4o`, so a dated
        // spelling first looks for its own date, but a reseller's dated entry
        // must not beat the creator's (or a list-price host's) undated one.
        let rank = |i: u32| self.provider_rank[i as usize];
        if norm != canon
            && let Some(&i) = self.normalized.get(&norm)
            && by_model.is_none_or(|m| rank(i) < RESELLER || rank(i) <= rank(m))
        {
            return Some(i);
        }
        if by_model.is_some() {
            return by_model;
        }
        let base = canon.strip_suffix("-latest")?;
        self.canonical.get(base).copied()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn get(&self, i: usize) -> (&str, &ModelPrice) {
        (&self.entries[i].key, &self.entries[i].price)
    }
}

/// Model string → (layer, entry) it resolved to, or a remembered miss.
type Memo = FxHashMap<Box<str>, Option<(u32, u32)>>;

/// A resolved price: the table key that matched, its price and its source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceMatch<'a> {
    pub key: &'a str,
    pub price: &'a ModelPrice,
    pub origin: &'a PriceOrigin,
}

/// Prices by model, from layers searched highest priority first. Each layer
/// is searched with the whole matching chain before the next, so a config
/// override for `claude-sonnet-4-5` also covers `claude-sonnet-4-5-20250929`.
///
/// [`lookup`](PriceTable::lookup) memoizes per distinct model string
/// internally, so callers may call it once per event without caching.
#[derive(Debug)]
pub struct PriceTable {
    layers: Vec<Layer>,
    snapshot: String,
    memo: RwLock<Memo>,
}

impl PriceTable {
    /// The embedded snapshot and supplement only, built once per process.
    pub fn embedded() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| PriceTable::with_layers(Vec::new()))
    }

    /// The embedded data under the `[pricing]` config: per-model overrides
    /// first, then `litellm_file` (a relative path is taken from the config
    /// file's directory). Errors name the file and the offending field.
    pub fn load(
        cfg: &PricingConfig,
        config_path: Option<&Path>,
    ) -> Result<PriceTable, PricingError> {
        let mut layers = Vec::new();
        if !cfg.models.is_empty() {
            layers.push(config::overrides_layer(cfg, config_path)?);
        }
        if let Some(file) = &cfg.litellm_file {
            layers.push(litellm::load_file(&config::resolve_path(
                file,
                config_path,
            ))?);
        }
        Ok(PriceTable::with_layers(layers))
    }

    pub(crate) fn with_layers(mut layers: Vec<Layer>) -> PriceTable {
        let embedded = snapshot::embedded();
        layers.push(embedded.snapshot.clone());
        layers.push(embedded.supplement.clone());
        PriceTable {
            layers,
            snapshot: embedded.label.clone(),
            memo: RwLock::default(),
        }
    }

    /// The price for `model` in any spelling, or `None` when no layer knows it
    /// (the caller reports "unpriced", never $0).
    pub fn lookup(&self, model: &str) -> Option<PriceMatch<'_>> {
        let memo = self.memo.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(&hit) = memo.get(model) {
            return hit.map(|(l, i)| self.matched(l, i));
        }
        drop(memo);
        let found = self.resolve(model);
        let mut memo = self.memo.write().unwrap_or_else(PoisonError::into_inner);
        if memo.len() < MEMO_CAP {
            memo.insert(model.into(), found);
        }
        found.map(|(l, i)| self.matched(l, i))
    }

    fn resolve(&self, model: &str) -> Option<(u32, u32)> {
        (0u32..)
            .zip(&self.layers)
            .find_map(|(l, layer)| Some((l, layer.resolve(model)?)))
    }

    fn matched(&self, layer: u32, entry: u32) -> PriceMatch<'_> {
        let layer = &self.layers[layer as usize];
        let e = &layer.entries[entry as usize];
        PriceMatch {
            key: &e.key,
            price: &e.price,
            origin: &layer.origin,
        }
    }

    /// The embedded snapshot's source and version, e.g. `litellm 1.109.1`;
    /// stamp computed costs with it so history can be re-costed.
    pub fn snapshot_version(&self) -> &str {
        &self.snapshot
    }

    /// Every entry a lookup of its own key would return, so entries shadowed
    /// by a higher layer (an override of `claude-sonnet-4-5` hides the
    /// embedded `claude-sonnet-4-5`) are left out. Layers in priority order,
    /// keys sorted within each.
    pub fn models(&self) -> impl Iterator<Item = (&str, &ModelPrice, &PriceOrigin)> {
        (0u32..).zip(&self.layers).flat_map(move |(l, layer)| {
            (0u32..)
                .zip(&layer.entries)
                .filter(move |(i, e)| self.resolve(&e.key) == Some((l, *i)))
                .map(move |(_, e)| (e.key.as_str(), &e.price, &layer.origin))
        })
    }
}
