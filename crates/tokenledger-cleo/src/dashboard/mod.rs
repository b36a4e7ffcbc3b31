//! The seed's dashboard (`metrics tokens`, `--by-task`, `metrics savings`)
//! as text, and as JSON following the report contract (`schema_version`,
//! `generated_at`, `period`, `group_by`, `rows`, `totals`, `warnings`).
//! Estimates are marked `~` in text and `"estimated": true` or by their
//! `basis` in JSON.

use crate::attribution::TaskRow;
use crate::savings::Savings;
use crate::sessions::SessionRecord;
use crate::usage::UsageRecord;
use jiff::Timestamp;
use tokenledger_core::event::TokenCounts;
use tokenledger_render::thousands;

/// Everything the three views show, for one metrics directory and window.
pub struct Dashboard<'a> {
    /// `Last 7 Days`, `All Time`.
    pub title: String,
    pub generated_at: Timestamp,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// One end record per session in the window.
    pub sessions: Vec<&'a SessionRecord>,
    pub tasks: Vec<TaskRow>,
    pub savings: Savings,
    pub manifest_reads: Vec<&'a UsageRecord>,
    pub warnings: Vec<String>,
}

fn approx(n: u64, estimated: bool) -> String {
    format!("{}{}", if estimated { "~" } else { "" }, thousands(n))
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

impl Dashboard<'_> {
    fn session_tokens(&self) -> (TokenCounts, u64, u64) {
        let mut tokens = TokenCounts::default();
        let (mut total, mut estimated) = (0, 0);
        for s in &self.sessions {
            tokens.add(&s.tokens);
            total += s.total;
            if s.source.is_estimate() {
                estimated += s.total;
            }
        }
        (tokens, total, estimated)
    }

    /// `metrics tokens`: the seed's layout, with cache lines when there are any.
    pub fn tokens_text(&self) -> String {
        let (t, total, estimated) = self.session_tokens();
        let mut out = format!("=== Token Usage ({}) ===\n\n", self.title);
        let n_est = self
            .sessions
            .iter()
            .filter(|s| s.source.is_estimate())
            .count();
        out += &format!("Sessions: {}", self.sessions.len());
        if n_est > 0 {
            out += &format!(" ({n_est} estimated)");
        }
        out += &format!("\nTotal tokens: {}", thousands(total));
        if estimated > 0 {
            out += &format!(" (~{} of it estimated)", thousands(estimated));
        }
        out.push('\n');
        let mut lines = vec![("Input:", t.input), ("Output:", t.output)];
        if t.cache_read + t.cache_write() > 0 {
            lines.push(("Cache read:", t.cache_read));
            lines.push(("Cache write:", t.cache_write()));
        }
        let width = lines
            .iter()
            .map(|(_, n)| thousands(*n).len())
            .max()
            .unwrap_or(0);
        for (label, n) in lines {
            out += &format!(
                "  {label:<12} {:>width$} ({})\n",
                thousands(n),
                pct(n, total)
            );
        }
        out += "\nBy Task Attribution:\n";
        if self.tasks.is_empty() {
            out += "  (no tracked tasks)\n";
        }
        let label = |r: &TaskRow| match &r.protocol {
            Some(p) => format!("{} ({p}):", r.task_id),
            None => format!("{}:", r.task_id),
        };
        let width = self.tasks.iter().map(|r| label(r).len()).max().unwrap_or(0);
        for r in &self.tasks {
            let basis = r.basis();
            let estimated = basis != crate::links::Basis::Actual;
            let note = match basis {
                crate::links::Basis::Actual => "actual",
                crate::links::Basis::Reconciled => "reconciled estimate",
                crate::links::Basis::Estimate => "estimate",
            };
            out += &format!(
                "  {:<width$} {} tokens ({note})\n",
                label(r),
                approx(r.tokens(), estimated)
            );
        }
        out += "\nManifest Savings:\n";
        out += &self.savings_lines();
        out
    }

    fn savings_lines(&self) -> String {
        let s = &self.savings;
        let saved = s.saved();
        let sign = if saved < 0 { "-" } else { "" };
        let mut out = format!(
            "  Manifest reads:  {} tokens (estimate)\n  Full file equiv: {} tokens (estimate)\n  SAVED:           {sign}{} tokens ({})\n",
            approx(s.manifest_tokens, true),
            approx(s.full_file_tokens, true),
            approx(saved.unsigned_abs(), true),
            s.percent().map_or("n/a".into(), |p| format!("{p:.1}%"))
        );
        if s.unmeasured_reads > 0 {
            out += &format!(
                "  ({} manifest reads without a full-file figure are not counted)\n",
                s.unmeasured_reads
            );
        }
        out
    }

    /// `metrics tokens --by-task`: actual next to estimated, and the error.
    pub fn by_task_text(&self) -> String {
        let mut out = format!("=== Token Usage by Task ({}) ===\n\n", self.title);
        let header = [
            "Task",
            "Protocol",
            "Estimated",
            "Actual",
            "Reconciled",
            "Error",
            "Basis",
        ];
        let mut rows: Vec<[String; 7]> = vec![header.map(str::to_string)];
        for r in &self.tasks {
            let dash = || "-".to_string();
            rows.push([
                r.task_id.clone(),
                r.protocol.clone().unwrap_or_else(dash),
                approx(r.estimated, true),
                r.actual.map_or_else(dash, |t| thousands(t.total())),
                r.reconciled.map_or_else(dash, |t| approx(t.total(), true)),
                r.error_pct().map_or_else(dash, |e| format!("{e:+.1}%")),
                r.basis().as_str().to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| match c {
                    0 | 1 | 6 => format!("{cell:<w$}", w = widths[c]),
                    _ => format!("{cell:>w$}", w = widths[c]),
                })
                .collect();
            out += cells.join("  ").trim_end();
            out.push('\n');
        }
        if self.tasks.is_empty() {
            out += "(no tracked tasks)\n";
        }
        out += "\n~ = estimate (BPE count, calibrated); reconciled = estimates scaled to the session's actual total; error = (estimated - actual) / actual\n";
        out
    }

    /// `metrics savings`.
    pub fn savings_text(&self) -> String {
        let mut out = format!("=== Manifest Savings ({}) ===\n\n", self.title);
        out += &self.savings_lines();
        out
    }
}

mod json;
