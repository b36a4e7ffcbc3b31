//! Where a report goes: stdout, or `--output FILE` replaced atomically.

use crate::cli::Format;
use crate::context::invalid;
use anyhow::Context as _;
use std::io::{IsTerminal, Write};
use std::path::Path;
use tokenledger_render::format::ReportFormat;

/// The report renderers' name for `--format` (their table of formats is
/// shared with the collector).
pub fn report_format(format: Format) -> ReportFormat {
    match format {
        Format::Text => ReportFormat::Text,
        Format::Json => ReportFormat::Json,
        Format::Csv => ReportFormat::Csv,
        Format::Markdown => ReportFormat::Markdown,
        Format::Html => ReportFormat::Html,
        Format::Png => ReportFormat::Png,
    }
}

pub fn emit(output: Option<&Path>, format: Format, bytes: &[u8]) -> anyhow::Result<()> {
    let Some(path) = output else {
        let mut stdout = std::io::stdout().lock();
        if format == Format::Png && stdout.is_terminal() {
            return Err(invalid(
                "--format png writes an image, not text; add --output chart.png or redirect stdout to a file",
            ));
        }
        return match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.context("writing the report to stdout"),
        };
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--output: creating the directory {}", dir.display()))?;
    let name = path.file_name().ok_or_else(|| {
        invalid(format!(
            "--output {}: name a file, not a directory",
            path.display()
        ))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    std::fs::write(&tmp, bytes).with_context(|| format!("--output: writing {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| {
            format!(
                "--output: replacing {} (is it a directory?)",
                path.display()
            )
        });
    }
    Ok(())
}
