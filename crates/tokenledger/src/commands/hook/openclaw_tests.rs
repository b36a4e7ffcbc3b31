//! The announce parser on real-shaped lines, and the AGENTS.md section.

use super::*;
use crate::commands::hook::announce::*;

const SEED_SHAPED: &str = "Stats: runtime 12m23s \u{2022} tokens 108.8k (in 1 / out 569) \u{2022} sessionKey agent:main:subagent:17cc9f9e-296e-4c6a-808b-e7d1d946af51 \u{2022} sessionId dc91698c-9113-4c28-8220-7e81d9407ba5 \u{2022} transcript /home/clawdbot/.openclaw/agents/main/sessions/dc91698c-9113-4c28-8220-7e81d9407ba5.jsonl";

fn parse(text: &str) -> AnnounceStats {
    parse_stats_line(find_stats_line(text).expect("a Stats line"))
}

#[test]
fn the_reference_line() {
    assert_eq!(
        parse(SEED_SHAPED),
        AnnounceStats {
            runtime_secs: Some(743),
            tokens_total: Some(108_800),
            tokens_input: Some(1),
            tokens_output: Some(569),
            abbreviated: true,
            cost_usd: None,
            session_key: Some(
                "agent:main:subagent:17cc9f9e-296e-4c6a-808b-e7d1d946af51".into()
            ),
            session_id: Some("dc91698c-9113-4c28-8220-7e81d9407ba5".into()),
            transcript: Some(
                "/home/clawdbot/.openclaw/agents/main/sessions/dc91698c-9113-4c28-8220-7e81d9407ba5.jsonl"
                    .into()
            ),
        }
    );
}

#[test]
fn a_whole_announce_with_cost_and_rounded_in_and_out() {
    let text = "A background task \"research\" just completed successfully.\n\nFindings:\nThe API has 3 endpoints.\n\n\
        Stats: runtime 1h5m \u{2022} tokens 15.2k (in 12.1k / out 3.1k) \u{2022} est $0.05 \u{2022} sessionKey agent:backend:subagent:42\n\n\
        Summarize this naturally for the user.";
    let stats = parse(text);
    assert_eq!(stats.runtime_secs, Some(3900));
    assert_eq!(stats.tokens_total, Some(15_200));
    assert_eq!(stats.tokens_input, Some(12_100));
    assert_eq!(stats.tokens_output, Some(3_100));
    assert!(stats.abbreviated);
    assert_eq!(stats.cost_usd.as_deref(), Some("0.05"));
    assert_eq!(
        stats.session_key.as_deref(),
        Some("agent:backend:subagent:42")
    );
    assert_eq!(stats.session_id, None);
}

#[test]
fn exact_counts_with_thousands_separators_and_dash_separators() {
    let stats = parse(
        "Stats: runtime 45s - tokens 1,234,567 (in 1,000 / out 234) - est $1.20 - sessionKey agent:main:sub-agent - x",
    );
    assert_eq!(stats.runtime_secs, Some(45));
    assert_eq!(stats.tokens_total, Some(1_234_567));
    assert_eq!(stats.tokens_input, Some(1_000));
    assert_eq!(stats.tokens_output, Some(234));
    assert!(!stats.abbreviated);
    assert_eq!(stats.cost_usd.as_deref(), Some("1.20"));
    // ` - ` splits only before a known part, so a key containing one survives.
    assert_eq!(
        stats.session_key.as_deref(),
        Some("agent:main:sub-agent - x")
    );
}

#[test]
fn missing_and_na_fields() {
    let stats =
        parse("Stats: runtime n/a \u{2022} tokens n/a \u{2022} sessionKey agent:main:subagent:9");
    assert_eq!(stats.runtime_secs, None);
    assert_eq!(stats.tokens_total, None);
    assert_eq!(stats.tokens_input, None);
    assert_eq!(stats.tokens_output, None);
    assert_eq!(stats.session_key.as_deref(), Some("agent:main:subagent:9"));

    let stats = parse("Stats: tokens 2.0m (in n/a / out 1.5k)");
    assert_eq!(stats.tokens_total, Some(2_000_000));
    assert_eq!(stats.tokens_input, None);
    assert_eq!(stats.tokens_output, Some(1_500));
    assert_eq!(stats.session_key, None);
}

#[test]
fn chat_formatting_and_case_are_tolerated() {
    let stats = parse(
        "> **Stats:** Runtime 3m0s · Tokens 900 (In 700 / Out 200) · SessionKey agent:ops:main",
    );
    assert_eq!(stats.runtime_secs, Some(180));
    assert_eq!(stats.tokens_total, Some(900));
    assert_eq!(stats.tokens_input, Some(700));
    assert_eq!(stats.tokens_output, Some(200));
    assert_eq!(stats.session_key.as_deref(), Some("agent:ops:main"));
}

#[test]
fn the_last_stats_line_wins_and_text_without_one_has_none() {
    let text = "Findings: quoting an old one\nStats: tokens 1 (in 1 / out 0)\nmore\nStats: tokens 5 (in 3 / out 2)\n";
    assert_eq!(parse(text).tokens_input, Some(3));
    assert_eq!(find_stats_line("no stats here\nStatistics: none"), None);
    assert_eq!(find_stats_line(""), None);
    assert_eq!(find_stats_line("Stat"), None);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "Stats:",
        "Stats: •••",
        "Stats: tokens (((",
        "Stats: tokens 99999999999999999999999999k (in 1e400 / out -5)",
        "Stats: runtime 99999999999999999999h",
        "Stats: est $ • est $abc • cost NaN",
        "Stats: tokens ..k (in .k / out k)",
        "Stats: tokens é (in ü / out 😀) • sessionKey 😀",
    ] {
        let _ = parse(text);
    }
    assert_eq!(parse("Stats: tokens 1e400").tokens_total, None);
    assert_eq!(parse("Stats: est $abc").cost_usd, None);
}

#[test]
fn agent_comes_from_the_session_key() {
    assert_eq!(
        agent_from_session_key("agent:backend:subagent:1"),
        Some("backend")
    );
    assert_eq!(agent_from_session_key("cron:job-1"), None);
    assert_eq!(agent_from_session_key("agent::x"), None);
}

#[test]
fn the_agents_section_uses_our_command() {
    let text = agents_section("/usr/bin/tokenledger", "/data/register.jsonl");
    assert!(text.starts_with("## 📊 Session-End Token Logging (CRITICAL)\n"));
    assert!(text.contains("/usr/bin/tokenledger log --session YOUR_SESSION_KEY"));
    assert!(text.contains("`/data/register.jsonl`"));
    assert!(!text.contains("cat >>"));
}
