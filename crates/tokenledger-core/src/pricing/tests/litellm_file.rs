//! The user LiteLLM-file layer, loaded from real files.

use std::collections::BTreeMap;
use std::io::Write;

use crate::pricing::{PriceOrigin, PriceTable, PricingConfig, PricingError};

const LITELLM: &str = r#"{
  "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "mode": "chat"},
  "zai/glm-4.7": {"input_cost_per_token": 7e-07, "output_cost_per_token": 2.3e-06,
      "cache_read_input_token_cost": 1.2e-07, "litellm_provider": "zai", "mode": "chat"},
  "heroku/glm-4.7": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06,
      "litellm_provider": "heroku", "mode": "chat"},
  "glm-4-7-251222": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
      "litellm_provider": "volcengine", "mode": "chat"},
  "claude-opus-4-9": {"input_cost_per_token": 5e-06, "output_cost_per_token": 2.5e-05,
      "cache_creation_input_token_cost_above_1hr": 6e-06,
      "input_cost_per_token_above_200k_tokens": 1e-05,
      "provider_specific_entry": {"us": 1.1, "fast": 6.0},
      "litellm_provider": "anthropic", "mode": "chat"},
  "text-embedding-9": {"input_cost_per_token": 1e-07, "output_cost_per_token": 0.0, "mode": "embedding"}
}"#;

fn litellm_table(text: &str) -> (tempfile::NamedTempFile, Result<PriceTable, PricingError>) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let cfg = PricingConfig {
        litellm_file: Some(f.path().to_path_buf()),
        models: BTreeMap::new(),
    };
    let t = PriceTable::load(&cfg, None);
    (f, t)
}

#[test]
fn litellm_file_layer() {
    let (f, t) = litellm_table(LITELLM);
    let t = t.unwrap();
    let glm = t.lookup("glm-4.7").unwrap();
    assert_eq!(
        glm.key, "zai/glm-4.7",
        "the creator's entry, not the reseller's"
    );
    assert_eq!(
        (glm.price.input, glm.price.output, glm.price.cache_read),
        (0.7, 2.3, 0.12)
    );
    assert_eq!(
        glm.origin,
        &PriceOrigin::LiteLlmFile {
            path: f.path().to_path_buf()
        }
    );

    let opus = t.lookup("anthropic/claude-opus-4-9").unwrap().price;
    assert_eq!(
        opus.cache_write_1h, 10.0,
        "stale _above_1hr ignored for Claude"
    );
    assert_eq!((opus.cache_read, opus.cache_write_5m), (0.5, 6.25));
    assert_eq!(opus.fast_multiplier, Some(6.0));
    let lc = opus.long_context.unwrap();
    assert_eq!(
        (lc.threshold, lc.input, lc.output, lc.cache_write_1h),
        (200_000, 10.0, 25.0, 20.0)
    );

    assert!(t.lookup("sample_spec").is_none());
    assert!(
        t.lookup("glm-4-7-251222").is_none(),
        "all-zero entries are unpriced"
    );
    assert!(t.lookup("text-embedding-9").is_none());
    // Models absent from the file still come from the snapshot.
    assert!(matches!(
        t.lookup("claude-haiku-4-5").unwrap().origin,
        PriceOrigin::Embedded { .. }
    ));
}

#[test]
fn malformed_litellm_files_name_the_path() {
    let (f, t) = litellm_table("{\"gpt-5\": {\"input_cost_per_token\": 1e-06,");
    let msg = t.unwrap_err().to_string();
    assert!(msg.contains(&f.path().display().to_string()), "{msg}");

    let (f, t) = litellm_table(
        r#"{"gpt-5": {"input_cost_per_token": "cheap", "output_cost_per_token": 1e-05}}"#,
    );
    let msg = t.unwrap_err().to_string();
    assert!(msg.contains(&f.path().display().to_string()), "{msg}");
    assert!(
        msg.contains("input_cost_per_token") && msg.contains("gpt-5"),
        "{msg}"
    );

    let cfg = PricingConfig {
        litellm_file: Some("/nonexistent/prices.json".into()),
        models: BTreeMap::new(),
    };
    let msg = PriceTable::load(&cfg, None).unwrap_err().to_string();
    assert!(msg.contains("/nonexistent/prices.json"), "{msg}");
}
