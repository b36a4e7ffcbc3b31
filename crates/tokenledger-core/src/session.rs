//! What a source knows about a session apart from its usage events: whether
//! the agent still runs it and when it was last active. The daily digest
//! needs this to list sessions that are running but billed nothing in its
//! window, which no event can show.

use crate::event::SourceKind;
use crate::pricing::canonical_model_name;
use crate::query::{Filters, TimeWindow};
use jiff::Timestamp;
use std::sync::Arc;

/// The status agents use for a session in progress (OpenClaw's `status`).
pub const RUNNING: &str = "running";

/// One session as its agent describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub source: SourceKind,
    /// The same key the session's events carry in `UsageEvent::session`, so
    /// the two can be matched.
    pub session: Arc<str>,
    pub agent_id: Arc<str>,
    /// The model the agent last used, when it says.
    pub model: Option<Arc<str>>,
    /// As the agent spells it (`running`, `done`, `failed`, …); `None` when
    /// it records none.
    pub status: Option<String>,
    /// The agent's own last-activity time for the session.
    pub last_activity: Option<Timestamp>,
}

impl SessionState {
    pub fn is_running(&self) -> bool {
        self.status.as_deref() == Some(RUNNING)
    }

    /// Whether a view of `window` should list this session even without any
    /// event in it: it is still running, or its agent touched it inside the
    /// window.
    pub fn is_active_in(&self, window: &TimeWindow) -> bool {
        self.is_running() || self.last_activity.is_some_and(|t| window.contains(t))
    }

    /// The report's filters, as they would apply to this session's events. A
    /// task filter never matches: agents record no task for a whole session.
    pub fn passes(&self, filters: &Filters) -> bool {
        let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        let model_ok = filters.models.is_empty()
            || self.model.as_deref().is_some_and(|m| {
                let canonical = canonical_model_name(m);
                filters
                    .models
                    .iter()
                    .any(|f| canonical_model_name(f) == canonical)
            });
        filters.tasks.is_empty()
            && model_ok
            && any(&filters.agents, &self.agent_id)
            && any(&filters.sessions, &self.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: Option<&str>, last: Option<&str>) -> SessionState {
        SessionState {
            source: SourceKind::OpenClaw,
            session: "agent:main:main".into(),
            agent_id: "main".into(),
            model: Some("anthropic/claude-sonnet-4-5".into()),
            status: status.map(str::to_string),
            last_activity: last.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn running_or_touched_in_the_window_is_active() {
        let window = TimeWindow {
            since: Some("2026-02-06T00:00:00Z".parse().unwrap()),
            until: Some("2026-02-07T00:00:00Z".parse().unwrap()),
        };
        assert!(state(Some("running"), Some("2026-01-01T00:00:00Z")).is_active_in(&window));
        assert!(state(Some("done"), Some("2026-02-06T10:00:00Z")).is_active_in(&window));
        assert!(!state(Some("done"), Some("2026-02-05T10:00:00Z")).is_active_in(&window));
        assert!(!state(None, None).is_active_in(&window));
    }

    #[test]
    fn filters_apply_as_to_events() {
        let s = state(Some("running"), None);
        let mut filters = Filters::default();
        assert!(s.passes(&filters));
        filters.models = vec!["claude-sonnet-4-5".into()];
        assert!(s.passes(&filters));
        filters.agents = vec!["research".into()];
        assert!(!s.passes(&filters));
        let tasks = Filters {
            tasks: vec!["T1".into()],
            ..Filters::default()
        };
        assert!(!s.passes(&tasks));
    }
}
