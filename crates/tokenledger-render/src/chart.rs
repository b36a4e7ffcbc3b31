//! The terminal chart under a text report: tokens over time as bars of block
//! characters, stacked by model with a legend when there are several models.
//! Without colour each model has its own shade, so the chart still reads in
//! a log file or under `NO_COLOR`.

use crate::fmt::{bar, pad_left, pad_right, thousands};
use crate::series::{self, TimeSeries};
use crate::text::TextStyle;
use tokenledger_core::query::GroupKey;
use tokenledger_core::report::ReportData;

const BAR_WIDTH: usize = 40;
/// Four shades are as many as the eye tells apart in a terminal.
const GLYPHS: [char; 4] = ['█', '▓', '▒', '░'];
/// Cyan, magenta, yellow, green: readable on dark and light backgrounds.
const COLORS: [&str; 4] = ["36", "35", "33", "32"];

/// The chart, or an empty string when the report has no time grouping.
pub(crate) fn render(data: &ReportData, style: &TextStyle) -> String {
    let Some(ts) = series::over_time(data, GLYPHS.len()) else {
        return String::new();
    };
    if ts.labels.is_empty() || ts.series.is_empty() {
        return String::new();
    }
    let totals = ts.bucket_tokens();
    let max = totals.iter().copied().max().unwrap_or(0);
    let labels: Vec<String> = ts.labels.iter().map(|l| short_label(l, ts.unit)).collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let value_width = totals
        .iter()
        .map(|v| thousands(*v).len())
        .max()
        .unwrap_or(0);
    let bar_width = match style.width {
        Some(w) => usize::from(w)
            .saturating_sub(label_width + value_width + 4)
            .clamp(5, BAR_WIDTH),
        None => BAR_WIDTH,
    };
    let by_model = if ts.series.len() > 1 { " by model" } else { "" };
    let mut out = format!(
        "Tokens per {}{by_model} ({})\n",
        ts.unit.name(),
        data.tz_name
    );
    for (i, label) in labels.iter().enumerate() {
        let drawn = if ts.series.len() == 1 {
            paint(&bar(totals[i], max, bar_width), 0, style)
        } else {
            stacked(&ts, i, max, bar_width, style)
        };
        out.push_str(&format!(
            "{}  {drawn}  {}\n",
            pad_right(label, label_width),
            pad_left(&thousands(totals[i]), value_width)
        ));
    }
    if ts.series.len() > 1 {
        out.push_str(&legend(&ts, style));
    }
    out
}

/// One bucket's bar, each model's part as many whole cells as its share
/// (cumulative rounding, so the parts add up to the bar's length).
fn stacked(ts: &TimeSeries, bucket: usize, max: u64, width: usize, style: &TextStyle) -> String {
    let mut out = String::new();
    let mut cumulative = 0u64;
    let mut drawn = 0usize;
    for (s, series) in ts.series.iter().enumerate() {
        let value = series.tokens[bucket];
        cumulative = cumulative.saturating_add(value);
        let mut end = cells(cumulative, max, width);
        // A bucket with any usage shows at least one cell.
        if value > 0 && end == drawn && drawn == 0 {
            end = 1;
        }
        let part = end.saturating_sub(drawn);
        if part > 0 {
            out.push_str(&paint(&glyph(s, style).to_string().repeat(part), s, style));
        }
        drawn = drawn.max(end);
    }
    out.push_str(&" ".repeat(width.saturating_sub(drawn)));
    out
}

fn cells(value: u64, max: u64, width: usize) -> usize {
    if max == 0 {
        return 0;
    }
    ((value as f64 / max as f64 * width as f64).round() as usize).min(width)
}

fn legend(ts: &TimeSeries, style: &TextStyle) -> String {
    let entries: Vec<String> = ts
        .series
        .iter()
        .enumerate()
        .map(|(s, series)| {
            format!(
                "{} {}",
                paint(&glyph(s, style).to_string(), s, style),
                series.name
            )
        })
        .collect();
    let limit = style.width.map_or(usize::MAX, usize::from);
    let mut out = String::new();
    let mut line_len = 0;
    for (entry, series) in entries.iter().zip(&ts.series) {
        let len = series.name.chars().count() + 2;
        if line_len > 0 && line_len + 3 + len > limit {
            out.push('\n');
            line_len = 0;
        }
        if line_len > 0 {
            out.push_str("   ");
            line_len += 3;
        }
        out.push_str(entry);
        line_len += len;
    }
    out.push('\n');
    out
}

/// With colour every model is a full block in its own colour; without, a shade.
fn glyph(series: usize, style: &TextStyle) -> char {
    if style.color {
        '█'
    } else {
        GLYPHS[series % GLYPHS.len()]
    }
}

fn paint(text: &str, series: usize, style: &TextStyle) -> String {
    if style.color {
        format!("\x1b[{}m{text}\x1b[0m", COLORS[series % COLORS.len()])
    } else {
        text.to_string()
    }
}

/// `2026-02-06T09:00` reads `02-06 09:00`: the year is in the table above.
fn short_label(label: &str, unit: GroupKey) -> String {
    match unit {
        GroupKey::Hour => label.get(5..).unwrap_or(label).replacen('T', " ", 1),
        _ => label.to_string(),
    }
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
