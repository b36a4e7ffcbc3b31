//! Delivery through an OpenClaw gateway: `openclaw message send --channel
//! <channel> --target <target> --message <text>` (plus `--media <file>` for
//! the chart). OpenClaw formats and chunks for its channel itself, so it
//! gets the plain text.

use crate::error::Error;
use crate::{Plan, Secret, Step};
use std::process::Command;

/// Overrides the `openclaw` program (tests, non-PATH installs).
pub const PROGRAM_ENV: &str = "TOKENLEDGER_OPENCLAW_BIN";

#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: String,
    pub args: Vec<String>,
    /// Written to a temporary file passed as `--media`.
    pub media: Option<Vec<u8>>,
}

impl Invocation {
    pub fn describe(&self) -> String {
        let mut words = vec![shell_quote(&self.program)];
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        if let Some(media) = &self.media {
            words.push(format!("--media <chart.png, {} bytes>", media.len()));
        }
        words.join(" ")
    }

    pub fn run(&self, secrets: &[Secret]) -> Result<(), Error> {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        let media = match &self.media {
            Some(bytes) => {
                let path = std::env::temp_dir().join(format!(
                    "tokenledger-chart-{}-{}.png",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos())
                ));
                std::fs::write(&path, bytes)
                    .map_err(|e| self.error(format!("writing {}: {e}", path.display())))?;
                command.arg("--media").arg(&path);
                Some(path)
            }
            None => None,
        };
        let output = command.output();
        if let Some(path) = media {
            let _ = std::fs::remove_file(path);
        }
        let output = output.map_err(|e| {
            self.error(format!(
                "cannot run it ({e}); install OpenClaw or set {PROGRAM_ENV}"
            ))
        })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        let detail = last.into_iter().rev().collect::<Vec<_>>().join(" / ");
        Err(self.error(crate::scrub(
            &format!("{}: {detail}", output.status),
            secrets,
        )))
    }

    fn error(&self, reason: String) -> Error {
        Error::Command {
            program: self.program.clone(),
            reason,
        }
    }
}

/// Quotes a word for `sh` so a dry run can be pasted.
fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `channel` and `target` as in `--send openclaw:<channel>:<target>`.
pub fn plan(
    program: &str,
    channel: &str,
    target: &str,
    plain_text: &str,
    png: Option<&[u8]>,
) -> Plan {
    let send = |message: &str| -> Vec<String> {
        [
            "message",
            "send",
            "--channel",
            channel,
            "--target",
            target,
            "--message",
            message,
        ]
        .map(str::to_string)
        .to_vec()
    };
    let mut steps = vec![Step::Command(Invocation {
        program: program.to_string(),
        args: send(plain_text.trim_end()),
        media: None,
    })];
    if let Some(png) = png {
        steps.push(Step::Command(Invocation {
            program: program.to_string(),
            args: send("Tokens by hour"),
            media: Some(png.to_vec()),
        }));
    }
    Plan {
        channel: format!("openclaw:{channel}:{target}"),
        steps,
        secrets: Vec::new(),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_shown_ready_to_paste() {
        let plan = plan("openclaw", "telegram", "-100:topic:4", "it's $5\n", None);
        assert_eq!(
            plan.dry_run(),
            "--- openclaw:telegram:-100:topic:4 1/1\nopenclaw message send --channel telegram --target -100:topic:4 --message 'it'\\''s $5'\n"
        );
    }
}
