//! Spend against budgets: the daily digest's "Budgets" block, its JSON
//! `budgets` array, and the text of a budget alert.

use crate::fmt::{bar, cost4, pad_right, rfc3339, round_dp, thousands};
use crate::text::TextStyle;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use tokenledger_core::budget::{BudgetPeriod, BudgetStatus, Limit};

const BAR_WIDTH: usize = 10;

/// One aligned line per budget:
/// `• name  $16.5000 of $20.0000 today  82.5%  ████████▎   → $24.0000 (120.0%) by end of day`.
pub fn lines(statuses: &[BudgetStatus], style: &TextStyle) -> String {
    let width = statuses
        .iter()
        .map(|s| s.config.name.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<String> = statuses
        .iter()
        .map(|s| {
            let filled = (s.fraction().clamp(0.0, 1.0) * 1000.0).round() as u64;
            let drawn = bar(filled, 1000, BAR_WIDTH);
            let drawn = if style.color {
                let sgr = if s.fraction() >= 1.0 { "31" } else { "36" };
                format!("\x1b[{sgr}m{drawn}\x1b[0m")
            } else {
                drawn
            };
            format!(
                "• {}  {} of {} {}{}  {}  {drawn}  → {} ({}) by end of day{}",
                pad_right(&s.config.name, width),
                amount(s, s.spent),
                amount(s, s.limit_value()),
                period_word(s.config.period),
                scope(s),
                percent(s.fraction()),
                amount(s, s.projected_day_end),
                percent(s.projected_fraction()),
                unpriced(s),
            )
        })
        .collect();
    lines.join("\n")
}

/// The message `alert check` sends when `threshold` is crossed.
pub fn alert_text(
    status: &BudgetStatus,
    threshold: f64,
    tz_name: &str,
    style: &TextStyle,
) -> String {
    let s = status;
    let title = format!("Budget alert: {}", s.config.name);
    let title = if style.color {
        format!("\x1b[1m{title}\x1b[0m")
    } else {
        title
    };
    let over = if s.fraction() >= 1.0 {
        " — over budget"
    } else {
        ""
    };
    format!(
        "⚠️ {title}\n{} of the {} budget reached{over} ({})\nSpent: {} of {} ({}) {}, {} {tz_name}{}\nProjected by end of day: {} ({})\n",
        threshold_label(threshold),
        match s.config.period {
            BudgetPeriod::Day => "daily",
            BudgetPeriod::Month => "monthly",
        },
        s.config.scope_label(),
        amount(s, s.spent),
        amount(s, s.limit_value()),
        percent(s.fraction()),
        period_word(s.config.period),
        s.bounds.key,
        unpriced(s),
        amount(s, s.projected_day_end),
        percent(s.projected_fraction()),
    )
}

/// One entry of the daily JSON's `budgets` array (additive to
/// `schema_version` 1), keys in a fixed order like the rest of the contract.
pub(crate) struct BudgetOut<'a>(pub &'a BudgetStatus);

impl Serialize for BudgetOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let c = &s.config;
        let unit = match c.limit() {
            Limit::Usd(_) => "usd",
            Limit::Tokens(_) => "tokens",
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &c.name)?;
        map.serialize_entry("period", c.period.as_str())?;
        map.serialize_entry("period_key", &s.bounds.key)?;
        map.serialize_entry("period_start", &rfc3339(s.bounds.start))?;
        map.serialize_entry("period_end", &rfc3339(s.bounds.end))?;
        map.serialize_entry("agent", &c.agent)?;
        map.serialize_entry("model", &c.model)?;
        map.serialize_entry("task", &c.task)?;
        map.serialize_entry("unit", unit)?;
        map.serialize_entry("limit", &s.limit_value())?;
        map.serialize_entry("spent", &round_dp(s.spent, 6))?;
        map.serialize_entry("fraction", &round_dp(s.fraction(), 4))?;
        map.serialize_entry("projected_day_end", &round_dp(s.projected_day_end, 6))?;
        map.serialize_entry("projected_fraction", &round_dp(s.projected_fraction(), 4))?;
        map.serialize_entry("thresholds", &c.thresholds)?;
        map.serialize_entry("crossed", &s.crossed())?;
        map.serialize_entry("unpriced_models", &s.unpriced_models)?;
        map.end()
    }
}

