//! Slack incoming webhooks: mrkdwn in section blocks. Incoming webhooks
//! cannot upload files (that needs a bot token and `files.upload`), so the
//! chart is not sent to Slack, and the plan says so.

use crate::doc::Doc;
use crate::http::{Body, Request};
use crate::split::{Markup, split};
use crate::{Plan, Secret, Step, rebase, redact_url_path};
use serde_json::json;

/// A section block's text may be 3,000 characters long; one block per message.
pub const MARKUP: Markup = Markup {
    limit: 3000,
    pre: Some(("```\n", "\n```")),
    bold: ("*", "*"),
    escape: escape_mrkdwn,
    escape_pre,
};

pub const NO_FILES: &str =
    "Slack incoming webhooks cannot upload files; the chart was not attached";

/// Slack's three control characters; mrkdwn has no escape for `*`, `_`,
/// `~` or backticks.
pub fn escape_mrkdwn(text: &str) -> String {
    crate::telegram::escape_html(text)
}

/// Inside a code block a run of three backticks would close it: a zero-width
/// space after each backtick keeps every character while breaking the run.
fn escape_pre(text: &str) -> String {
    escape_mrkdwn(text).replace('`', "`\u{200B}")
}

#[derive(Debug, Clone)]
pub struct Slack {
    pub webhook_url: Secret,
    pub api_url: Option<String>,
}

impl Slack {
    pub fn plan(&self, doc: &Doc, png: Option<&[u8]>) -> Plan {
        let url = rebase(self.webhook_url.expose(), self.api_url.as_deref());
        // The fallback text is what notifications show.
        let fallback = doc
            .blocks
            .first()
            .and_then(|b| b.heading.as_ref().or(b.lines.first()))
            .map(|l| escape_mrkdwn(&l.text()))
            .unwrap_or_default();
        let steps = split(doc, &MARKUP)
            .into_iter()
            .map(|text| {
                let body = json!({
                    "text": fallback,
                    "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
                });
                Step::Http(Request {
                    url: url.clone(),
                    shown_url: redact_url_path(&url),
                    body: Body::Json(body),
                    expect_ok_field: false,
                })
            })
            .collect();
        Plan {
            channel: "slack".into(),
            steps,
            secrets: crate::discord::webhook_secrets(&self.webhook_url),
            notes: png.map(|_| NO_FILES.to_string()).into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_code_blocks_stay_closed() {
        assert_eq!(
            escape_mrkdwn("<!channel> & *x*"),
            "&lt;!channel&gt; &amp; *x*"
        );
        assert_eq!(escape_pre("a```b"), "a`\u{200B}`\u{200B}`\u{200B}b");
    }

    #[test]
    fn a_chart_is_noted_not_sent() {
        let s = Slack {
            webhook_url: Secret::new("https://hooks.slack.com/services/T/B/X"),
            api_url: None,
        };
        let plan = s.plan(&Doc::from_ansi("hi"), Some(b"png"));
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.notes, [NO_FILES]);
        assert!(!plan.dry_run().contains("services/T/B/X"));
    }
}
