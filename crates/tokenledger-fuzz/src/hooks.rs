//! What `tokenledger hook` reads: Claude Code's hook payloads, and the
//! `settings.json` that `hook install|uninstall` edits.

use std::path::Path;
use tokenledger_cleo::hook_payload::{HookPayload, PayloadError};
use tokenledger_cleo::hook_settings::{
    EVENTS, Json, add_hooks, is_ours, parse_settings, remove_hooks,
};
use tokenledger_cleo::track::prompt_hash;
use tokenledger_cleo::transcript::task_ids;

pub fn hook_payload(data: &[u8]) {
    let payload = match HookPayload::parse(data) {
        Ok(payload) => payload,
        Err(PayloadError::NotJson(_) | PayloadError::NoSession { .. }) => return,
    };
    assert!(!payload.session.is_empty());
    if let Some(prompt) = payload.spawn_prompt() {
        for id in task_ids(prompt) {
            assert!(prompt.contains(&id), "{id} in {prompt:?}");
            assert!(
                id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
        }
        assert_eq!(prompt_hash(prompt).len(), 16);
    }
    if let Some(path) = payload.subagent_transcript()
        && payload.str("/agent_transcript_path").is_none()
    {
        let id = payload
            .str("/agent_id")
            .expect("the path comes from the agent id");
        assert!(path.ends_with(format!("agent-{id}.jsonl")), "{path:?}");
    }
}

const COMMAND: &str = "/opt/bin/tokenledger hook claude-code";

/// On settings it accepts: what install writes reads back as written,
/// installing twice changes nothing, uninstall removes every handler of
/// ours and nothing else, and install then uninstall gives back the
/// original tree, and the original bytes when they were written as we write.
pub fn hook_settings(data: &[u8]) {
    let path = Path::new("settings.json");
    let Ok((root, style)) = parse_settings(path, data) else {
        return;
    };
    let reread = |root: &Json, style: &tokenledger_cleo::hook_settings::Style| {
        let text = style.render(root);
        let (back, back_style) = parse_settings(path, text.as_bytes())
            .unwrap_or_else(|e| panic!("{text:?} is refused: {e}"));
        assert_eq!(&back, root, "{text:?}");
        assert_eq!(back_style.render(&back), text);
        text
    };
    let original = reread(&root, &style);

    let mut installed = root.clone();
    let added = add_hooks(&mut installed, COMMAND);
    reread(&installed, &style);
    assert!(add_hooks(&mut installed.clone(), COMMAND).is_empty());

    let mut removed = installed.clone();
    remove_hooks(&mut removed);
    assert_eq!(
        add_hooks(&mut removed.clone(), COMMAND).added.len(),
        EVENTS.len()
    );
    let (ours, others) = handlers(&root);
    assert_eq!(
        handlers(&removed),
        (0, others),
        "{}",
        style.render(&removed)
    );
    if ours == 0 && restorable(&root) {
        assert_eq!(added.added.len(), EVENTS.len());
        assert_eq!(removed, root, "{}", style.render(&removed));
        if original.as_bytes() == data {
            assert_eq!(style.render(&removed), original);
        }
    }
}

/// Install adds to an empty (or `null`) `hooks` or event list, which
/// uninstall then empties and removes: it cannot tell it was there before.
fn restorable(root: &Json) -> bool {
    match root.get("hooks") {
        None => true,
        Some(hooks @ Json::Object(events)) => {
            !events.is_empty()
                && EVENTS.iter().all(
                    |(event, _)| !matches!(hooks.get(event), Some(Json::Array(g)) if g.is_empty()),
                )
        }
        Some(_) => false,
    }
}

/// Handlers of ours and of others in every group of every event, shadowed
/// duplicate keys included.
fn handlers(root: &Json) -> (usize, usize) {
    let all = |json: &Json, key: &str| -> Vec<Json> {
        match json {
            Json::Object(fields) => fields
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect(),
            _ => Vec::new(),
        }
    };
    let (mut ours, mut others) = (0, 0);
    for hooks in all(root, "hooks") {
        let Json::Object(events) = hooks else {
            continue;
        };
        for (_, groups) in events {
            let Json::Array(groups) = groups else {
                continue;
            };
            for list in groups.iter().flat_map(|g| all(g, "hooks")) {
                let Json::Array(list) = list else { continue };
                for handler in &list {
                    if is_ours(handler) {
                        ours += 1;
                    } else {
                        others += 1;
                    }
                }
            }
        }
    }
    (ours, others)
}