fn amount(s: &BudgetStatus, value: f64) -> String {
    match s.config.limit() {
        Limit::Usd(_) => cost4(Some(value)),
        Limit::Tokens(_) => format!("{} tokens", thousands(value.max(0.0).round() as u64)),
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `80%`, or `87.5%` for a threshold that is not a whole percent.
pub fn threshold_label(threshold: f64) -> String {
    let pct = threshold * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

fn period_word(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Day => "today",
        BudgetPeriod::Month => "this month",
    }
}

fn scope(s: &BudgetStatus) -> String {
    let label = s.config.scope_label();
    if label == "all usage" {
        String::new()
    } else {
        format!(" [{label}]")
    }
}

fn unpriced(s: &BudgetStatus) -> String {
    if s.unpriced_models.is_empty() || s.config.usd.is_none() {
        String::new()
    } else {
        format!(" (no price for {})", s.unpriced_models.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use tokenledger_core::budget::{BudgetConfig, period_bounds};

    fn status(config: BudgetConfig, spent: f64, projected: f64) -> BudgetStatus {
        let now = "2026-02-06T15:00:00Z".parse().unwrap();
        BudgetStatus {
            bounds: period_bounds(config.period, now, &TimeZone::UTC).unwrap(),
            config,
            spent,
            projected_day_end: projected,
            unpriced_models: vec![],
        }
    }

    fn budget(
        name: &str,
        period: BudgetPeriod,
        usd: Option<f64>,
        tokens: Option<u64>,
    ) -> BudgetConfig {
        BudgetConfig {
            name: name.into(),
            period,
            usd,
            tokens,
            agent: None,
            model: None,
            task: None,
            thresholds: vec![0.8, 1.0],
        }
    }

    const PLAIN: TextStyle = TextStyle {
        color: false,
        width: None,
    };

    #[test]
    fn the_budgets_block() {
        let statuses = [
            status(
                budget("daily", BudgetPeriod::Day, Some(20.0), None),
                16.5,
                24.0,
            ),
            status(
                BudgetConfig {
                    model: Some("claude-opus-4-5".into()),
                    ..budget("opus-month", BudgetPeriod::Month, None, Some(5_000_000))
                },
                1_250_000.0,
                1_300_000.0,
            ),
        ];
        insta::assert_snapshot!(lines(&statuses, &PLAIN), @"
        • daily       $16.5000 of $20.0000 today  82.5%  ████████▎   → $24.0000 (120.0%) by end of day
        • opus-month  1,250,000 tokens of 5,000,000 tokens this month [model claude-opus-4-5]  25.0%  ██▌         → 1,300,000 tokens (26.0%) by end of day
        ");
    }

    #[test]
    fn an_alert() {
        let config = BudgetConfig {
            agent: Some("<b>x</b>".into()),
            ..budget("daily", BudgetPeriod::Day, Some(20.0), None)
        };
        let s = status(config, 21.0, 30.0);
        insta::assert_snapshot!(alert_text(&s, 1.0, "UTC", &PLAIN), @"
        ⚠️ Budget alert: daily
        100% of the daily budget reached — over budget (agent <b>x</b>)
        Spent: $21.0000 of $20.0000 (105.0%) today, 2026-02-06 UTC
        Projected by end of day: $30.0000 (150.0%)
        ");
        let j = serde_json::to_value(BudgetOut(&s)).unwrap();
        assert_eq!(j["crossed"], serde_json::json!([0.8, 1.0]));
        assert_eq!(j["unit"], "usd");
        assert_eq!(j["agent"], "<b>x</b>");
        assert_eq!(j["period_start"], "2026-02-06T00:00:00Z");
    }
}
