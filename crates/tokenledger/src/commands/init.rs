use crate::context::Context;
use anyhow::Context as _;
use std::process::ExitCode;
use tokenledger_core::config::EXAMPLE_CONFIG;

/// Creates what is missing and nothing else, so running it twice changes nothing.
pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    if ctx.home.is_dir() {
        println!("home exists: {}", ctx.home.display());
    } else {
        std::fs::create_dir_all(&ctx.home)
            .with_context(|| format!("creating {}", ctx.home.display()))?;
        println!("created home: {}", ctx.home.display());
    }
    if ctx.config_path.exists() {
        println!("config exists: {}", ctx.config_path.display());
    } else {
        if let Some(dir) = ctx.config_path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        write_new(&ctx.config_path, EXAMPLE_CONFIG)?;
        println!("wrote example config: {}", ctx.config_path.display());
    }
    println!("register: {}", ctx.register().path().display());
    Ok(ExitCode::SUCCESS)
}

/// `create_new` so a config written by someone else in the meantime is never overwritten.
fn write_new(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
