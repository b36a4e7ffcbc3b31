//! What a report asks for: a time window, filters and groupings.

use crate::event::UsageEvent;
use crate::pricing::canonical_model_name;
use jiff::Timestamp;

/// A half-open UTC window `[since, until)`; `None` leaves a side unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl TimeWindow {
    pub const ALL: TimeWindow = TimeWindow {
        since: None,
        until: None,
    };

    pub fn contains(&self, ts: Timestamp) -> bool {
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts < u)
    }

    /// The smallest window holding all of `windows` (and what lies between).
    pub fn union(windows: &[TimeWindow]) -> TimeWindow {
        let mut sinces = windows.iter().map(|w| w.since);
        let mut untils = windows.iter().map(|w| w.until);
        TimeWindow {
            since: if sinces.any(|s| s.is_none()) {
                None
            } else {
                windows.iter().filter_map(|w| w.since).min()
            },
            until: if untils.any(|u| u.is_none()) {
                None
            } else {
                windows.iter().filter_map(|w| w.until).max()
            },
        }
    }

    /// Whether any instant of the UTC calendar month may fall in the window.
    pub fn may_contain_month(&self, year: i16, month: i8) -> bool {
        let Ok(start) =
            jiff::civil::date(year, month, 1).to_zoned_datetime(jiff::tz::TimeZone::UTC)
        else {
            return true;
        };
        let Ok(end) = start.checked_add(jiff::Span::new().months(1)) else {
            return true;
        };
        self.since.is_none_or(|s| end.timestamp() > s)
            && self.until.is_none_or(|u| start.timestamp() < u)
    }
}

/// Exact-match filters; models match by canonical name, so `--model
/// claude-sonnet-4-5` also selects `anthropic/claude-sonnet-4-5-20250929`.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub agents: Vec<String>,
    pub models: Vec<String>,
    pub tasks: Vec<String>,
    pub sessions: Vec<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
            && self.models.is_empty()
            && self.tasks.is_empty()
            && self.sessions.is_empty()
    }

    pub fn canonicalized(mut self) -> Filters {
        for model in &mut self.models {
            *model = canonical_model_name(model);
        }
        self
    }

    /// `canonical_model` is the event's model already canonicalized by the caller (it caches it).
    pub fn accepts(&self, event: &UsageEvent, canonical_model: &str) -> bool {
        let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        any(&self.agents, &event.agent_id)
            && any(&self.models, canonical_model)
            && any(&self.sessions, &event.session)
            && (self.tasks.is_empty()
                || event
                    .task
                    .as_deref()
                    .is_some_and(|t| self.tasks.iter().any(|v| v == t)))
    }
}

/// A dimension rows can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    Hour,
    Day,
    Week,
    Month,
    Model,
    Agent,
    Session,
    Task,
    Project,
    Source,
    AgentKind,
}

impl GroupKey {
    pub const ALL: [GroupKey; 11] = [
        GroupKey::Hour,
        GroupKey::Day,
        GroupKey::Week,
        GroupKey::Month,
        GroupKey::Model,
        GroupKey::Agent,
        GroupKey::Session,
        GroupKey::Task,
        GroupKey::Project,
        GroupKey::Source,
        GroupKey::AgentKind,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Hour => "hour",
            GroupKey::Day => "day",
            GroupKey::Week => "week",
            GroupKey::Month => "month",
            GroupKey::Model => "model",
            GroupKey::Agent => "agent",
            GroupKey::Session => "session",
            GroupKey::Task => "task",
            GroupKey::Project => "project",
            GroupKey::Source => "source",
            GroupKey::AgentKind => "agent_kind",
        }
    }

    pub fn parse(name: &str) -> Option<GroupKey> {
        GroupKey::ALL.into_iter().find(|k| k.name() == name.trim())
    }

    pub fn is_time(self) -> bool {
        matches!(
            self,
            GroupKey::Hour | GroupKey::Day | GroupKey::Week | GroupKey::Month
        )
    }

    pub fn parse_list(text: &str) -> Result<Vec<GroupKey>, String> {
        let mut keys = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let key = GroupKey::parse(part).ok_or_else(|| {
                let known: Vec<_> = GroupKey::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown group key {:?}; use one or more of {}",
                    part.trim(),
                    known.join(", ")
                )
            })?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}
