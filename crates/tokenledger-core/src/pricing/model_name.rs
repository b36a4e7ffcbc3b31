//! Model-name normalization. Sources spell one model many ways
//! (`anthropic/claude-sonnet-4-5`, `us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
//! `claude-sonnet-4.5`); matching must merge those without ever merging two
//! versions (`claude-opus-4` vs `claude-opus-4-1`, `gpt-5` vs `gpt-5-mini`).
//! `scripts/update-prices.py` mirrors these rules when building the snapshot.

/// Bedrock cross-region prefixes (`us.anthropic.…`).
const REGIONS: &[&str] = &["us", "eu", "apac", "global", "jp", "au", "ca", "us-gov"];
/// Bedrock-style vendor prefixes (`anthropic.claude-…`, `zai.glm-4.7`).
const VENDORS: &[&str] = &[
    "anthropic",
    "openai",
    "zai",
    "google",
    "deepseek",
    "mistral",
    "moonshotai",
    "xai",
];

/// The canonical spelling of a model: lowercase, without router/provider
/// prefixes, Bedrock region and version decorations, or a release date.
/// Claude's dotted versions become dashed (`claude-sonnet-4.5` → `claude-sonnet-4-5`).
/// `-latest` is kept: `gpt-5-chat-latest` is a model of its own.
pub fn canonical_model_name(model: &str) -> String {
    let mut cur = normalized_model_name(model);
    loop {
        let next = match split_date(&cur) {
            Some((base, _)) => normalized_model_name(base),
            None => return cur,
        };
        cur = next;
    }
}

/// Like [`canonical_model_name`] but keeping a release date (as `-YYYYMMDD`
/// or `-YYYY-MM-DD`), because a few dated ids are priced differently from
/// their alias (`gpt-4o-2024-05-13`).
pub(crate) fn normalized_model_name(model: &str) -> String {
    let mut cur = model.trim().to_ascii_lowercase();
    // Each pass either shortens the name or removes a '.'/'@', so this ends;
    // iterating to a fixed point is what makes the result idempotent.
    loop {
        let next = pass(&cur);
        if next == cur {
            return cur;
        }
        cur = next;
    }
}

fn pass(name: &str) -> String {
    let mut s = match name.rfind('/') {
        Some(i) => &name[i + 1..],
        None => name,
    }
    .trim();
    s = strip_vendor(s);
    if let Some(rest) = s.strip_suffix("@default") {
        s = rest;
    }
    s = strip_bedrock_version(s);
    let mut out = s.to_string();
    if let Some(at) = out.rfind('@')
        && is_date(&out[at + 1..])
    {
        out.replace_range(at..=at, "-");
    }
    if out.starts_with("claude") && out.contains('.') {
        out = out.replace('.', "-");
    }
    out
}

fn strip_vendor(s: &str) -> &str {
    let mut rest = s;
    if let Some((region, tail)) = rest.split_once('.')
        && REGIONS.contains(&region)
        && tail.starts_with("anthropic.")
    {
        rest = tail;
    }
    if let Some((vendor, tail)) = rest.split_once('.')
        && VENDORS.contains(&vendor)
        && !tail.is_empty()
    {
        return tail;
    }
    s
}

/// `-v1:0`, `-v2`: only after a digit, so `claude-instant-v1` keeps its name.
fn strip_bedrock_version(s: &str) -> &str {
    let Some(i) = s.rfind("-v") else { return s };
    let suffix = &s[i + 2..];
    let (major, minor) = match suffix.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (suffix, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if digits(major) && minor.is_none_or(digits) && s[..i].ends_with(|c: char| c.is_ascii_digit()) {
        &s[..i]
    } else {
        s
    }
}

/// Splits a trailing `-YYYYMMDD` or `-YYYY-MM-DD` release date off a normalized name.
pub(crate) fn split_date(name: &str) -> Option<(&str, &str)> {
    for len in [8, 10] {
        if name.len() > len + 1 && name.is_char_boundary(name.len() - len - 1) {
            let (base, date) = name.split_at(name.len() - len - 1);
            if let Some(date) = date.strip_prefix('-')
                && is_date(date)
                && !base.is_empty()
            {
                return Some((base, date));
            }
        }
    }
    None
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let plausible = |r: &[u8]| r.starts_with(b"20");
    match b.len() {
        8 => digits(b) && plausible(b),
        10 => {
            digits(&b[..4])
                && b[4] == b'-'
                && digits(&b[5..7])
                && b[7] == b'-'
                && digits(&b[8..])
                && plausible(b)
        }
        _ => false,
    }
}

/// Whose price list is the reference for a model, so a reseller's entry
/// never shadows the creator's. `None` for families not tracked here.
pub(crate) fn creator_of(canonical: &str) -> Option<&'static str> {
    const FAMILIES: &[(&[&str], &str)] = &[
        (&["claude"], "anthropic"),
        (&["gpt-", "o1", "o3", "o4", "chatgpt", "codex"], "openai"),
        (&["gemini", "gemma"], "gemini"),
        (&["glm-"], "zai"),
        (&["deepseek"], "deepseek"),
        (&["grok"], "xai"),
        (&["kimi", "moonshot"], "moonshot"),
        (
            &["mistral", "codestral", "devstral", "ministral", "magistral"],
            "mistral",
        ),
    ];
    FAMILIES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| canonical.starts_with(p)))
        .map(|(_, creator)| *creator)
}

