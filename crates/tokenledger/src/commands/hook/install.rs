//! `tokenledger hook install|uninstall AGENT`.
//!
//! Claude Code reads hooks from `settings.json`, a file the user and Claude
//! Code itself also edit, so the edit is surgical: keys keep their order,
//! values we do not own are written back unchanged, the previous file is kept
//! as a backup, and the new one replaces it atomically. Anything we cannot
//! read with certainty is left alone.

use super::HookAgent;
use super::ordered_json::Json;
use super::settings_file::{Style, parse_settings, write_backup, write_replacing};
use crate::context::{Context, invalid};
use anyhow::Context as _;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger hook install claude-code            # ~/.claude/settings.json (or $CLAUDE_CONFIG_DIR)\n  \
    tokenledger hook install claude-code --project  # ./.claude/settings.json\n  \
    tokenledger hook install openclaw >> AGENTS.md  # prints the AGENTS.md section")]
pub struct InstallArgs {
    #[arg(value_enum)]
    pub agent: HookAgent,
    /// Claude Code: this project's ./.claude/settings.json instead of the user's settings
    #[arg(long)]
    pub project: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[arg(value_enum)]
    pub agent: HookAgent,
    /// Claude Code: this project's ./.claude/settings.json instead of the user's settings
    #[arg(long)]
    pub project: bool,
}

/// The events `tokenledger hook claude-code` handles, with the matcher each
/// group gets. Session and stop events match every source/reason/agent type
/// when the matcher is left out; `Agent` is the subagent tool's current name
/// and `Task` its name before Claude Code 2.1.
const EVENTS: [(&str, Option<&str>); 5] = [
    ("SessionStart", None),
    ("SessionEnd", None),
    ("Stop", None),
    ("SubagentStop", None),
    ("PreToolUse", Some("Task|Agent")),
];

/// How our handlers are recognised on uninstall and re-install, whatever
/// path the binary had when it was installed.
const COMMAND_SUFFIX: &str = " hook claude-code";

pub fn install(ctx: &Context, args: InstallArgs) -> anyhow::Result<ExitCode> {
    match args.agent {
        HookAgent::ClaudeCode => {
            let command = format!("{}{COMMAND_SUFFIX}", super::this_binary_for_shell()?);
            let path = settings_path(args.project)?;
            edit_settings(
                &path,
                |root| add_hooks(root, &command),
                |changes| describe_install(&path, &command, changes),
            )
        }
        HookAgent::Openclaw => {
            reject_project(args.project)?;
            super::openclaw::print_agents_section(ctx)
        }
    }
}

pub fn uninstall(_ctx: &Context, args: UninstallArgs) -> anyhow::Result<ExitCode> {
    match args.agent {
        HookAgent::ClaudeCode => {
            let path = settings_path(args.project)?;
            if !path.exists() {
                println!(
                    "No tokenledger hooks to remove: {} does not exist.",
                    path.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            edit_settings(&path, remove_hooks, |changes| {
                describe_uninstall(&path, changes)
            })
        }
        HookAgent::Openclaw => {
            reject_project(args.project)?;
            println!(
                "Nothing to remove: `hook install openclaw` only printed a section for AGENTS.md \
                 and changed no file. Delete the \"Session-End Token Logging\" section from \
                 AGENTS.md by hand if you no longer want agents to log."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn reject_project(project: bool) -> anyhow::Result<()> {
    if project {
        return Err(invalid(
            "--project applies to claude-code only; OpenClaw has no project settings file",
        ));
    }
    Ok(())
}

/// `--project`: `./.claude/settings.json`. Otherwise the first entry of
/// `CLAUDE_CONFIG_DIR` (the one Claude Code itself uses), else `~/.claude`.
fn settings_path(project: bool) -> anyhow::Result<PathBuf> {
    if project {
        let cwd = std::env::current_dir().context("finding the current directory")?;
        return Ok(cwd.join(".claude").join("settings.json"));
    }
    let env = tokenledger_sources::Environment::from_process();
    let dir = match env.path_list("CLAUDE_CONFIG_DIR").into_iter().next() {
        // ccusage also accepts the `projects/` dir there; settings sit beside it.
        Some(dir) if dir.file_name().is_some_and(|n| n == "projects") => {
            dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf)
        }
        Some(dir) => dir,
        None => env.home.join(".claude"),
    };
    Ok(dir.join("settings.json"))
}

/// What one install or uninstall did, event by event.
#[derive(Debug, Default)]
struct Changes {
    added: Vec<String>,
    updated: Vec<String>,
    removed: Vec<String>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Read, change, and (only if something changed) back up and replace the file.
fn edit_settings(
    path: &Path,
    change: impl FnOnce(&mut Json) -> Changes,
    describe: impl FnOnce(&Changes) -> String,
) -> anyhow::Result<ExitCode> {
    // A symlinked settings file (dotfile managers) is edited where it points,
    // so the link survives the rename.
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .with_context(|| format!("following the symlink {}", path.display()))?,
        _ => path.to_path_buf(),
    };
    let original = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let (mut root, style) = match &original {
        Some(bytes) => parse_settings(&path, bytes)?,
        None => (Json::Object(Vec::new()), Style::default()),
    };
    let changes = change(&mut root);
    if changes.is_empty() {
        println!("{}", describe(&changes));
        return Ok(ExitCode::SUCCESS);
    }
    let text = style.render(&root)?;
    let backup = match &original {
        Some(bytes) => Some(write_backup(&path, bytes)?),
        None => None,
    };
    write_replacing(&path, text.as_bytes(), original.as_deref())?;
    println!("{}", describe(&changes));
    if let Some(backup) = backup {
        println!("Backup of the previous file: {}", backup.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_install(path: &Path, command: &str, changes: &Changes) -> String {
    if changes.is_empty() {
        return format!(
            "tokenledger's Claude Code hooks are already installed in {}; nothing changed.",
            path.display()
        );
    }
    let mut out = format!(
        "Installed tokenledger's Claude Code hooks in {}:",
        path.display()
    );
    if !changes.added.is_empty() {
        out += &format!("\n  added:   {}", changes.added.join(", "));
    }
    if !changes.updated.is_empty() {
        out += &format!(
            "\n  updated: {} (the binary had moved)",
            changes.updated.join(", ")
        );
    }
    out += &format!("\n  each runs: {command}");
    out
}

fn describe_uninstall(path: &Path, changes: &Changes) -> String {
    if changes.is_empty() {
        format!(
            "No tokenledger hooks to remove in {}; nothing changed.",
            path.display()
        )
    } else {
        format!(
            "Removed tokenledger's Claude Code hooks from {}: {}",
            path.display(),
            changes.removed.join(", ")
        )
    }
}

// ---------------------------------------------------------------------------
// The edits

fn is_ours(handler: &Json) -> bool {
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
fn add_hooks(root: &mut Json, command: &str) -> Changes {
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
fn remove_hooks(root: &mut Json) -> Changes {
    let mut changes = Changes::default();
    let Some(Json::Object(events)) = root.get_mut("hooks") else {
        return changes;
    };
    let mut emptied_events = Vec::new();
    for (event, value) in events.iter_mut() {
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
                emptied_events.push(event.clone());
            }
        }
    }
    events.retain(|(event, _)| !emptied_events.contains(event));
    if !emptied_events.is_empty()
        && events.is_empty()
        && let Json::Object(fields) = root
    {
        fields.retain(|(key, _)| key != "hooks");
    }
    changes
}

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;
