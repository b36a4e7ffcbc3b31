//! The daily digest as plain text, in the README's layout without the
//! seed's Telegram markup.

use super::{DailyReport, Named};
use crate::fmt::{bar, cost_of, cost4, pad_left, pad_right, sessions_label, thousands};
use crate::text::TextStyle;
use tokenledger_core::aggregate::Measures;

const BAR_WIDTH: usize = 16;

/// The digest, ending with a newline. Sections with nothing to show are
/// left out; "By Agent" only appears with more than one agent, as in the seed.
pub fn render_text(report: &DailyReport, style: &TextStyle) -> String {
    let bold = |s: &str| paint(s, "1", style);
    let titled = |title: &str, body: String| format!("{}\n{body}", bold(title));
    let mut sections = vec![format!(
        "📊 {}\n📅 {}",
        bold("DAILY TOKEN USAGE REPORT"),
        report.date
    )];
    let active = super::active::lines(report);
    if report.totals.events == 0 {
        let (window, tz) = (&report.window_label, &report.tz_name);
        // Running sessions listed below are sessions, just without usage yet.
        let none = if active.is_some() {
            "No usage"
        } else {
            "No sessions"
        };
        sections.push(format!("{none} in this window ({window} {tz})."));
    } else {
        sections.push(titled("Summary", summary(&report.totals, style)));
        if !report.by_model.is_empty() {
            sections.push(titled("By Model", named_lines(&report.by_model, style)));
        }
        if report.by_agent.len() > 1 {
            sections.push(titled("By Agent", named_lines(&report.by_agent, style)));
        }
        if !report.hours.is_empty() {
            sections.push(titled(
                "Hourly Breakdown (Last 24 Hours)",
                hourly_lines(report, style),
            ));
        }
    }
    if let Some(active) = active {
        sections.push(titled("Active Sessions", active));
    }
    if !report.budgets.is_empty() {
        sections.push(titled(
            "Budgets",
            crate::budget::lines(&report.budgets, style),
        ));
    }
    if let Some(path) = &report.dataset_path {
        sections.push(format!("📁 Dataset: {path}"));
    }
    sections.push(format!(
        "Generated at {} {}",
        report.generated_local, report.tz_name
    ));
    let mut out = sections.join("\n\n");
    out.push('\n');
    out
}

fn summary(totals: &Measures, style: &TextStyle) -> String {
    let t = &totals.tokens;
    let mut lines = vec![format!("Total Tokens: {}", thousands(t.total()))];
    // Percentages of input+output, as the seed computed them; cache traffic
    // is listed on its own lines instead of diluting them.
    let in_out = t.input + t.output;
    if in_out > 0 {
        let pct = |n: u64| n as f64 / in_out as f64 * 100.0;
        lines.push(format!(
            "Input: {} ({:.1}%)",
            thousands(t.input),
            pct(t.input)
        ));
        lines.push(format!(
            "Output: {} ({:.1}%)",
            thousands(t.output),
            pct(t.output)
        ));
    }
    if t.cache_read > 0 {
        lines.push(format!("Cache read: {}", thousands(t.cache_read)));
    }
    if t.cache_write() > 0 {
        lines.push(format!("Cache write: {}", thousands(t.cache_write())));
    }
    let mut cost = cost_text(totals, style);
    if !totals.unpriced_models.is_empty() {
        cost.push_str(&format!(
            " (no price for {})",
            totals.unpriced_models.join(", ")
        ));
    }
    lines.push(format!("Cost: {cost}"));
    lines.push(format!("Sessions: {}", thousands(totals.sessions)));
    let last = lines.len() - 1;
    let corner = |i: usize| match i {
        0 => '┌',
        _ if i == last => '└',
        _ => '├',
    };
    let lines: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{} {l}", corner(i)))
        .collect();
    lines.join("\n")
}

/// `• name  tokens tokens  (n sessions)  $cost`, each column aligned.
fn named_lines(entries: &[Named], style: &TextStyle) -> String {
    let name_w = width(entries.iter().map(|e| e.name.clone()));
    let columns = Columns::new(entries.iter().map(|e| &e.measures));
    let lines: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (tokens, sessions) = columns.cells(i);
            let cost = cost_text(&e.measures, style);
            format!(
                "• {}  {tokens} tokens  {sessions}  {cost}",
                pad_right(&e.name, name_w)
            )
        })
        .collect();
    lines.join("\n")
}

/// Newest hour first, as in the seed, with a bar proportional to tokens.
fn hourly_lines(report: &DailyReport, style: &TextStyle) -> String {
    let clock = |hour: &str| hour.get(11..16).unwrap_or(hour).to_string();
    let mut clocks: Vec<String> = report.hours.iter().map(|h| clock(&h.hour)).collect();
    clocks.sort();
    clocks.dedup();
    // A 24-hour window ending mid-hour holds that hour of both days; the date
    // then tells them apart.
    let dated = clocks.len() < report.hours.len();
    let label = |hour: &str| match hour.get(5..10) {
        Some(day) if dated => format!("{day} {}", clock(hour)),
        _ => clock(hour),
    };
    let max = report
        .hours
        .iter()
        .map(|h| h.measures.tokens.total())
        .max()
        .unwrap_or(0);
    let columns = Columns::new(report.hours.iter().map(|h| &h.measures));
    let lines: Vec<String> = (0..report.hours.len())
        .rev()
        .map(|i| {
            let hour = &report.hours[i];
            let drawn = paint(
                &bar(hour.measures.tokens.total(), max, BAR_WIDTH),
                "36",
                style,
            );
            let (tokens, sessions) = columns.cells(i);
            let cost = cost_text(&hour.measures, style);
            format!(
                "{}  {drawn}  {tokens} tokens {sessions} | {cost}",
                label(&hour.hour)
            )
        })
        .collect();
    lines.join("\n")
}

