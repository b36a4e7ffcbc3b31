//! Budgets: how much of a daily or monthly allowance (USD or tokens) is
//! spent, which alert thresholds that crosses, and where the current burn
//! rate puts it by the end of the day.

use crate::aggregate::Measures;
use crate::error::{Error, Result};
use crate::pricing::PriceTable;
use crate::query::{Filters, TimeWindow};
use crate::report::{self, Prefer, ReportData, ReportSpec};
use crate::source::Source;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, ZonedDateTime};
use serde::Deserialize;

/// The burn rate is measured over this trailing window: long enough that one
/// session-end entry does not look like a spike, short enough to be "current".
pub const BURN_WINDOW: SignedDuration = SignedDuration::from_hours(3);

/// One `[[budget]]` table of `config.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    pub name: String,
    pub period: BudgetPeriod,
    /// A USD allowance; exactly one of `usd` and `tokens` is set.
    pub usd: Option<f64>,
    pub tokens: Option<u64>,
    /// Optional scope: only this agent, model (canonical name) or task counts.
    pub agent: Option<String>,
    pub model: Option<String>,
    pub task: Option<String>,
    /// Fractions of the allowance that trigger an alert.
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<f64>,
}

fn default_thresholds() -> Vec<f64> {
    vec![0.8, 1.0]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    Day,
    Month,
}

impl BudgetPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "day",
            BudgetPeriod::Month => "month",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Usd(f64),
    Tokens(u64),
}

impl BudgetConfig {
    pub fn limit(&self) -> Limit {
        match (self.usd, self.tokens) {
            (Some(usd), _) => Limit::Usd(usd),
            (None, Some(tokens)) => Limit::Tokens(tokens),
            // `validate` rejects this; a zero allowance is the safe reading.
            (None, None) => Limit::Tokens(0),
        }
    }

    pub fn filters(&self) -> Filters {
        let one = |v: &Option<String>| v.iter().cloned().collect();
        Filters {
            agents: one(&self.agent),
            models: one(&self.model),
            tasks: one(&self.task),
            sessions: Vec::new(),
        }
    }

    /// `agent backend, model claude-opus-4-5`, or `all usage`.
    pub fn scope_label(&self) -> String {
        let parts: Vec<String> = [
            ("agent", &self.agent),
            ("model", &self.model),
            ("task", &self.task),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
        if parts.is_empty() {
            "all usage".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Checks every `[[budget]]`; the message names the budget and the key to fix.
pub fn validate(budgets: &[BudgetConfig]) -> std::result::Result<(), String> {
    for (i, b) in budgets.iter().enumerate() {
        let which = if b.name.trim().is_empty() {
            format!("[[budget]] #{}", i + 1)
        } else {
            format!("[[budget]] {:?}", b.name)
        };
        if b.name.trim().is_empty() {
            return Err(format!(
                "{which}: set name = \"...\" (used in alerts and state)"
            ));
        }
        if budgets[..i].iter().any(|o| o.name == b.name) {
            return Err(format!(
                "{which}: the name is used twice; names must be unique"
            ));
        }
        match (b.usd, b.tokens) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(format!("{which}: set exactly one of usd or tokens"));
            }
            (Some(usd), None) if !(usd.is_finite() && usd > 0.0) => {
                return Err(format!("{which}: usd must be a positive number, not {usd}"));
            }
            (None, Some(0)) => return Err(format!("{which}: tokens must be above 0")),
            _ => {}
        }
        if let Some(t) = b.thresholds.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(format!(
                "{which}: thresholds must be positive fractions like [0.8, 1.0], not {t}"
            ));
        }
    }
    Ok(())
}

/// A budget period on the display zone's calendar, as UTC instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodBounds {
    pub start: Timestamp,
    pub end: Timestamp,
    /// `2026-02-06` or `2026-02`: identifies the period in the alert state.
    pub key: String,
}

/// The day or month holding `now` on `tz`'s calendar.
pub fn period_bounds(period: BudgetPeriod, now: Timestamp, tz: &TimeZone) -> Result<PeriodBounds> {
    let local = now.to_zoned_datetime(tz.clone());
    let bad = |e: jiff::Error| Error::invalid("report.tz", e.to_string());
    let (start, end, key): (ZonedDateTime, ZonedDateTime, String) = match period {
        BudgetPeriod::Day => {
            let start = local.start_of_day().map_err(bad)?;
            let end = start.checked_add(1.day()).map_err(bad)?;
            (start, end, local.strftime("%Y-%m-%d").to_string())
        }
        BudgetPeriod::Month => {
            let first = local.date().first_of_month();
            let start = first.to_zoned_datetime(tz.clone()).map_err(bad)?;
            let end = start.checked_add(1.month()).map_err(bad)?;
            (start, end, local.strftime("%Y-%m").to_string())
        }
    };
    Ok(PeriodBounds {
        start: start.timestamp(),
        end: end.timestamp(),
        key,
    })
}

