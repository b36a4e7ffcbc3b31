use super::*;

fn budget(toml_text: &str) -> BudgetConfig {
    toml::from_str(toml_text).unwrap()
}

#[test]
fn days_and_months_follow_the_display_calendar() {
    let now: Timestamp = "2026-02-06T23:30:00Z".parse().unwrap();
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let day = period_bounds(BudgetPeriod::Day, now, &berlin).unwrap();
    // 00:30 on the 7th in Berlin: already the next day there.
    assert_eq!(day.key, "2026-02-07");
    assert_eq!(day.start.to_string(), "2026-02-06T23:00:00Z");
    assert_eq!(day.end.to_string(), "2026-02-07T23:00:00Z");
    let month = period_bounds(BudgetPeriod::Month, now, &TimeZone::UTC).unwrap();
    assert_eq!(month.key, "2026-02");
    assert_eq!(month.start.to_string(), "2026-02-01T00:00:00Z");
    assert_eq!(month.end.to_string(), "2026-03-01T00:00:00Z");
}

#[test]
fn a_dst_day_is_23_hours_long() {
    let now: Timestamp = "2026-03-29T12:00:00Z".parse().unwrap();
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let day = period_bounds(BudgetPeriod::Day, now, &berlin).unwrap();
    assert_eq!((day.end - day.start).as_hours(), 23);
}

#[test]
fn projection_carries_the_recent_rate_to_the_end_of_the_day() {
    // $3 in the last 3 h, 6 h left: $6 more.
    assert_eq!(project(10.0, 3.0, 3.0 * 3600.0, 6.0 * 3600.0), 16.0);
    assert_eq!(project(10.0, 0.0, 3.0 * 3600.0, 6.0 * 3600.0), 10.0);
    assert_eq!(project(10.0, 3.0, 0.0, 6.0 * 3600.0), 10.0);
}

#[test]
fn thresholds_default_and_are_crossed_in_order() {
    let b = budget("name = \"d\"\nperiod = \"day\"\nusd = 20.0\nthresholds = [1.0, 0.5]");
    let status = BudgetStatus {
        bounds: period_bounds(BudgetPeriod::Day, Timestamp::UNIX_EPOCH, &TimeZone::UTC).unwrap(),
        config: b,
        spent: 21.0,
        projected_day_end: 30.0,
        unpriced_models: vec![],
    };
    assert_eq!(status.crossed(), [0.5, 1.0]);
    assert_eq!(status.fraction(), 1.05);
    let d = budget("name = \"d\"\nperiod = \"month\"\ntokens = 5_000_000\nagent = \"a\"");
    assert_eq!(d.thresholds, [0.8, 1.0]);
    assert_eq!(d.limit(), Limit::Tokens(5_000_000));
    assert_eq!(d.scope_label(), "agent a");
}

/// The commented delivery and budget examples `init` writes are real config.
#[test]
fn the_example_config_sections_parse_when_uncommented() {
    let example = crate::config::EXAMPLE_CONFIG;
    let start = example.find("# Delivery").unwrap();
    let uncommented: String = example[start..]
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') || rest.split(' ').nth(1) == Some("=") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (config, warnings) =
        crate::config::Config::parse(&uncommented, std::path::Path::new("c.toml")).unwrap();
    assert!(warnings.is_empty());
    let tg = config.notify.telegram.unwrap();
    assert_eq!(tg.chat_id.as_deref(), Some("-1001234567890"));
    assert_eq!(tg.thread_id, Some(42));
    assert_eq!(config.budgets.len(), 2);
    assert_eq!(config.budgets[1].model.as_deref(), Some("claude-opus-4-5"));
    assert_eq!(config.alert.send, ["telegram"]);
    validate(&config.budgets).unwrap();
    assert_eq!(
        config.server.otel_prefer,
        crate::server_config::OtelPrefer::Events
    );
    assert_eq!(config.server.tokens[0].prefix.as_deref(), Some("team-a/"));
    assert!(!config.server.run_schedules);
}

#[test]
fn validation_names_the_budget_and_the_key() {
    let both = budget("name = \"x\"\nperiod = \"day\"\nusd = 1.0\ntokens = 5");
    let err = validate(&[both]).unwrap_err();
    assert!(
        err.contains("\"x\"") && err.contains("exactly one of usd or tokens"),
        "{err}"
    );
    let neg = budget("name = \"y\"\nperiod = \"day\"\nusd = -1.0");
    assert!(validate(&[neg]).unwrap_err().contains("positive"));
    let a = budget("name = \"z\"\nperiod = \"day\"\nusd = 1.0");
    assert!(
        validate(&[a.clone(), a.clone()])
            .unwrap_err()
            .contains("twice")
    );
    let zero_t = budget("name = \"t\"\nperiod = \"day\"\nusd = 1.0\nthresholds = [0.0]");
    assert!(validate(&[zero_t]).unwrap_err().contains("thresholds"));
    assert!(validate(&[a]).is_ok());
}
