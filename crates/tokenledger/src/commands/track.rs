//! `tokenledger track ...`: CLEO's tier 2, an estimate per spawn boundary,
//! manifest read and skill injection, appended to TOKEN_USAGE.jsonl.

use super::estimate::{cleo_config, cleo_error, estimator};
use crate::context::{Context, invalid, warn};
use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::Map;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use tokenledger_cleo::config::CleoConfig;
use tokenledger_cleo::sessions;
use tokenledger_cleo::track::Tracker;
use tokenledger_cleo::usage::UsageRecord;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger track spawn-start --task T1234 --prompt-file prompt.md --protocol research\n  \
    tokenledger track spawn-end --task T1234 --manifest-entry research-1 --manifest MANIFEST.jsonl\n  \
    tokenledger track manifest-read --task T1235 --entry research-1 --manifest MANIFEST.jsonl\n  \
    tokenledger track skill-inject --task T1234 --skill ct-research-agent --file skills/research.md")]
pub struct TrackArgs {
    #[command(subcommand)]
    pub command: TrackCommand,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct Common {
    /// The CLEO session [default: $CLEO_SESSION_ID, else the open session in SESSIONS.jsonl]
    #[arg(long, global = true)]
    pub session: Option<String>,
    /// `bpe` (calibrated o200k_base) or the seed's `chars4`
    #[arg(long, global = true, default_value = "bpe", value_parser = ["bpe", "chars4"])]
    pub method: String,
    /// The model whose calibration applies [default: config estimate.model, else claude]
    #[arg(long, global = true)]
    pub model: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TrackCommand {
    /// An orchestrator spawns a subagent: estimate its prompt
    #[command(group(ArgGroup::new("input").required(true).args(["prompt_file", "prompt"])))]
    SpawnStart {
        #[arg(long)]
        task: String,
        /// The prompt, from a file
        #[arg(long, value_name = "FILE")]
        prompt_file: Option<PathBuf>,
        /// The prompt text; `-` reads it from standard input
        #[arg(long, value_name = "TEXT")]
        prompt: Option<String>,
        #[arg(long)]
        protocol: Option<String>,
        #[arg(long)]
        skill: Option<String>,
    },
    /// The subagent finished: estimate its output (a file, or its manifest entry)
    #[command(group(ArgGroup::new("output").required(true).args(["output_file", "manifest_entry"])))]
    SpawnEnd {
        #[arg(long)]
        task: String,
        #[arg(long, value_name = "FILE")]
        output_file: Option<PathBuf>,
        #[arg(long, value_name = "ID", requires = "manifest")]
        manifest_entry: Option<String>,
        #[arg(long, value_name = "PATH")]
        manifest: Option<PathBuf>,
    },
    /// A manifest entry was read instead of its full file: both are measured
    ManifestRead {
        #[arg(long)]
        task: String,
        #[arg(long, value_name = "ID")]
        entry: String,
        #[arg(long, value_name = "PATH")]
        manifest: PathBuf,
        /// The full document [default: the entry's "file", relative to the manifest]
        #[arg(long, value_name = "PATH")]
        full_file: Option<PathBuf>,
    },
    /// A skill file was injected into a prompt
    SkillInject {
        #[arg(long)]
        task: String,
        #[arg(long)]
        skill: String,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run(ctx: &Context, args: TrackArgs) -> anyhow::Result<ExitCode> {
    let config = cleo_config(None)?;
    if !config.spawns_on() {
        warn(&format_args!(
            "not tracked: {}",
            config.why_off("spawnLevel")
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let estimator = estimator(ctx, &args.common.method, args.common.model.as_deref())?;
    let tracker = Tracker {
        config: &config,
        estimator: &estimator,
        session: current_session(&config, args.common.session)?,
        now: jiff::Timestamp::now(),
    };
    let record = match args.command {
        TrackCommand::SpawnStart {
            task,
            prompt_file,
            prompt,
            protocol,
            skill,
        } => {
            let (text, source) = match (prompt_file, prompt) {
                (Some(path), _) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading --prompt-file {}", path.display()))?;
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    (text, path.display().to_string())
                }
                (None, Some(text)) if text == "-" => (read_stdin()?, "stdin".to_string()),
                (None, Some(text)) => (text, "prompt".to_string()),
                (None, None) => return Err(invalid("pass --prompt-file FILE or --prompt -")),
            };
            let mut context = Map::new();
            if let Some(p) = protocol {
                context.insert("protocol".into(), p.into());
            }
            if let Some(s) = skill {
                context.insert("skill".into(), s.into());
            }
            tracker.spawn_start(&task, &text, source, context)
        }
        TrackCommand::SpawnEnd {
            task,
            output_file,
            manifest_entry,
            manifest,
        } => match (output_file, manifest_entry, manifest) {
            (Some(file), _, _) => tracker.spawn_end_output(&task, &file),
            (None, Some(entry), Some(manifest)) => {
                tracker.spawn_end_manifest(&task, &manifest, &entry)
            }
            _ => {
                return Err(invalid(
                    "pass --output-file FILE, or --manifest-entry ID with --manifest PATH",
                ));
            }
        },
        TrackCommand::ManifestRead {
            task,
            entry,
            manifest,
            full_file,
        } => tracker.manifest_read(&task, &manifest, &entry, full_file.as_deref()),
        TrackCommand::SkillInject { task, skill, file } => {
            tracker.skill_inject(&task, &skill, &file)
        }
    }
    .map_err(cleo_error)?;
    print_record(&record);
    Ok(ExitCode::SUCCESS)
}

fn print_record(r: &UsageRecord) {
    let method = r
        .context
        .get("estimate")
        .and_then(|e| e.get("method"))
        .and_then(|m| m.as_str())
        .unwrap_or("estimate");
    let mut line = format!(
        "{} {}: ~{} tokens (estimate, {method})",
        r.task_id.as_deref().unwrap_or("-"),
        r.event_type.as_str(),
        r.estimated_tokens
    );
    if let Some(full) = r.context.get("full_file_tokens").and_then(|v| v.as_u64()) {
        let saved = full as i64 - r.estimated_tokens as i64;
        line += &format!("; full file ~{full}, saved ~{saved}");
    }
    println!("{line}");
    if r.session_id.is_none() {
        warn(
            &"no CLEO session is open (run `tokenledger session start` or pass --session); recorded with session_id null",
        );
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the prompt from standard input")?;
    Ok(text)
}

/// `--session`, else `CLEO_SESSION_ID`, else the latest session started and not ended.
fn current_session(config: &CleoConfig, flag: Option<String>) -> anyhow::Result<Option<String>> {
    if let Some(id) = flag.or_else(|| std::env::var("CLEO_SESSION_ID").ok()) {
        return Ok(Some(id).filter(|s| !s.is_empty()));
    }
    let (records, warnings) = sessions::read(&config.sessions_path()).map_err(cleo_error)?;
    warnings.iter().for_each(|w| warn(w));
    Ok(sessions::open_session(&records).map(|r| r.session_id.clone()))
}
