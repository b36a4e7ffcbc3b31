//! Whole-table tests: the embedded snapshot, layering and the seed's examples.

mod litellm_file;

use std::collections::BTreeMap;
use std::path::Path;

use super::table::{Layer, LayerEntry};
use super::*;
use crate::event::TokenCounts;

fn embedded() -> &'static PriceTable {
    PriceTable::embedded()
}

fn price(model: &str) -> &'static ModelPrice {
    embedded()
        .lookup(model)
        .unwrap_or_else(|| panic!("{model} is unpriced"))
        .price
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// A layer of only the given keys, to test matching without the snapshot's
/// neighbours; `resolves` checks that this layer, not the snapshot, answered.
fn layer(keys: &[&str]) -> Layer {
    let p = *price("claude-haiku-4-5");
    let entries = keys
        .iter()
        .map(|k| LayerEntry {
            key: (*k).to_owned(),
            provider: None,
            price: p,
        })
        .collect();
    Layer::new(PriceOrigin::Supplement, entries)
}

fn resolves(layer: &Layer, model: &str) -> bool {
    PriceTable::with_layers(vec![layer.clone()])
        .lookup(model)
        .is_some_and(|m| matches!(m.origin, PriceOrigin::Supplement))
}

#[test]
fn sonnet_4_5_spellings_resolve_to_one_entry() {
    let keys: Vec<&str> = [
        "anthropic/claude-sonnet-4-5",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "Claude-Sonnet-4.5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5@20250929",
    ]
    .iter()
    .map(|m| embedded().lookup(m).unwrap().key)
    .collect();
    assert!(keys.iter().all(|k| *k == "claude-sonnet-4-5"), "{keys:?}");
}

#[test]
fn versions_never_match_each_other() {
    let t = embedded();
    assert_eq!(t.lookup("claude-opus-4").unwrap().key, "claude-opus-4");
    assert_eq!(t.lookup("claude-opus-4-1").unwrap().key, "claude-opus-4-1");
    assert_eq!(
        t.lookup("claude-opus-4-20250514").unwrap().key,
        "claude-opus-4"
    );
    assert_eq!(t.lookup("gpt-5").unwrap().price.input, 1.25);
    assert_eq!(t.lookup("gpt-5-mini").unwrap().price.input, 0.25);

    // Without the exact key, a neighbouring version is not a fallback.
    let only_4_1 = layer(&["claude-opus-4-1"]);
    assert!(!resolves(&only_4_1, "claude-opus-4"));
    assert!(resolves(&only_4_1, "claude-opus-4-1-20250805"));
    let only_4 = layer(&["claude-opus-4"]);
    assert!(!resolves(&only_4, "claude-opus-4-1"));
    assert!(resolves(&only_4, "claude-opus-4-20250514"));
    let only_gpt5 = layer(&["gpt-5"]);
    assert!(!resolves(&only_gpt5, "gpt-5-mini"));
    assert!(!resolves(&only_gpt5, "gpt-5.1"));
    assert!(resolves(&only_gpt5, "openai/gpt-5-2025-08-07"));
}

#[test]
fn unknown_models_are_unpriced() {
    let t = embedded();
    for m in [
        "my-local-llama",
        "",
        "claude",
        "gpt",
        "glm-4-7-251222",
        "claude-opus-9-9",
    ] {
        assert!(t.lookup(m).is_none(), "{m} should be unpriced");
    }
    // Memoized misses stay misses.
    assert!(t.lookup("my-local-llama").is_none());
}

#[test]
fn anthropic_list_prices() {
    let opus = price("claude-opus-4-5");
    assert_eq!(
        (opus.input, opus.output),
        (5.0, 25.0),
        "not the stale 15/75"
    );
    let haiku = price("claude-haiku-4-5");
    assert_eq!(
        (haiku.input, haiku.output),
        (1.0, 5.0),
        "not Haiku 3's 0.25/1.25"
    );
    assert_eq!(
        (haiku.cache_read, haiku.cache_write_5m, haiku.cache_write_1h),
        (0.1, 1.25, 2.0)
    );
    let opus41 = price("claude-opus-4-1");
    assert_eq!(
        (opus41.input, opus41.output, opus41.cache_write_1h),
        (15.0, 75.0, 30.0)
    );
    assert_eq!(price("claude-opus-4-6").fast_multiplier, Some(6.0));
    assert_eq!(price("claude-opus-4-8").fast_multiplier, Some(2.0));
    assert!(
        price("claude-sonnet-4-6").long_context.is_none(),
        "4.6: 1M at standard rates"
    );
}

