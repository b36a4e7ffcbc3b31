//! A report request as text (the CLI's flags, or the collector's query
//! parameters) turned into a [`ReportSpec`]: one set of rules, so
//! `report` and `report --remote` answer the same question the same way.

use crate::query::{Filters, GroupKey, TimeWindow};
use crate::report::{Prefer, ReportSpec};
use crate::time::{Period, parse_bound};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The textual form of a report request. Names of fields match the CLI flags
/// and the query parameters of `GET /v1/report`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportQuery {
    pub period: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub tz: Option<String>,
    pub agent: Vec<String>,
    pub model: Vec<String>,
    pub task: Vec<String>,
    pub session: Vec<String>,
    pub by: Option<String>,
}

impl ReportQuery {
    /// Query-string pairs (`agent` and friends repeated per value), for a
    /// client that sends this request to a collector.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let single = [
            ("period", &self.period),
            ("since", &self.since),
            ("until", &self.until),
            ("tz", &self.tz),
            ("by", &self.by),
        ];
        for (name, value) in single {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        let lists = [
            ("agent", &self.agent),
            ("model", &self.model),
            ("task", &self.task),
            ("session", &self.session),
        ];
        for (name, values) in lists {
            pairs.extend(values.iter().map(|v| (name, v.clone())));
        }
        pairs
    }

    /// Reads query-string pairs; lists may repeat or be comma-separated.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ReportQuery, String> {
        let mut query = ReportQuery::default();
        let split = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        for (name, value) in pairs {
            match name {
                "period" => query.period = Some(value.to_string()),
                "since" => query.since = Some(value.to_string()),
                "until" => query.until = Some(value.to_string()),
                "tz" => query.tz = Some(value.to_string()),
                "by" => query.by = Some(value.to_string()),
                "agent" => query.agent.extend(split(value)),
                "model" => query.model.extend(split(value)),
                "task" => query.task.extend(split(value)),
                "session" => query.session.extend(split(value)),
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}; use period, since, until, tz, agent, model, task, session or by"
                    ));
                }
            }
        }
        Ok(query)
    }

    /// The display zone: the request's, else `default` (config), else UTC.
    /// The error names the field as `flag` spells it (see [`Self::window`]).
    pub fn zone(&self, default: Option<&str>, flag: &str) -> Result<(TimeZone, String), String> {
        let name = self
            .tz
            .clone()
            .or_else(|| default.map(str::to_string))
            .unwrap_or_else(|| "UTC".to_string());
        let tz = TimeZone::get(&name).map_err(|e| {
            format!(
                "{flag}tz {name:?} is not a known IANA time zone ({e}); try Europe/Berlin or UTC"
            )
        })?;
        Ok((tz, name))
    }

    /// The time window asked for; `daily` makes the default look-back 24h
    /// instead of all time. Errors name the field as `flag` spells it
    /// (`--` for the CLI, nothing for query parameters).
    pub fn window(
        &self,
        tz: &TimeZone,
        now: Timestamp,
        daily: bool,
        flag: &str,
    ) -> Result<TimeWindow, String> {
        let bound = |text: &Option<String>, name: &str| -> Result<Option<Timestamp>, String> {
            text.as_deref()
                .map(|t| parse_bound(t, tz).map_err(|e| format!("{flag}{name}: {e}")))
                .transpose()
        };
        let since = bound(&self.since, "since")?;
        let until = bound(&self.until, "until")?;
        let period = match &self.period {
            Some(text) => Period::parse(text).map_err(|e| format!("{flag}period: {e}"))?,
            None if daily => Period::Hours(24),
            None => Period::All,
        };
        let window = match since {
            Some(since) => TimeWindow {
                since: Some(since),
                until,
            },
            None => {
                let end = until.unwrap_or(now);
                let since = period.since(end);
                // A lookback window ends now; an explicit until ends where it says.
                let until = until.or(if period == Period::All {
                    None
                } else {
                    Some(now_inclusive(now))
                });
                TimeWindow { since, until }
            }
        };
        if let (Some(s), Some(u)) = (window.since, window.until)
            && s >= u
        {
            return Err(format!("{flag}since {s} is not before {flag}until {u}"));
        }
        Ok(window)
    }

    /// The grouping keys of `by` (none: one total row).
    pub fn keys(&self) -> Result<Vec<GroupKey>, String> {
        match &self.by {
            Some(text) => GroupKey::parse_list(text),
            None => Ok(Vec::new()),
        }
    }

    pub fn filters(&self) -> Filters {
        Filters {
            agents: self.agent.clone(),
            models: self.model.clone(),
            tasks: self.task.clone(),
            sessions: self.session.clone(),
        }
    }

    /// The whole spec of a plain (not daily) report with one grouping.
    pub fn spec(
        &self,
        default_tz: Option<&str>,
        prefer: Prefer,
        now: Timestamp,
    ) -> Result<ReportSpec, String> {
        self.spec_for(default_tz, prefer, now, false, "")
    }

    /// The spec of a plain report (`daily` false: the `by` grouping) or of
    /// the daily digest (its fixed groupings, a 24h default look-back).
    /// Errors name fields as `flag` spells them.
    pub fn spec_for(
        &self,
        default_tz: Option<&str>,
        prefer: Prefer,
        now: Timestamp,
        daily: bool,
        flag: &str,
    ) -> Result<ReportSpec, String> {
        let (tz, tz_name) = self.zone(default_tz, flag)?;
        let window = self.window(&tz, now, daily, flag)?;
        let groupings = if daily {
            daily_groupings()
        } else {
            vec![self.keys()?]
        };
        Ok(ReportSpec {
            window,
            filters: self.filters(),
            tz,
            tz_name,
            groupings,
            prefer,
        })
    }
}

/// The groupings the daily digest needs, all computed in one pass.
pub fn daily_groupings() -> Vec<Vec<GroupKey>> {
    use GroupKey::*;
    vec![
        vec![],
        vec![Model],
        vec![Agent],
        vec![Hour],
        vec![Hour, Model],
        vec![Hour, Agent],
        vec![Session, Agent, Model, GroupKey::Source],
    ]
}

/// `until` is exclusive; an entry logged this very second still belongs to "now".
fn now_inclusive(now: Timestamp) -> Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(1))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let query = ReportQuery {
            period: Some("7d".into()),
            agent: vec!["a".into(), "b".into()],
            by: Some("day,model".into()),
            ..ReportQuery::default()
        };
        let pairs = query.to_pairs();
        let back = ReportQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(back, query);
        assert!(ReportQuery::from_pairs([("colour", "red")]).is_err());
    }

    #[test]
    fn bad_fields_are_named() {
        let now = Timestamp::now();
        let query = ReportQuery {
            since: Some("yesterday-ish".into()),
            ..ReportQuery::default()
        };
        let err = query.spec(None, Prefer::Log, now).unwrap_err();
        assert!(err.starts_with("since:"), "{err}");
        let query = ReportQuery {
            by: Some("colour".into()),
            ..ReportQuery::default()
        };
        assert!(
            query
                .spec(None, Prefer::Log, now)
                .unwrap_err()
                .contains("colour")
        );
    }
}