/// Spend so far plus the recent burn rate (`recent` spent over `recent_secs`)
/// carried on to the end of the day (`remaining_secs` away).
pub fn project(spent: f64, recent: f64, recent_secs: f64, remaining_secs: f64) -> f64 {
    if recent_secs <= 0.0 || remaining_secs <= 0.0 {
        return spent;
    }
    spent + recent / recent_secs * remaining_secs
}

/// One budget measured at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetStatus {
    pub config: BudgetConfig,
    pub bounds: PeriodBounds,
    /// USD or tokens, in the budget's unit.
    pub spent: f64,
    /// Spend at the end of today at the current burn rate.
    pub projected_day_end: f64,
    /// Models without a price: their USD spend is missing from `spent`.
    pub unpriced_models: Vec<String>,
}

impl BudgetStatus {
    pub fn limit_value(&self) -> f64 {
        match self.config.limit() {
            Limit::Usd(usd) => usd,
            Limit::Tokens(tokens) => tokens as f64,
        }
    }

    pub fn fraction(&self) -> f64 {
        fraction(self.spent, self.limit_value())
    }

    pub fn projected_fraction(&self) -> f64 {
        fraction(self.projected_day_end, self.limit_value())
    }

    /// The thresholds reached, lowest first.
    pub fn crossed(&self) -> Vec<f64> {
        let f = self.fraction();
        let mut crossed: Vec<f64> = self
            .config
            .thresholds
            .iter()
            .copied()
            .filter(|t| f >= *t)
            .collect();
        crossed.sort_by(f64::total_cmp);
        crossed
    }
}

fn fraction(value: f64, limit: f64) -> f64 {
    if limit > 0.0 { value / limit } else { 0.0 }
}

fn amount(m: &Measures, limit: Limit) -> f64 {
    match limit {
        // The priced part: an unpriced model is reported, never counted as $0 silently.
        Limit::Usd(_) => m.cost_usd.unwrap_or(m.priced_cost_usd),
        Limit::Tokens(_) => m.tokens.total() as f64,
    }
}

/// Measures every budget at `now` on `tz`'s calendar, with the report
/// engine (so merge rules and prices are the reports' own).
pub fn evaluate(
    sources: &[&dyn Source],
    prices: &PriceTable,
    budgets: &[BudgetConfig],
    tz: &TimeZone,
    prefer: Prefer,
    now: Timestamp,
) -> Result<Vec<BudgetStatus>> {
    evaluate_with(budgets, tz, prefer, now, |specs| {
        report::run_many(sources, prices, specs, now)
    })
}

/// [`evaluate`] with the reports made by `run` (one [`ReportData`] per
/// spec, in order): the collector measures budgets over its event store.
pub fn evaluate_with(
    budgets: &[BudgetConfig],
    tz: &TimeZone,
    prefer: Prefer,
    now: Timestamp,
    run: impl FnOnce(Vec<ReportSpec>) -> Result<Vec<ReportData>>,
) -> Result<Vec<BudgetStatus>> {
    // `until` is exclusive; an entry logged this very second counts.
    let until = now.checked_add(SignedDuration::from_secs(1)).unwrap_or(now);
    let spec = |budget: &BudgetConfig, since: Timestamp| ReportSpec {
        window: TimeWindow {
            since: Some(since),
            until: Some(until),
        },
        filters: budget.filters(),
        tz: tz.clone(),
        tz_name: String::new(),
        groupings: vec![vec![]],
        prefer,
    };
    let burn_since = now.checked_sub(BURN_WINDOW).unwrap_or(now);
    // Each budget's period and its burn window, all from one pass.
    let mut specs = Vec::with_capacity(2 * budgets.len());
    for budget in budgets {
        let bounds = period_bounds(budget.period, now, tz)?;
        specs.push(spec(budget, bounds.start));
        specs.push(spec(budget, burn_since));
    }
    let mut measured = run(specs)?.into_iter();
    let mut measure =
        || -> Measures { measured.next().map(|data| data.totals).unwrap_or_default() };
    let mut out = Vec::with_capacity(budgets.len());
    for budget in budgets {
        let bounds = period_bounds(budget.period, now, tz)?;
        let limit = budget.limit();
        let period = measure();
        let recent = amount(&measure(), limit);
        let day_end = period_bounds(BudgetPeriod::Day, now, tz)?.end;
        let remaining = (day_end - now).as_secs_f64();
        let spent = amount(&period, limit);
        out.push(BudgetStatus {
            config: budget.clone(),
            bounds,
            spent,
            projected_day_end: project(spent, recent, BURN_WINDOW.as_secs_f64(), remaining),
            unpriced_models: period.unpriced_models.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