/// Token counts (right-aligned) and session counts (left-aligned), padded
/// to their widest value so the columns after them line up.
struct Columns {
    tokens: Vec<String>,
    sessions: Vec<String>,
    tokens_w: usize,
    sessions_w: usize,
}

impl Columns {
    fn new<'a>(measures: impl Iterator<Item = &'a Measures> + Clone) -> Columns {
        let tokens: Vec<String> = measures
            .clone()
            .map(|m| thousands(m.tokens.total()))
            .collect();
        let sessions: Vec<String> = measures
            .map(|m| format!("({})", sessions_label(m.sessions)))
            .collect();
        Columns {
            tokens_w: width(tokens.iter().cloned()),
            sessions_w: width(sessions.iter().cloned()),
            tokens,
            sessions,
        }
    }

    fn cells(&self, i: usize) -> (String, String) {
        let tokens = pad_left(&self.tokens[i], self.tokens_w);
        (tokens, pad_right(&self.sessions[i], self.sessions_w))
    }
}

fn width(items: impl Iterator<Item = String>) -> usize {
    items.map(|s| s.chars().count()).max().unwrap_or(0)
}

fn cost_text(m: &Measures, style: &TextStyle) -> String {
    match m.cost_usd.filter(|_| m.unpriced_models.is_empty()) {
        Some(c) => cost4(Some(c)),
        None => paint(&cost_of(m), "33", style),
    }
}

/// SGR-wrapped text when colour is on; the text untouched otherwise.
fn paint(text: &str, sgr: &str, style: &TextStyle) -> String {
    if style.color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const PLAIN: TextStyle = TextStyle {
        color: false,
        width: None,
    };

    fn seed_report() -> DailyReport {
        let path = Some("/srv/ledger/token-usage-daily.json");
        DailyReport::from_data(&fixtures::seed_day(), "2026-02-06", path, "20:00", "UTC")
    }

    #[test]
    fn the_seed_day() {
        insta::assert_snapshot!(render_text(&seed_report(), &PLAIN), @"
            📊 DAILY TOKEN USAGE REPORT
            📅 2026-02-06

            Summary
            ┌ Total Tokens: 19,500
            ├ Input: 16,200 (83.1%)
            ├ Output: 3,300 (16.9%)
            ├ Cost: $0.0855
            └ Sessions: 2

            By Model
            • anthropic/claude-sonnet-4-5  18,000 tokens  (1 session)  $0.0450
            • claude-opus-4-5               1,500 tokens  (1 session)  $0.0405

            By Agent
            • backend-engineer  18,000 tokens  (1 session)  $0.0450
            • main               1,500 tokens  (1 session)  $0.0405

            Hourly Breakdown (Last 24 Hours)
            11:00  █▍                 1,500 tokens (1 session) | $0.0405
            09:00  ████████████████  18,000 tokens (1 session) | $0.0450

            📁 Dataset: /srv/ledger/token-usage-daily.json

            Generated at 20:00 UTC
            ");
    }

    #[test]
    fn unpriced_cache_one_agent_and_a_repeated_hour() {
        let mut report = seed_report();
        report.dataset_path = None;
        report.tz_name = "Europe/Berlin".to_string();
        report.by_agent.truncate(1);
        report.by_model[1].measures =
            fixtures::unpriced(report.by_model[1].measures.clone(), "glm-9");
        report.totals = fixtures::cached(report.totals.clone(), 40_000, 1_000, 500);
        report.totals = fixtures::unpriced(report.totals.clone(), "glm-9");
        report.totals.sessions = 12;
        let mut yesterday = report.hours[1].clone();
        yesterday.hour = "2026-02-05T11:00".to_string();
        yesterday.measures.tokens.input = 40;
        report.hours.insert(0, yesterday);
        insta::assert_snapshot!(render_text(&report, &PLAIN), @"
            📊 DAILY TOKEN USAGE REPORT
            📅 2026-02-06

            Summary
            ┌ Total Tokens: 61,000
            ├ Input: 16,200 (83.1%)
            ├ Output: 3,300 (16.9%)
            ├ Cache read: 40,000
            ├ Cache write: 1,500
            ├ Cost: unpriced (no price for glm-9)
            └ Sessions: 12

            By Model
            • anthropic/claude-sonnet-4-5  18,000 tokens  (1 session)  $0.0450
            • claude-opus-4-5               1,500 tokens  (1 session)  unpriced

            Hourly Breakdown (Last 24 Hours)
            02-06 11:00  █▍                 1,500 tokens (1 session) | $0.0405
            02-06 09:00  ████████████████  18,000 tokens (1 session) | $0.0450
            02-05 11:00  ▎                    340 tokens (1 session) | $0.0405

            Generated at 20:00 Europe/Berlin
            ");
    }

    #[test]
    fn no_sessions() {
        let mut report = seed_report();
        report.totals = Measures {
            cost_usd: Some(0.0),
            ..Measures::default()
        };
        report.by_model.clear();
        report.by_agent.clear();
        report.hours.clear();
        insta::assert_snapshot!(render_text(&report, &PLAIN), @"
            📊 DAILY TOKEN USAGE REPORT
            📅 2026-02-06

            No sessions in this window (2026-02-05 20:00 – 2026-02-06 20:00 UTC).

            📁 Dataset: /srv/ledger/token-usage-daily.json

            Generated at 20:00 UTC
            ");
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!render_text(&seed_report(), &PLAIN).contains('\x1b'));
        let coloured = render_text(
            &seed_report(),
            &TextStyle {
                color: true,
                width: None,
            },
        );
        assert!(coloured.contains("\x1b[1mSummary\x1b[0m"), "{coloured}");
    }
}
