//! `tokenledger hook install|uninstall AGENT`.
//!
//! The edit of Claude Code's `settings.json` is `tokenledger_cleo::hook_settings`'
//! (surgical: keys keep their order, values we do not own are written back
//! unchanged); here the previous file is kept as a backup, and the new one
//! replaces it atomically.

use super::HookAgent;
use super::settings_file::{write_backup, write_replacing};
use crate::context::{Context, invalid};
use anyhow::Context as _;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokenledger_cleo::hook_settings::{
    COMMAND_SUFFIX, Changes, Json, Style, add_hooks, parse_settings, remove_hooks,
};

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
        Some(bytes) => parse_settings(&path, bytes).map_err(invalid)?,
        None => (Json::Object(Vec::new()), Style::default()),
    };
    let changes = change(&mut root);
    if changes.is_empty() {
        println!("{}", describe(&changes));
        return Ok(ExitCode::SUCCESS);
    }
    let text = style.render(&root);
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
