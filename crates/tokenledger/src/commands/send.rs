//! Delivering a rendered report or alert to the channels that `--send` or
//! `[alert] send` name. Everything that can be wrong with the configuration
//! is found before the first message goes out; a channel that then fails
//! does not stop the others.

use crate::context::{Context, invalid, warn};
use tokenledger_core::report::ReportData;
use tokenledger_notify::discord::Discord;
use tokenledger_notify::http::{Client, RetryPolicy};
use tokenledger_notify::slack::Slack;
use tokenledger_notify::telegram::{self, Telegram};
use tokenledger_notify::{Doc, Plan, Secret, openclaw};
use tokenledger_render::daily::{self, DailyReport};
use tokenledger_render::text::TextStyle;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Telegram,
    Discord,
    Slack,
    /// `openclaw:<channel>:<target>`; the target may itself hold colons
    /// (Telegram forum topics: `-100123:topic:42`).
    OpenClaw {
        channel: String,
        target: String,
    },
}

impl Target {
    /// `origin` names the flag or key the list came from, for the error.
    pub fn parse_list(items: &[String], origin: &str) -> anyhow::Result<Vec<Target>> {
        let mut targets = Vec::new();
        for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
            let target = match item {
                "telegram" => Target::Telegram,
                "discord" => Target::Discord,
                "slack" => Target::Slack,
                other => match other
                    .strip_prefix("openclaw:")
                    .and_then(|r| r.split_once(':'))
                {
                    Some((channel, target)) if !channel.is_empty() && !target.is_empty() => {
                        Target::OpenClaw {
                            channel: channel.to_string(),
                            target: target.to_string(),
                        }
                    }
                    _ => {
                        return Err(invalid(format!(
                            "{origin}: unknown channel {other:?}; use telegram, discord, slack \
                             or openclaw:<channel>:<target> (e.g. openclaw:telegram:123456)"
                        )));
                    }
                },
            };
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        Ok(targets)
    }
}

/// What to deliver: terminal text with SGR bold (headings survive as each
/// channel's bold), and optionally a chart.
pub struct Message {
    pub ansi: String,
    pub png: Option<Vec<u8>>,
}

/// One plan per target. `dry_run` tolerates unset secrets (with a warning),
/// since nothing is sent and they are never shown anyway.
pub fn plan_all(
    ctx: &Context,
    targets: &[Target],
    message: &Message,
    dry_run: bool,
) -> anyhow::Result<Vec<Plan>> {
    let doc = Doc::from_ansi(&message.ansi);
    let png = message.png.as_deref();
    let notify = &ctx.config.notify;
    let config = ctx.config_path.display();
    let mut plans = Vec::new();
    for target in targets {
        plans.push(match target {
            Target::Telegram => {
                let section = notify.telegram.clone().unwrap_or_default();
                let chat_id = section.chat_id.clone().ok_or_else(|| {
                    invalid(format!(
                        "telegram: set chat_id in [notify.telegram] in {config} \
                         (the numeric chat id, or @channelname)"
                    ))
                })?;
                let env = section
                    .bot_token_env
                    .as_deref()
                    .unwrap_or("TELEGRAM_BOT_TOKEN");
                let token = secret(env, "telegram", "[notify.telegram] bot_token_env", dry_run)?;
                Telegram {
                    api_url: section
                        .api_url
                        .clone()
                        .unwrap_or(telegram::DEFAULT_API_URL.into()),
                    token,
                    chat_id,
                    thread_id: section.thread_id,
                }
                .plan(&doc, png)
            }
            Target::Discord => {
                let section = notify.discord.clone().unwrap_or_default();
                let env = section
                    .webhook_url_env
                    .as_deref()
                    .unwrap_or("DISCORD_WEBHOOK_URL");
                let url = secret(env, "discord", "[notify.discord] webhook_url_env", dry_run)?;
                Discord {
                    webhook_url: url,
                    api_url: section.api_url.clone(),
                }
                .plan(&doc, png)
            }
            Target::Slack => {
                let section = notify.slack.clone().unwrap_or_default();
                let env = section
                    .webhook_url_env
                    .as_deref()
                    .unwrap_or("SLACK_WEBHOOK_URL");
                let url = secret(env, "slack", "[notify.slack] webhook_url_env", dry_run)?;
                Slack {
                    webhook_url: url,
                    api_url: section.api_url.clone(),
                }
                .plan(&doc, png)
            }
            Target::OpenClaw { channel, target } => {
                let program = std::env::var(openclaw::PROGRAM_ENV)
                    .ok()
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "openclaw".to_string());
                openclaw::plan(&program, channel, target, &doc.plain_text(), png)
            }
        });
    }
    Ok(plans)
}