#[test]
fn snapshot_covers_the_models_agents_use() {
    let models = "claude-opus-4-5 claude-opus-4-6 claude-opus-4-7 claude-opus-4-8 claude-opus-4-1 \
        claude-opus-4 claude-sonnet-4-5 claude-sonnet-4-6 claude-sonnet-4 claude-haiku-4-5 \
        claude-3-5-haiku claude-3-7-sonnet gpt-5 gpt-5-codex gpt-5.1 gpt-5.1-codex gpt-5.1-codex-mini \
        gpt-5.2 gpt-5.2-codex gpt-4.1 gpt-4o o3 o4-mini gemini-2.5-pro gemini-2.5-flash \
        gemini-2.5-flash-lite gemini-3-pro-preview glm-4.5 glm-4.6 glm-4.7 zai/glm-4.7";
    for m in models.split_whitespace() {
        let p = price(m);
        assert!(p.input > 0.0 && p.output > 0.0, "{m}: {p:?}");
    }
    assert_eq!(embedded().snapshot_version(), "litellm 1.109.1");
    for (key, p, _) in embedded().models() {
        assert!(p.input > 0.0 || p.output > 0.0, "{key} is all-zero");
    }
}

#[test]
fn seed_example_costs_0_0105() {
    let t = TokenCounts {
        input: 1000,
        output: 500,
        ..Default::default()
    };
    let c = cost_usd(
        price("anthropic/claude-sonnet-4-5"),
        &t,
        TierRule::WholeRequest,
        false,
    );
    assert!(close(c, 0.0105), "{c}");
}

#[test]
fn ttl_split_prices_1h_writes_at_twice_input() {
    let t = TokenCounts {
        input: 1,
        output: 2,
        cache_write_5m: 100,
        cache_write_1h: 200,
        ..Default::default()
    };
    // 1*3 + 2*15 + 100*3.75 + 200*6 = 1608 micro-USD
    let c = cost_usd(price("claude-sonnet-4-5"), &t, TierRule::None, false);
    assert!(close(c, 0.001608), "{c}");
}

#[test]
fn long_context_rules_disagree() {
    let p = price("claude-sonnet-4-5");
    let t = TokenCounts {
        input: 250_000,
        output: 1_000,
        ..Default::default()
    };
    // Anthropic: 250000*6 + 1000*22.5 = 1_522_500 micro-USD
    let whole = cost_usd(p, &t, TierRule::WholeRequest, false);
    assert!(close(whole, 1.5225), "{whole}");
    // ccusage: 200000*3 + 50000*6 + 1000*15 = 915_000
    let per = cost_usd(p, &t, TierRule::PerCategory, false);
    assert!(close(per, 0.915), "{per}");
    // No tiers: 250000*3 + 1000*15 = 765_000
    let none = cost_usd(p, &t, TierRule::None, false);
    assert!(close(none, 0.765), "{none}");
}

#[test]
fn config_override_beats_embedded() {
    let mut models = BTreeMap::new();
    let o = ModelPriceOverride {
        input: 2.0,
        output: 10.0,
        cache_read: None,
        cache_write_5m: None,
        cache_write_1h: None,
        input_above_200k: None,
        output_above_200k: None,
        fast_multiplier: None,
    };
    models.insert("anthropic/claude-sonnet-4-5".to_owned(), o);
    let cfg = PricingConfig {
        litellm_file: None,
        models,
    };
    let path = Path::new("/home/u/.config/tokenledger/config.toml");
    let t = PriceTable::load(&cfg, Some(path)).unwrap();
    for m in [
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "anthropic/claude-sonnet-4-5",
    ] {
        let hit = t.lookup(m).unwrap();
        assert_eq!(
            (hit.price.input, hit.price.cache_write_1h),
            (2.0, 4.0),
            "{m}"
        );
        assert_eq!(
            hit.origin,
            &PriceOrigin::Config {
                path: Some(path.to_path_buf())
            }
        );
    }
    assert!(matches!(
        t.lookup("claude-haiku-4-5").unwrap().origin,
        PriceOrigin::Embedded { .. }
    ));
    let listed: Vec<_> = t
        .models()
        .filter(|(k, ..)| k.contains("sonnet-4-5"))
        .collect();
    assert_eq!(
        listed.len(),
        1,
        "the override hides the embedded entry: {listed:?}"
    );
    assert_eq!(listed[0].0, "anthropic/claude-sonnet-4-5");
}
