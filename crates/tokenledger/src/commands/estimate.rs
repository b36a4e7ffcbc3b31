//! `tokenledger estimate [FILE|-]`: a token estimate, labelled as one. Also
//! the helpers the CLEO commands share (their config, estimator, errors).

use crate::context::{Context, invalid, warn};
use anyhow::Context as _;
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokenledger_cleo::CleoError;
use tokenledger_cleo::config::{CleoConfig, CleoEnv};
use tokenledger_cleo::estimate::{Estimator, Method};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    tokenledger estimate prompt.md\n  \
    git diff | tokenledger estimate - --model claude-opus-4-7\n  \
    tokenledger estimate prompt.md --method chars4")]
pub struct EstimateArgs {
    /// The file to count; `-` or nothing reads standard input
    pub file: Option<PathBuf>,
    /// `bpe`: o200k_base BPE times the model family's calibration; `chars4`: the seed's bytes / 4
    #[arg(long, default_value = "bpe", value_parser = ["bpe", "chars4"])]
    pub method: String,
    /// The model whose calibration factor applies [default: config estimate.model, else claude]
    #[arg(long)]
    pub model: Option<String>,
}

pub fn run(ctx: &Context, args: EstimateArgs) -> anyhow::Result<ExitCode> {
    let estimator = estimator(ctx, &args.method, args.model.as_deref())?;
    let bytes = match args.file.as_deref() {
        None => read_stdin()?,
        Some(p) if p == Path::new("-") => read_stdin()?,
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
    };
    let e = estimator.bytes(&bytes);
    let how = match (e.method, &e.family) {
        (Method::Chars4, _) => "bytes / 4, rounded up (the seed's wc -c / 4)".to_string(),
        (Method::Bpe, Some(family)) => format!(
            "o200k_base BPE {} × {} calibration for {family}",
            e.raw, e.factor
        ),
        (Method::Bpe, None) => format!("o200k_base BPE {}, uncalibrated", e.raw),
    };
    println!("~{} tokens (estimate: {how}; {} bytes)", e.tokens, e.bytes);
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    Ok(bytes)
}

/// The estimator the config and flags ask for.
pub(super) fn estimator(
    ctx: &Context,
    method: &str,
    model: Option<&str>,
) -> anyhow::Result<Estimator> {
    let method = Method::parse(method)
        .ok_or_else(|| invalid(format!("--method {method:?}: use bpe or chars4")))?;
    Estimator::new(method, model, &ctx.config.estimate).map_err(|e| {
        cleo_error(e).context(format!("in [estimate] of {}", ctx.config_path.display()))
    })
}

/// The CLEO configuration for the working directory, its warnings printed.
pub(super) fn cleo_config(cwd: Option<&Path>) -> anyhow::Result<CleoConfig> {
    let cwd = match cwd {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_dir().context("reading the working directory")?,
    };
    let (config, warnings) = CleoConfig::discover(&cwd, &CleoEnv::from_process());
    for warning in &warnings {
        warn(warning);
    }
    Ok(config)
}

/// Invalid input stays exit 2 through anyhow.
pub(super) fn cleo_error(e: CleoError) -> anyhow::Error {
    if e.is_invalid_input() {
        invalid(e.to_string())
    } else {
        e.into()
    }
}
