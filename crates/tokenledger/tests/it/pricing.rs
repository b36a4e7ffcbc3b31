use crate::common::TestContext;
use predicates::prelude::*;

#[test]
fn pricing_names_the_matching_key_and_its_source() {
    let t = TestContext::new();
    t.run(&["pricing", "anthropic/claude-sonnet-4-5-20250929"])
        .success()
        .stdout(
            predicate::str::contains("claude-sonnet-4-5").and(predicate::str::contains("embedded")),
        );
    t.run(&["pricing", "no-such-model"])
        .code(1)
        .stderr(predicate::str::contains("unpriced"));
}

#[test]
fn config_overrides_and_litellm_files_take_precedence() {
    let t = TestContext::new();
    let litellm = t.dir.path().join("prices.json");
    std::fs::write(
        &litellm,
        r#"{"sample_spec": {"input_cost_per_token": 0}, "acme/rocket-1": {"input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06, "litellm_provider": "acme", "mode": "chat"}}"#,
    )
    .unwrap();
    t.write_config(&format!(
        "[pricing]\nlitellm_file = {:?}\n[pricing.models.\"glm-4.7\"]\ninput = 0.5\noutput = 1.5\n",
        litellm.to_str().unwrap()
    ));
    t.run(&["pricing", "glm-4.7"])
        .success()
        .stdout(predicate::str::contains("config"));
    t.run(&["pricing", "rocket-1"])
        .success()
        .stdout(predicate::str::contains("LiteLLM"));
    // 1M input at $2 + 1M output at $8.
    t.run(&["log", "s", "main", "acme/rocket-1", "1000000", "1000000"])
        .success()
        .stdout(predicate::str::contains("Cost: $10"));
}
