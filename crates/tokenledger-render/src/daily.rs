//! The Better Claw daily digest ("DAILY TOKEN USAGE REPORT") and its
//! `token-usage-daily.json` dataset, with the seed's bugs fixed: one 24-hour
//! window for every section, unpriced never shown as $0, the real dataset
//! path, the real display zone, and a per-session list in the dataset.

mod active;
mod dataset;
mod text;

pub use dataset::render_dataset;
pub use text::render_text;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokenledger_core::aggregate::{Measures, Row};
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;
use tokenledger_core::session::{self, SessionState};

/// Everything the daily text and dataset show, picked out of a [`ReportData`]
/// computed with the groupings `[]`, `[Model]`, `[Agent]`, `[Hour]`,
/// `[Hour, Model]`, `[Hour, Agent]` and `[Session, Agent, Model]` (optionally
/// `[Session, Agent, Model, Source]`). Fields are public so callers and tests
/// can also build one by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyReport {
    /// The report's date in the display zone, `YYYY-MM-DD`.
    pub date: String,
    pub generated_at: Timestamp,
    /// Generation time on the display zone's clock, e.g. `20:00`.
    pub generated_local: String,
    /// The display zone's name, printed next to every local time.
    pub tz_name: String,
    /// The window on the display zone's clock, e.g. `2026-02-05 20:00 – 2026-02-06 20:00`.
    pub window_label: String,
    /// Where the dataset was written, if it was.
    pub dataset_path: Option<String>,
    pub totals: Measures,
    /// Most tokens first.
    pub by_model: Vec<Named>,
    /// Most tokens first.
    pub by_agent: Vec<Named>,
    /// Oldest first.
    pub hours: Vec<HourBucket>,
    /// Oldest (by last activity) first.
    pub sessions: Vec<SessionEntry>,
    /// Spend against each configured budget (see [`DailyReport::with_budgets`]).
    pub budgets: Vec<tokenledger_core::budget::BudgetStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub measures: Measures,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HourBucket {
    /// The core's hour key on the display zone's clock, `YYYY-MM-DDTHH:00`.
    pub hour: String,
    pub measures: Measures,
    /// Sessions per model in this hour.
    pub models: Vec<(String, u64)>,
    /// Sessions per agent in this hour.
    pub agents: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub session_key: String,
    pub agent_id: String,
    pub model: String,
    /// `register`, `openclaw`, … (see `SourceKind::as_str`).
    pub source: String,
    /// The agent's own status for the session (`running`, `done`, …), when
    /// its source records one.
    pub status: Option<String>,
    /// Usage inside the window: zero for a session that is running but
    /// billed nothing in it. `last_timestamp` is the session's last activity.
    pub measures: Measures,
}

impl SessionEntry {
    pub fn is_running(&self) -> bool {
        self.status.as_deref() == Some(session::RUNNING)
    }
}

impl DailyReport {
    /// Picks the groupings by their keys, so their order in `data` does not
    /// matter; a missing grouping leaves its section empty.
    ///
    /// `generated_local` is the generation time on the display zone's clock
    /// (e.g. `20:00`) and `tz_name` that zone's name; `dataset_path` is the
    /// path the dataset was written to, shown verbatim.
    pub fn from_data(
        data: &ReportData,
        report_date: &str,
        dataset_path: Option<&str>,
        generated_local: &str,
        tz_name: &str,
    ) -> DailyReport {
        use GroupKey::*;
        let named = |keys: &[GroupKey]| -> Vec<Named> {
            rows_of(data, keys)
                .iter()
                .map(|row| Named {
                    name: key(row, keys[0]).to_string(),
                    measures: row.measures.clone(),
                })
                .collect()
        };
        let per_hour = |other: GroupKey, hour: &str| -> Vec<(String, u64)> {
            rows_of(data, &[Hour, other])
                .iter()
                .filter(|row| key(row, Hour) == hour)
                .map(|row| (key(row, other).to_string(), row.measures.sessions))
                .collect()
        };
        let hours = rows_of(data, &[Hour])
            .iter()
            .map(|row| {
                let hour = key(row, Hour);
                HourBucket {
                    hour: hour.to_string(),
                    measures: row.measures.clone(),
                    models: per_hour(Model, hour),
                    agents: per_hour(Agent, hour),
                }
            })
            .collect();
        DailyReport {
            date: report_date.to_string(),
            generated_at: data.generated_at,
            generated_local: generated_local.to_string(),
            tz_name: tz_name.to_string(),
            window_label: window_label(data, tz_name),
            dataset_path: dataset_path.map(str::to_string),
            totals: data.totals.clone(),
            by_model: named(&[Model]),
            by_agent: named(&[Agent]),
            hours,
            sessions: sessions(data),
            budgets: Vec::new(),
        }
    }
}

impl DailyReport {
    /// Adds the "Budgets" block (text) and the `budgets` array (JSON).
    pub fn with_budgets(mut self, budgets: Vec<tokenledger_core::budget::BudgetStatus>) -> Self {
        self.budgets = budgets;
        self
    }

    /// Merges what the sources record about sessions apart from their
    /// events: each listed session gets its status, and a session active in
    /// `data`'s window without any usage in it (running, or touched by its
    /// agent) joins the list with zero tokens. The totals stay the usage
    /// totals: a session that billed nothing adds nothing to them.
    pub fn with_session_states(mut self, data: &ReportData, states: &[SessionState]) -> Self {
        for state in states {
            let source = state.source.as_str();
            let mut listed = false;
            for entry in &mut self.sessions {
                if entry.session_key == *state.session && entry.source == source {
                    entry.status.clone_from(&state.status);
                    listed = true;
                }
            }
            if !listed && state.is_active_in(&data.window) {
                self.sessions.push(SessionEntry {
                    session_key: state.session.to_string(),
                    agent_id: state.agent_id.to_string(),
                    model: state.model.as_deref().unwrap_or("").to_string(),
                    source: source.to_string(),
                    status: state.status.clone(),
                    measures: Measures {
                        cost_usd: Some(0.0),
                        last_timestamp: state.last_activity,
                        ..Measures::default()
                    },
                });
            }
        }
        sort_sessions(&mut self.sessions);
        self
    }
}

