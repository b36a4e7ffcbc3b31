//! Discord incoming webhooks: JSON `content` in Discord markdown, the chart
//! as a multipart file upload.

use crate::doc::Doc;
use crate::http::{Body, FilePart, Request};
use crate::split::{Markup, split};
use crate::{Plan, Secret, Step, rebase, redact_url_path};
use serde_json::json;

/// A message's `content` may be 2,000 characters long. Without a code
/// block (where a backtick in a model name would end it early), bodies are
/// escaped markdown like every other line.
pub const MARKUP: Markup = Markup {
    limit: 2000,
    pre: None,
    bold: ("**", "**"),
    escape: escape_markdown,
    escape_pre: escape_markdown,
};

/// Backslash-escapes what Discord markdown would read as formatting,
/// quoting, spoilers, links, mentions or emoji shortcodes, and `#`, `-`,
/// `+` where a line starts (headings, lists). Discord drops a backslash
/// before any punctuation, so the text reads exactly as written.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let always = matches!(
            c,
            '\\' | '*' | '_' | '`' | '~' | '|' | '>' | '[' | ']' | '<' | '@' | ':'
        );
        if always || (i == 0 && matches!(c, '#' | '-' | '+')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone)]
pub struct Discord {
    pub webhook_url: Secret,
    pub api_url: Option<String>,
}

impl Discord {
    pub fn plan(&self, doc: &Doc, png: Option<&[u8]>) -> Plan {
        let url = self.url();
        // Mentions stay text: an agent named `@everyone` must not ping a server.
        let no_mentions = json!({ "parse": [] });
        let mut steps: Vec<Step> = split(doc, &MARKUP)
            .into_iter()
            .map(|content| {
                let body = json!({ "content": content, "allowed_mentions": no_mentions });
                Step::Http(self.request(&url, Body::Json(body)))
            })
            .collect();
        if let Some(png) = png {
            let payload = json!({ "content": "", "allowed_mentions": no_mentions });
            let fields = vec![("payload_json".to_string(), payload.to_string())];
            let file = FilePart {
                field: "files[0]".into(),
                filename: "chart.png".into(),
                content_type: "image/png".into(),
                bytes: png.to_vec(),
            };
            steps.push(Step::Http(
                self.request(&url, Body::Multipart { fields, file }),
            ));
        }
        Plan {
            channel: "discord".into(),
            steps,
            secrets: self.secrets(),
            notes: Vec::new(),
        }
    }

    /// `?wait=true` makes Discord report a rejected message instead of
    /// accepting it silently.
    fn url(&self) -> String {
        let url = rebase(self.webhook_url.expose(), self.api_url.as_deref());
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}wait=true")
    }

    fn request(&self, url: &str, body: Body) -> Request {
        Request {
            url: url.to_string(),
            shown_url: redact_url_path(url),
            body,
            expect_ok_field: false,
        }
    }

    fn secrets(&self) -> Vec<Secret> {
        webhook_secrets(&self.webhook_url)
    }
}

/// The URL and its path: either alone identifies the webhook.
pub(crate) fn webhook_secrets(url: &Secret) -> Vec<Secret> {
    let mut secrets = vec![url.clone()];
    if let Some((_, path)) = crate::split_origin(url.expose()) {
        let path = path.trim_start_matches('/');
        if !path.is_empty() {
            secrets.push(Secret::new(path));
        }
    }
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(
            escape_markdown("*a_b* `c` ~d~ |e| >f"),
            "\\*a\\_b\\* \\`c\\` \\~d\\~ \\|e\\| \\>f"
        );
        assert_eq!(escape_markdown("😀 a-b"), "😀 a-b");
        assert_eq!(escape_markdown("# h"), "\\# h");
    }

    #[test]
    fn the_webhook_is_rebased_and_never_shown() {
        let d = Discord {
            webhook_url: Secret::new("https://discord.com/api/webhooks/1/TOKEN"),
            api_url: Some("http://127.0.0.1:1".into()),
        };
        let plan = d.plan(&Doc::from_ansi("hello @everyone"), None);
        let Step::Http(r) = &plan.steps[0] else {
            panic!()
        };
        assert_eq!(r.url, "http://127.0.0.1:1/api/webhooks/1/TOKEN?wait=true");
        assert_eq!(r.shown_url, "http://127.0.0.1:1/<redacted>");
        assert!(!plan.dry_run().contains("TOKEN"));
        assert!(
            plan.dry_run().contains("hello \\\\@everyone"),
            "{}",
            plan.dry_run()
        );
    }
}