/// Reads a secret from the variable the config names; the error names the
/// variable and the key, never a value.
fn secret(env: &str, channel: &str, key: &str, dry_run: bool) -> anyhow::Result<Secret> {
    match std::env::var(env) {
        Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim())),
        _ if dry_run => {
            warn(&format!(
                "{channel}: {env} is not set; a real run would fail (dry run goes on)"
            ));
            Ok(Secret::new("https://unset.invalid/unset"))
        }
        _ => Err(invalid(format!(
            "{channel}: the environment variable {env} (named by {key}) is not set; \
             export the secret in it, or name another variable in the config"
        ))),
    }
}

/// The outcome of one channel: how many messages went out, or why not.
pub struct Delivery {
    pub channel: String,
    pub result: Result<usize, String>,
}

/// Prints the plans (`dry_run`) or runs them, each channel independently,
/// and says on stderr what happened to each.
pub fn deliver(plans: &[Plan], dry_run: bool) -> Vec<Delivery> {
    if dry_run {
        for plan in plans {
            print!("{}", plan.dry_run());
        }
        return Vec::new();
    }
    let client = Client::new(RetryPolicy::default());
    plans
        .iter()
        .map(|plan| {
            let result = plan.execute(&client).map_err(|e| e.to_string());
            match &result {
                Ok(n) => {
                    let s = if *n == 1 { "" } else { "s" };
                    eprintln!("tokenledger: sent to {} ({n} message{s})", plan.channel);
                    for note in &plan.notes {
                        warn(&format!("{}: {note}", plan.channel));
                    }
                }
                Err(reason) => {
                    eprintln!(
                        "tokenledger: error: delivery to {} failed: {reason}",
                        plan.channel
                    );
                }
            }
            Delivery {
                channel: plan.channel.clone(),
                result,
            }
        })
        .collect()
}

/// `report daily --send`: the digest as the terminal shows it, plus the
/// main chart. Returns whether every channel got it.
pub fn daily(
    ctx: &Context,
    targets: &[Target],
    report: &DailyReport,
    data: &ReportData,
    dry_run: bool,
) -> anyhow::Result<bool> {
    let style = TextStyle {
        color: true,
        width: None,
    };
    let message = Message {
        ansi: daily::render_text(report, &style),
        png: chart_png(data),
    };
    let plans = plan_all(ctx, targets, &message, dry_run)?;
    Ok(deliver(&plans, dry_run).iter().all(|d| d.result.is_ok()))
}

/// The main chart as PNG, attached where the channel can take files. A
/// chart that cannot be drawn is a warning: the text still goes out.
pub fn chart_png(data: &ReportData) -> Option<Vec<u8>> {
    if data.totals.events == 0 {
        return None;
    }
    match tokenledger_render::png::main_chart_png(data) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            warn(&format!("{e}; sending the text without it"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_openclaw_targets_keeping_their_colons() {
        let list = [
            "telegram",
            " slack",
            "openclaw:telegram:-100:topic:4",
            "telegram",
        ]
        .map(String::from);
        let targets = Target::parse_list(&list, "--send").unwrap();
        assert_eq!(
            targets,
            [
                Target::Telegram,
                Target::Slack,
                Target::OpenClaw {
                    channel: "telegram".into(),
                    target: "-100:topic:4".into()
                }
            ]
        );
        let err = Target::parse_list(&["email".into()], "--send").unwrap_err();
        assert!(
            err.to_string()
                .contains("--send: unknown channel \"email\"")
        );
        assert!(Target::parse_list(&["openclaw:x".into()], "[alert] send").is_err());
    }
}