/// The standard JSON contract ([`crate::json::render`]) with the digest's
/// session list (`sessions`, each with its status) before `warnings`.
pub fn render_json(data: &ReportData, report: &DailyReport) -> String {
    crate::json::render_with_sessions(data, &report.sessions, &report.budgets)
}

fn rows_of<'a>(data: &'a ReportData, keys: &[GroupKey]) -> &'a [Row] {
    data.groupings
        .iter()
        .find(|(k, _)| k == keys)
        .map_or(&[], |(_, rows)| rows)
}

fn key(row: &Row, wanted: GroupKey) -> &str {
    row.keys
        .iter()
        .find(|(k, _)| *k == wanted)
        .map_or("", |(_, v)| v)
}

fn sessions(data: &ReportData) -> Vec<SessionEntry> {
    use GroupKey::*;
    let is_session_grouping = |keys: &[GroupKey]| {
        keys.iter()
            .filter(|k| **k != Source)
            .copied()
            .collect::<Vec<_>>()
            == [Session, Agent, Model]
    };
    let Some((keys, rows)) = data.groupings.iter().find(|(k, _)| is_session_grouping(k)) else {
        return Vec::new();
    };
    let mut entries: Vec<SessionEntry> = rows
        .iter()
        .map(|row| SessionEntry {
            session_key: key(row, Session).to_string(),
            agent_id: key(row, Agent).to_string(),
            model: key(row, Model).to_string(),
            // A grouping without the source key predates agent logs: its
            // sessions all came from the register.
            source: if keys.contains(&Source) {
                key(row, Source)
            } else {
                "register"
            }
            .to_string(),
            status: None,
            measures: row.measures.clone(),
        })
        .collect();
    sort_sessions(&mut entries);
    entries
}

fn sort_sessions(entries: &mut [SessionEntry]) {
    entries.sort_by(|a, b| {
        (a.measures.last_timestamp, &a.session_key)
            .cmp(&(b.measures.last_timestamp, &b.session_key))
    });
}

/// The window on the display zone's clock. An unknown zone name (the caller
/// resolved it already, so this is unlikely) falls back to UTC rather than
/// failing a report over a label.
fn window_label(data: &ReportData, tz_name: &str) -> String {
    let tz = TimeZone::get(tz_name).unwrap_or(TimeZone::UTC);
    let local = |ts: Timestamp| {
        ts.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let since = data.window.since.map_or("the beginning".to_string(), local);
    let until = data.window.until.map_or("now".to_string(), local);
    format!("{since} – {until}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn groupings_are_found_by_their_keys_not_their_position() {
        let mut data = fixtures::seed_day();
        let expected = DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC");
        data.groupings.reverse();
        let report = DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC");
        assert_eq!(report, expected);
        assert_eq!(report.by_model[0].name, "anthropic/claude-sonnet-4-5");
        assert_eq!(report.by_agent[1].name, "main");
        assert_eq!(report.hours[1].hour, "2026-02-06T11:00");
        assert_eq!(report.hours[1].models, [("claude-opus-4-5".to_string(), 1)]);
        assert_eq!(
            report.hours[0].agents,
            [("backend-engineer".to_string(), 1)]
        );
        assert_eq!(report.sessions[0].session_key, "abc123");
        assert_eq!(report.sessions[1].source, "register");
        assert_eq!(report.window_label, "2026-02-05 20:00 – 2026-02-06 20:00");
    }

    #[test]
    fn the_window_is_labelled_on_the_display_clock() {
        let data = fixtures::seed_day();
        let report = DailyReport::from_data(&data, "2026-02-06", None, "21:00", "Europe/Berlin");
        assert_eq!(report.window_label, "2026-02-05 21:00 – 2026-02-06 21:00");
    }

    #[test]
    fn a_source_key_in_the_session_grouping_is_used() {
        let mut data = fixtures::seed_day();
        for (keys, rows) in &mut data.groupings {
            if keys.contains(&GroupKey::Session) {
                keys.push(GroupKey::Source);
                for row in rows.iter_mut() {
                    row.keys.push((GroupKey::Source, "active".to_string()));
                }
            }
        }
        let report = DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC");
        assert!(report.sessions.iter().all(|s| s.source == "active"));
    }

    #[test]
    fn json_is_the_standard_contract_plus_the_sessions() {
        let data = fixtures::seed_day();
        let report = DailyReport::from_data(&data, "2026-02-06", None, "20:00", "UTC");
        let daily: serde_json::Value = serde_json::from_str(&render_json(&data, &report)).unwrap();
        let mut plain: serde_json::Value =
            serde_json::from_str(&crate::json::render(&data)).unwrap();
        let sessions = &daily["sessions"];
        assert_eq!(sessions[0]["session"], "abc123");
        assert_eq!(sessions[0]["status"], serde_json::Value::Null);
        assert_eq!(sessions[1]["last_activity"], "2026-02-06T11:30:00Z");
        assert_eq!(sessions[1]["total_tokens"], 1500);
        plain["sessions"] = sessions.clone();
        assert_eq!(daily["budgets"], serde_json::json!([]));
        plain["budgets"] = daily["budgets"].clone();
        assert_eq!(daily, plain);
    }
}
