use crate::common::TestContext;

#[test]
fn init_creates_home_and_config_and_is_idempotent() {
    let t = TestContext::new();
    t.run(&["init"]).success();
    assert!(t.home.is_dir());
    let config = std::fs::read_to_string(&t.config).unwrap();
    assert!(config.contains("[pricing]"));
    std::fs::write(&t.config, format!("{config}\n# edited by the user\n")).unwrap();
    let edited = std::fs::read_to_string(&t.config).unwrap();
    t.run(&["init"])
        .success()
        .stdout(predicates::str::contains("config exists"));
    assert_eq!(std::fs::read_to_string(&t.config).unwrap(), edited);
}

#[test]
fn the_example_config_is_valid_and_everything_works_without_one() {
    let t = TestContext::new();
    t.run(&["init"]).success();
    t.run(&["log", "s", "main", "claude-sonnet-4-5", "1", "1"])
        .success();
    std::fs::remove_file(&t.config).unwrap();
    t.run(&["report"]).success();
}

#[test]
fn a_broken_config_names_the_file() {
    let t = TestContext::new();
    t.write_config("[pricing\n");
    t.run(&["report"])
        .code(1)
        .stderr(predicates::str::contains(t.config.to_str().unwrap()));
    t.write_config("[pricing.models.x]\ninput = 1.0\noutput = 2.0\nbogus = 3\n");
    t.run(&["report"])
        .code(1)
        .stderr(predicates::str::contains("bogus"));
}

#[test]
fn completions_and_man_page_are_generated() {
    let t = TestContext::new();
    t.run(&["completions", "bash"])
        .success()
        .stdout(predicates::str::contains("tokenledger"));
    t.run(&["man"])
        .success()
        .stdout(predicates::str::contains(".TH tokenledger"));
}
