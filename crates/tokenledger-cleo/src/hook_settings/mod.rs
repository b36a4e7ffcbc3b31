//! The edit `tokenledger hook install|uninstall claude-code` makes to Claude
//! Code's `settings.json`, as pure functions over the file's bytes and tree
//! (the CLI does the reading, backing up and replacing).
//!
//! Claude Code reads hooks from `settings.json`, a file the user and Claude
//! Code itself also edit, so the edit is surgical: keys keep their order,
//! values we do not own are written back unchanged, and anything we cannot
//! read with certainty is left alone.

mod file;
mod json;
#[cfg(test)]
mod tests;

pub use file::{Style, parse_settings};
pub use json::Json;

/// The events `tokenledger hook claude-code` handles, with the matcher each
/// group gets. Session and stop events match every source/reason/agent type
/// when the matcher is left out; `Agent` is the subagent tool's current name
/// and `Task` its name before Claude Code 2.1.
pub const EVENTS: [(&str, Option<&str>); 5] = [
    ("SessionStart", None),
    ("SessionEnd", None),
    ("Stop", None),
    ("SubagentStop", None),
    ("PreToolUse", Some("Task|Agent")),
];

/// How our handlers are recognised on uninstall and re-install, whatever
/// path the binary had when it was installed.
pub const COMMAND_SUFFIX: &str = " hook claude-code";

/// What one install or uninstall did, event by event.
#[derive(Debug, Default)]
pub struct Changes {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Whether `handler` is one `add_hooks` wrote (from any binary path).
pub fn is_ours(handler: &Json) -> bool {
    handler
        .get("command")
        .and_then(Json::as_str)
        .is_some_and(|c| c.trim_end().ends_with(COMMAND_SUFFIX))
}

fn event_label(event: &str, matcher: Option<&str>) -> String {
    match matcher {
        Some(m) => format!("{event} ({m})"),
        None => event.to_string(),
    }
}

/// Adds one group per event unless one of ours is already there; an existing
/// one with another binary path is pointed at this binary, leaving the
/// group's matcher as the user may have tuned it.
pub fn add_hooks(root: &mut Json, command: &str) -> Changes {
    let mut changes = Changes::default();
    let Some(hooks) = root.entry_or_insert("hooks", Json::Object(Vec::new())) else {
        return changes; // not an object: parse_settings already refused it
    };
    if matches!(hooks, Json::Null) {
        *hooks = Json::Object(Vec::new());
    }
    for (event, matcher) in EVENTS {
        let Some(Json::Array(groups)) = hooks.entry_or_insert(event, Json::Array(Vec::new()))
        else {
            continue;
        };
        let existing = groups
            .iter_mut()
            .filter_map(|g| match g.get_mut("hooks") {
                Some(Json::Array(handlers)) => Some(handlers),
                _ => None,
            })
            .flat_map(|handlers| handlers.iter_mut())
            .find(|h| is_ours(h));
        match existing {
            Some(handler) => {
                if handler.get("command").and_then(Json::as_str) != Some(command) {
                    handler.set("command", Json::String(command.to_string()));
                    changes.updated.push(event_label(event, matcher));
                }
            }
            None => {
                let mut group = Vec::new();
                if let Some(m) = matcher {
                    group.push(("matcher".to_string(), Json::String(m.to_string())));
                }
                let handler = Json::Object(vec![
                    ("type".to_string(), Json::String("command".to_string())),
                    ("command".to_string(), Json::String(command.to_string())),
                ]);
                group.push(("hooks".to_string(), Json::Array(vec![handler])));
                groups.push(Json::Object(group));
                changes.added.push(event_label(event, matcher));
            }
        }
    }
    changes
}

/// Removes our handlers from every event; a group, event or `hooks` object
/// goes only when our removal is what emptied it.
pub fn remove_hooks(root: &mut Json) -> Changes {
    let mut changes = Changes::default();
    let Some(Json::Object(events)) = root.get_mut("hooks") else {
        return changes;
    };
    // By position: a duplicate key Claude Code ignores is still the user's.
    let mut emptied = Vec::new();
    for (at, (event, value)) in events.iter_mut().enumerate() {
        let Json::Array(groups) = value else { continue };
        let mut removed_here = false;
        groups.retain_mut(|group| {
            let Some(Json::Array(handlers)) = group.get_mut("hooks") else {
                return true;
            };
            let before = handlers.len();
            handlers.retain(|h| !is_ours(h));
            let removed = handlers.len() < before;
            removed_here |= removed;
            !(removed && handlers.is_empty())
        });
        if removed_here {
            changes.removed.push(event.clone());
            if groups.is_empty() {
                emptied.push(at);
            }
        }
    }
    let mut at = 0..;
    events.retain(|_| !emptied.contains(&at.next().unwrap_or_default()));
    if !emptied.is_empty()
        && events.is_empty()
        && let Json::Object(fields) = root
        && let Some(at) = fields.iter().rposition(|(key, _)| key == "hooks")
    {
        fields.remove(at);
    }
    changes
}
