//! Delivery of tokenledger reports and alerts: Telegram (Bot API, HTML),
//! Discord and Slack (incoming webhooks) and OpenClaw's `openclaw message
//! send`. A channel turns a [`Doc`] into a [`Plan`] of requests, which is
//! either printed (`--dry-run`) or executed with retries.
//!
//! Secrets (bot tokens, webhook URLs) are held as [`Secret`]s: they reach
//! the wire and nothing else. Every URL shown in a dry run, a log line or an
//! error is the redacted one.

pub mod discord;
pub mod doc;
mod error;
pub mod http;
pub mod openclaw;
mod plan;
pub mod slack;
pub mod split;
pub mod telegram;

pub use doc::Doc;
pub use error::Error;
pub use plan::{Plan, Step};

/// A value that must never be printed: its `Debug` and `Display` say `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

pub const REDACTED: &str = "<redacted>";

/// `text` with every secret replaced by `<redacted>`: the last line of
/// defence for text that came from elsewhere (a server's error message, an
/// error from the HTTP library that quotes a URL).
pub fn scrub(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        // A one-character "secret" would blank out the whole message.
        if secret.0.len() >= 4 {
            out = out.replace(&secret.0, REDACTED);
        }
    }
    out
}

/// `https://hooks.slack.com/services/T/B/X` → `https://hooks.slack.com/<redacted>`:
/// a webhook URL's path is its secret.
pub fn redact_url_path(url: &str) -> String {
    match split_origin(url) {
        Some((origin, path)) if !path.is_empty() && path != "/" => format!("{origin}/{REDACTED}"),
        Some((origin, _)) => origin.to_string(),
        None => REDACTED.to_string(),
    }
}

/// `scheme://host[:port]` and the rest, or `None` for text without a scheme.
pub fn split_origin(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let path_start = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    Some((&url[..path_start], &url[path_start..]))
}

/// A webhook URL sent to `api_url`'s scheme and host instead (tests, proxies).
pub fn rebase(url: &str, api_url: Option<&str>) -> String {
    match (api_url, split_origin(url)) {
        (Some(base), Some((_, path))) => format!("{}{path}", base.trim_end_matches('/')),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("123:ABC");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(
            scrub("bot123:ABC/sendMessage", &[s]),
            "bot<redacted>/sendMessage"
        );
    }

    #[test]
    fn webhook_urls_keep_only_their_origin() {
        let url = "https://hooks.slack.com/services/T0/B0/XyZ";
        assert_eq!(redact_url_path(url), "https://hooks.slack.com/<redacted>");
        assert_eq!(redact_url_path("not a url"), "<redacted>");
        assert_eq!(
            rebase(url, Some("http://127.0.0.1:9/")),
            "http://127.0.0.1:9/services/T0/B0/XyZ"
        );
        assert_eq!(rebase(url, None), url);
    }
}
