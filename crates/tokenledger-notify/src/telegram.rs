//! Telegram Bot API: `sendMessage` with `parse_mode: HTML`, `sendPhoto`
//! as multipart for the chart.

use crate::doc::Doc;
use crate::http::{Body, FilePart, Request};
use crate::split::{Markup, split};
use crate::{Plan, REDACTED, Secret, Step};
use serde_json::{Value, json};

pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// A message's text may be 4,096 characters long.
pub const MARKUP: Markup = Markup {
    limit: 4096,
    pre: Some(("<pre>", "</pre>")),
    bold: ("<b>", "</b>"),
    escape: escape_html,
    escape_pre: escape_html,
};

/// The three characters Telegram's HTML mode requires escaped; `"` only
/// matters inside attributes, which we never write.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct Telegram {
    pub api_url: String,
    pub token: Secret,
    pub chat_id: String,
    pub thread_id: Option<i64>,
}

impl Telegram {
    pub fn plan(&self, doc: &Doc, png: Option<&[u8]>) -> Plan {
        let mut steps: Vec<Step> = split(doc, &MARKUP)
            .into_iter()
            .map(|text| {
                let mut body = json!({
                    "chat_id": self.chat_id_value(),
                    "text": text,
                    "parse_mode": "HTML",
                    "disable_web_page_preview": true,
                });
                if let Some(thread) = self.thread_id {
                    body["message_thread_id"] = json!(thread);
                }
                Step::Http(self.request("sendMessage", Body::Json(body)))
            })
            .collect();
        if let Some(png) = png {
            let mut fields = vec![("chat_id".to_string(), self.chat_id.clone())];
            if let Some(thread) = self.thread_id {
                fields.push(("message_thread_id".to_string(), thread.to_string()));
            }
            let file = FilePart {
                field: "photo".into(),
                filename: "chart.png".into(),
                content_type: "image/png".into(),
                bytes: png.to_vec(),
            };
            steps.push(Step::Http(
                self.request("sendPhoto", Body::Multipart { fields, file }),
            ));
        }
        Plan {
            channel: "telegram".into(),
            steps,
            secrets: vec![self.token.clone()],
            notes: Vec::new(),
        }
    }

    /// Numeric ids go out as numbers, `@channel` names as strings.
    fn chat_id_value(&self) -> Value {
        match self.chat_id.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(self.chat_id),
        }
    }

    fn request(&self, method: &str, body: Body) -> Request {
        let base = self.api_url.trim_end_matches('/');
        Request {
            url: format!("{base}/bot{}/{method}", self.token.expose()),
            shown_url: format!("{base}/bot{REDACTED}/{method}"),
            body,
            expect_ok_field: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Line;

    #[test]
    fn html_is_escaped_everywhere() {
        assert_eq!(
            escape_html("<b>&amp;</b> 😀"),
            "&lt;b&gt;&amp;amp;&lt;/b&gt; 😀"
        );
    }

    #[test]
    fn one_request_per_piece_and_the_token_only_in_the_real_url() {
        let tg = Telegram {
            api_url: DEFAULT_API_URL.into(),
            token: Secret::new("123:SECRET"),
            chat_id: "-10042".into(),
            thread_id: Some(7),
        };
        let doc = Doc {
            blocks: vec![crate::doc::Block {
                heading: None,
                lines: vec![Line::plain("<b>hi</b>")],
                pre: false,
            }],
        };
        let plan = tg.plan(&doc, Some(b"\x89PNG"));
        assert_eq!(plan.steps.len(), 2);
        let Step::Http(first) = &plan.steps[0] else {
            panic!()
        };
        assert_eq!(
            first.url,
            "https://api.telegram.org/bot123:SECRET/sendMessage"
        );
        let Body::Json(body) = &first.body else {
            panic!()
        };
        assert_eq!(body["chat_id"], -10042);
        assert_eq!(body["text"], "&lt;b&gt;hi&lt;/b&gt;");
        assert_eq!(body["message_thread_id"], 7);
        let shown = plan.dry_run();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("bot<redacted>/sendPhoto"), "{shown}");
    }
}
