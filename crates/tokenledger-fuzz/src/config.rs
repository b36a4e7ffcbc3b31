//! The TOML files: `config.toml` (with its `[pricing]`, `[[budget]]` and
//! `[server]` sections) and the home's `schedules.toml`.

use crate::scratch;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::path::Path;
use tokenledger_core::budget::{self, BudgetPeriod};
use tokenledger_core::config::Config;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::pricing::{PriceTable, TierRule, cost_usd};
use tokenledger_core::schedule::Schedules;

/// 2026-03-08 09:30 UTC: a DST change day in America's zones.
const NOW: i64 = 1_772_962_200;

/// A config that loads and validates prices every model it names at a
/// finite, non-negative cost, and its budgets' periods can be worked out.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((mut config, _)) = Config::parse(text, Path::new("/fuzz/config.toml")) else {
        return;
    };
    // Names a file to read: another input than this one.
    config.pricing.litellm_file = None;
    if let Ok(table) = PriceTable::load(&config.pricing, None) {
        let tokens = TokenCounts {
            input: 250_000,
            output: 1_000,
            cache_read: 3,
            cache_write_5m: 4,
            cache_write_1h: 5,
            reasoning: 6,
        };
        for model in config.pricing.models.keys() {
            let found = table.lookup(model).expect("a model the config prices");
            for rule in [
                TierRule::WholeRequest,
                TierRule::PerCategory,
                TierRule::None,
            ] {
                for fast in [false, true] {
                    let cost = cost_usd(found.price, &tokens, rule, fast);
                    assert!(cost.is_finite() && cost >= 0.0, "{model}: {cost}");
                }
            }
        }
    }
    let tz = config
        .report
        .tz
        .as_deref()
        .map_or(Ok(TimeZone::UTC), TimeZone::get);
    if budget::validate(&config.budgets).is_ok()
        && let Ok(tz) = tz
    {
        for b in &config.budgets {
            b.limit();
            b.filters();
            b.scope_label();
        }
        for period in [BudgetPeriod::Day, BudgetPeriod::Month] {
            let now = Timestamp::from_second(NOW).expect("a valid instant");
            if let Ok(bounds) = budget::period_bounds(period, now, &tz) {
                assert!(bounds.start <= now && now < bounds.end, "{bounds:?}");
            }
        }
    }
}

/// Schedules that load are saved and load back the same, and each one's
/// next run is after now.
pub fn schedules_toml(data: &[u8]) {
    let Ok(schedules) = scratch::with_file("schedules", "schedules.toml", data, |_, path| {
        Schedules::load(path)
    }) else {
        return;
    };
    let back = scratch::with_file("schedules", "saved.toml", b"", |_, path| {
        schedules.save(path).expect("saving to a scratch file");
        Schedules::load(path).expect("what was saved loads")
    });
    assert_eq!(back, schedules);
    let now = Timestamp::from_second(NOW).expect("a valid instant");
    for schedule in &schedules.schedules {
        if schedule.time().is_ok() {
            schedule
                .cron_expr()
                .expect("a time makes a cron expression");
        }
        if let Ok(next) = schedule.next_run(now) {
            assert!(next > now, "{schedule:?}: {next}");
        }
    }
}
