//! The `Stats:` line of an OpenClaw subagent announce
//! (`buildSubagentStatsLine`), read tolerantly: OpenClaw drops parts it has
//! no value for, rounds counts (`108.8k`), and chat formatting wraps it.

/// `agent:<id>:...` is how OpenClaw keys every agent session.
pub(super) fn agent_from_session_key(key: &str) -> Option<&str> {
    let mut parts = key.split(':');
    (parts.next() == Some("agent"))
        .then(|| parts.next())
        .flatten()
        .filter(|id| !id.is_empty())
}

/// What a `Stats:` line says; every field is optional because OpenClaw drops
/// the parts it has no value for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct AnnounceStats {
    pub(super) runtime_secs: Option<u64>,
    /// OpenClaw's `totalTokens`: the context size at the end, not consumption.
    pub(super) tokens_total: Option<u64>,
    /// Uncached input of the last run.
    pub(super) tokens_input: Option<u64>,
    pub(super) tokens_output: Option<u64>,
    /// A count was shown rounded (`108.8k`, `1.2m`).
    pub(super) abbreviated: bool,
    /// The `est $…` figure as a plain decimal (`0.05`).
    pub(super) cost_usd: Option<String>,
    pub(super) session_key: Option<String>,
    pub(super) session_id: Option<String>,
    pub(super) transcript: Option<String>,
}

/// The last line that starts with `Stats:`, allowing for chat formatting
/// (`> `, `**Stats:**`, list bullets) around it. The last, because the
/// findings above it are free text that may quote an earlier announce.
pub(super) fn find_stats_line(text: &str) -> Option<&str> {
    text.lines().rev().find_map(|line| {
        let body = line.trim_start_matches(|c: char| c.is_whitespace() || "*>_-#`".contains(c));
        let head = body.get(..6)?;
        head.eq_ignore_ascii_case("stats:")
            .then(|| body[6..].trim_start_matches(['*', '_']).trim())
    })
}

/// Parses the text after `Stats:`; unknown parts are skipped.
pub(super) fn parse_stats_line(line: &str) -> AnnounceStats {
    let mut stats = AnnounceStats::default();
    for part in split_parts(line) {
        let (word, rest) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        let rest = rest.trim();
        match word.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
            "runtime" => stats.runtime_secs = parse_duration(rest),
            "tokens" => parse_tokens(rest, &mut stats),
            "est" | "cost" => stats.cost_usd = parse_usd(rest),
            "sessionkey" => stats.session_key = non_empty(rest),
            "sessionid" => stats.session_id = non_empty(rest),
            "transcript" => stats.transcript = non_empty(rest),
            _ => {}
        }
    }
    stats
}

const KEYWORDS: [&str; 7] = [
    "runtime ",
    "tokens ",
    "est ",
    "cost ",
    "sessionkey ",
    "sessionid ",
    "transcript ",
];

/// OpenClaw joins the parts with ` • `; copies pasted through chat apps and
/// other builds use `·`, `|` or ` - `. A ` - ` only separates when a known
/// part follows, since paths and keys may contain one.
pub(super) fn split_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for piece in line.split(['•', '·', '|']) {
        let mut rest = piece;
        while let Some(at) = find_dash_separator(rest) {
            parts.push(rest[..at].trim());
            rest = &rest[at + 3..];
        }
        parts.push(rest.trim());
    }
    parts.retain(|p| !p.is_empty());
    parts
}

pub(super) fn find_dash_separator(text: &str) -> Option<usize> {
    text.match_indices(" - ").map(|(at, _)| at).find(|&at| {
        let after = text[at + 3..].trim_start().to_ascii_lowercase();
        KEYWORDS.iter().any(|k| after.starts_with(k))
    })
}

/// `45s`, `12m23s`, `1h5m`, `n/a`.
pub(super) fn parse_duration(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut seen = false;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let value: u64 = number.parse().ok()?;
        total = total.saturating_add(value.saturating_mul(unit));
        number.clear();
        seen = true;
    }
    (seen && number.is_empty()).then_some(total)
}

/// `108.8k (in 1 / out 569)`, `n/a`, `1,234 (in 1,000, out 234)`.
pub(super) fn parse_tokens(text: &str, stats: &mut AnnounceStats) {
    let (total, details) = match text.split_once('(') {
        Some((total, details)) => (total, details.trim_end().trim_end_matches(')')),
        None => (text, ""),
    };
    if let Some((value, rounded)) = parse_count(total) {
        stats.tokens_total = Some(value);
        stats.abbreviated |= rounded;
    }
    // Words, not `,`-separated items: a count may itself hold commas (`1,000`).
    let words: Vec<&str> = details
        .split(|c: char| c.is_whitespace() || c == '/' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        let label = pair[0].trim_end_matches(':').to_ascii_lowercase();
        let slot = match label.as_str() {
            "in" | "input" => &mut stats.tokens_input,
            "out" | "output" => &mut stats.tokens_output,
            _ => continue,
        };
        if let Some((value, rounded)) = parse_count(pair[1]) {
            *slot = Some(value);
            stats.abbreviated |= rounded;
        }
    }
}

/// A token count as OpenClaw prints it (`569`, `108.8k`, `1.2m`), also with
/// thousands separators. Returns the value and whether it was rounded.
pub(super) fn parse_count(text: &str) -> Option<(u64, bool)> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | '\u{2009}' | '\u{202f}' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    let cleaned = cleaned.strip_suffix("tokens").unwrap_or(&cleaned);
    let (digits, scale) = match cleaned.char_indices().last()? {
        (at, 'k') => (&cleaned[..at], 1e3),
        (at, 'm') => (&cleaned[..at], 1e6),
        (at, 'b') => (&cleaned[..at], 1e9),
        _ => (cleaned, 1.0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if scale == 1.0
        && let Ok(exact) = digits.parse::<u64>()
    {
        return Some((exact, false));
    }
    let value: f64 = digits.parse().ok()?;
    // A float to u64 cast saturates, so an absurd figure cannot wrap or panic.
    Some(((value * scale).round() as u64, true))
}

/// `$0.05`, `~$1.20`, `0.0412 USD` → `0.05`, `1.20`, `0.0412`.
pub(super) fn parse_usd(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['~', '≈'])
        .trim_start_matches('$')
        .trim_end_matches("USD")
        .trim()
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let valid = !cleaned.is_empty()
        && cleaned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && cleaned.parse::<f64>().is_ok_and(f64::is_finite);
    valid.then_some(cleaned)
}

pub(super) fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && !text.eq_ignore_ascii_case("n/a")).then(|| text.to_string())
}