/// [`provider_rank`] of a provider that is neither the creator nor a list-price host.
pub(crate) const RESELLER: u8 = 9;

/// 0 = the creator itself, then clouds re-hosting it at list price (best
/// first, as in `scripts/update-prices.py`), [`RESELLER`] = anyone else.
pub(crate) fn provider_rank(canonical: &str, provider: Option<&str>) -> u8 {
    const HOSTS: &[(&str, &[&str])] = &[
        (
            "anthropic",
            &["bedrock_converse", "bedrock", "vertex_ai-anthropic_models"],
        ),
        ("gemini", &["vertex_ai-language-models", "vertex_ai"]),
        ("openai", &["azure"]),
    ];
    let (Some(creator), Some(provider)) = (creator_of(canonical), provider) else {
        return RESELLER;
    };
    if provider == creator {
        return 0;
    }
    HOSTS
        .iter()
        .find(|(c, _)| *c == creator)
        .and_then(|(_, hosts)| hosts.iter().position(|h| *h == provider))
        .map_or(RESELLER, |i| i as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_decorations() {
        let cases = [
            ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
            ("Claude-Sonnet-4.5", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            (
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "claude-sonnet-4-5",
            ),
            ("anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
            ("openrouter/anthropic/claude-opus-4.1", "claude-opus-4-1"),
            ("vertex_ai/claude-opus-4-7@default", "claude-opus-4-7"),
            ("zai/glm-4.7", "glm-4.7"),
            ("google/gemini-2.5-pro", "gemini-2.5-pro"),
            ("openai/gpt-5.1-codex-2025-11-13", "gpt-5.1-codex"),
            ("gpt-5-chat-latest", "gpt-5-chat-latest"),
            ("claude-instant-v1", "claude-instant-v1"),
            ("glm-4-7-251222", "glm-4-7-251222"),
            ("gemini-exp-1206", "gemini-exp-1206"),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_model_name(raw), want, "{raw}");
        }
    }

    #[test]
    fn normalized_keeps_the_date() {
        assert_eq!(
            normalized_model_name("openai/GPT-4o-2024-05-13"),
            "gpt-4o-2024-05-13"
        );
        assert_eq!(
            normalized_model_name("claude-sonnet-4-5@20250929"),
            "claude-sonnet-4-5-20250929"
        );
    }

    #[test]
    fn versions_are_not_dates() {
        assert_eq!(split_date("claude-opus-4-1"), None);
        assert_eq!(split_date("-20250514"), None);
        assert_eq!(
            split_date("claude-opus-4-20250514"),
            Some(("claude-opus-4", "20250514"))
        );
    }

    proptest! {
        #[test]
        fn canonical_is_total_and_idempotent(s in "\\PC{0,40}") {
            let once = canonical_model_name(&s);
            prop_assert_eq!(canonical_model_name(&once), once.clone());
            let norm = normalized_model_name(&s);
            prop_assert_eq!(normalized_model_name(&norm), norm);
        }

        #[test]
        fn canonical_is_idempotent_on_model_like_names(
            s in "([a-z]{1,6}[./@]){0,3}(claude|gpt|glm)-[0-9a-z.@:-]{0,24}"
        ) {
            let once = canonical_model_name(&s);
            prop_assert_eq!(canonical_model_name(&once), once);
        }
    }
}
