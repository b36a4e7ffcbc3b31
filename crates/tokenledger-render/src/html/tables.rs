//! The report's tables as HTML: the `--by` table first, then one per
//! dimension the charts show, numbers formatted as in the text report.

use super::svg::escape;
use crate::fmt::{cost_of, thousands};
use crate::text::{HEADERS, capitalize};
use std::fmt::Write as _;
use tokenledger_core::aggregate::{Measures, Row};
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;

/// Sessions can number thousands; the page lists the biggest.
const MAX_SESSION_ROWS: usize = 100;

pub(super) fn render(data: &ReportData) -> String {
    let mut out = table(
        "Report",
        data.group_by(),
        data.rows(),
        &data.totals,
        usize::MAX,
    );
    for (key, caption, limit) in [
        (GroupKey::Model, "By model", usize::MAX),
        (GroupKey::Agent, "By agent", usize::MAX),
        (GroupKey::Task, "By task", usize::MAX),
        (GroupKey::Session, "Top sessions", MAX_SESSION_ROWS),
    ] {
        if data.group_by() == [key] {
            continue;
        }
        if let Some((keys, rows)) = data.groupings.iter().find(|(keys, _)| keys == &[key]) {
            out.push_str(&table(caption, keys, rows, &data.totals, limit));
        }
    }
    out
}

fn table(
    caption: &str,
    keys: &[GroupKey],
    rows: &[Row],
    totals: &Measures,
    limit: usize,
) -> String {
    let mut out = format!(
        "<table>\n<caption>{}</caption>\n<thead><tr>",
        escape(caption)
    );
    if keys.is_empty() {
        out.push_str("<th></th>");
    }
    for key in keys {
        let _ = write!(
            out,
            "<th scope=\"col\">{}</th>",
            escape(&capitalize(key.name()))
        );
    }
    for header in HEADERS {
        let _ = write!(out, "<th scope=\"col\" class=\"num\">{header}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    if !keys.is_empty() {
        for row in rows.iter().take(limit) {
            out.push_str("<tr>");
            for (_, value) in &row.keys {
                let shown = if value.is_empty() { "(none)" } else { value };
                let _ = write!(out, "<td>{}</td>", escape(shown));
            }
            measure_cells(&mut out, &row.measures);
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n<tfoot><tr>");
    let _ = write!(out, "<th scope=\"row\">TOTAL</th>");
    for _ in 1..keys.len() {
        out.push_str("<td></td>");
    }
    measure_cells(&mut out, totals);
    out.push_str("</tr></tfoot>\n</table>\n");
    if rows.len() > limit {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} more not shown; <code>--by {}</code> lists them all.</p>",
            thousands((rows.len() - limit) as u64),
            keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
        );
    }
    out
}

fn measure_cells(out: &mut String, m: &Measures) {
    let numbers = [
        m.tokens.input,
        m.tokens.output,
        m.tokens.cache_read,
        m.tokens.cache_write(),
        m.tokens.total(),
    ];
    for n in numbers {
        let _ = write!(out, "<td class=\"num\">{}</td>", thousands(n));
    }
    let _ = write!(out, "<td class=\"num\">{}</td>", escape(&cost_of(m)));
    let _ = write!(out, "<td class=\"num\">{}</td>", thousands(m.sessions));
}
