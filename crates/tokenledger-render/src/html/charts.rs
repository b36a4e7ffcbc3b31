//! The two chart shapes the reports need: stacked columns over a category
//! axis (time buckets, hours of the day) and horizontal bars for top lists.

use super::svg::{self, color, escape, text_width};
use crate::fmt::{cost4, thousands};
use std::fmt::Write as _;

pub const WIDTH: f64 = 760.0;
const TOP: f64 = 36.0;
const RIGHT: f64 = 16.0;
const PLOT_HEIGHT: f64 = 200.0;

/// Stacked columns: one column per label, one colour per series.
pub struct Columns {
    pub title: String,
    /// Printed top right, e.g. the window and totals; may be empty.
    pub subtitle: String,
    /// Full bucket names, for tooltips.
    pub labels: Vec<String>,
    /// What the x axis prints under each column (shorter).
    pub axis_labels: Vec<String>,
    /// Name and one value per label; drawn bottom-up in this order.
    pub series: Vec<(String, Vec<f64>)>,
    /// Values are USD (else tokens): decides tick and tooltip formats.
    pub money: bool,
}

/// Horizontal bars, biggest first, each with its value printed after it.
pub struct Bars {
    pub title: String,
    pub items: Vec<Bar>,
}

pub struct Bar {
    pub label: String,
    pub value: f64,
    /// What is printed after the bar, e.g. `12,345 · $0.0123`.
    pub text: String,
    pub color: &'static str,
}

/// A tooltip or label value, formatted as the text report prints it.
pub fn value_text(value: f64, money: bool) -> String {
    if money {
        cost4(Some(value))
    } else {
        format!("{} tokens", thousands(value.max(0.0).round() as u64))
    }
}

pub fn columns(chart: &Columns) -> String {
    let n = chart.labels.len();
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            chart
                .series
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let ticks = svg::ticks(max, 4);
    let step = ticks.get(1).copied().unwrap_or(1.0);
    let top_tick = ticks.last().copied().unwrap_or(1.0);
    let tick_labels: Vec<String> = ticks
        .iter()
        .map(|t| svg::tick_label(*t, step, chart.money))
        .collect();
    let left = 12.0
        + tick_labels
            .iter()
            .map(|l| text_width(l))
            .fold(0.0, f64::max)
        + 8.0;
    let plot_w = WIDTH - left - RIGHT;
    let names: Vec<String> = if chart.series.len() > 1 {
        chart.series.iter().map(|(name, _)| name.clone()).collect()
    } else {
        Vec::new()
    };
    let legend_h = svg::legend_height(plot_w, &names);
    let height = TOP + PLOT_HEIGHT + 26.0 + legend_h + 8.0;
    let base = TOP + PLOT_HEIGHT;
    let y_of = |v: f64| base - v / top_tick * PLOT_HEIGHT;

    let mut out = String::new();
    svg::open(&mut out, WIDTH, height, &chart.title, &chart.subtitle);
    for (tick, label) in ticks.iter().zip(&tick_labels) {
        let y = y_of(*tick);
        svg::line(&mut out, left, y, left + plot_w, y, "#e3e3e3");
        svg::text(&mut out, left - 6.0, y + 4.0, "end", "#555", label);
    }
    if max <= 0.0 {
        svg::text(
            &mut out,
            left + plot_w / 2.0,
            TOP + PLOT_HEIGHT / 2.0,
            "middle",
            "#777",
            "No usage recorded in this window.",
        );
    }
    let slot = plot_w / n.max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    for i in 0..n {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut stacked = 0.0;
        for (s, (name, values)) in chart.series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let (y0, y1) = (y_of(stacked), y_of(stacked + v));
            let tip = format!(
                "{} · {}: {}",
                chart.labels[i],
                name,
                value_text(v, chart.money)
            );
            svg::rect(&mut out, x, y1, bar_w, (y0 - y1).max(0.5), color(s), &tip);
            stacked += v;
        }
    }
    svg::line(&mut out, left, base, left + plot_w, base, "#888");
    // Labels are thinned so neighbours never overlap.
    let widest = chart
        .axis_labels
        .iter()
        .map(|l| text_width(l))
        .fold(0.0, f64::max);
    let every = ((widest + 10.0) / slot).ceil().max(1.0) as usize;
    for (i, label) in chart.axis_labels.iter().enumerate().step_by(every) {
        let x = left + slot * (i as f64 + 0.5);
        svg::text(&mut out, x, base + 16.0, "middle", "#555", label);
    }
    svg::legend(&mut out, left, base + 40.0, plot_w, &names);
    svg::close(&mut out);
    out
}

pub fn bars(chart: &Bars) -> String {
    const ROW: f64 = 22.0;
    let labels: Vec<String> = chart
        .items
        .iter()
        .map(|b| svg::truncate(&b.label, 34))
        .collect();
    let label_w = labels.iter().map(|l| text_width(l)).fold(40.0, f64::max);
    let text_w = chart
        .items
        .iter()
        .map(|b| text_width(&b.text))
        .fold(0.0, f64::max);
    let left = 12.0 + label_w + 8.0;
    let bar_area = (WIDTH - left - RIGHT - text_w - 8.0).max(40.0);
    let rows = chart.items.len().max(1) as f64;
    let height = TOP + rows * ROW + 10.0;
    let max = chart.items.iter().map(|b| b.value).fold(0.0, f64::max);

    let mut out = String::new();
    svg::open(&mut out, WIDTH, height, &chart.title, "");
    if chart.items.is_empty() {
        svg::text(
            &mut out,
            12.0,
            TOP + 15.0,
            "start",
            "#777",
            "Nothing recorded.",
        );
    }
    for (i, (bar, label)) in chart.items.iter().zip(&labels).enumerate() {
        let y = TOP + ROW * i as f64;
        let w = if max > 0.0 {
            (bar.value / max * bar_area).max(if bar.value > 0.0 { 1.0 } else { 0.0 })
        } else {
            0.0
        };
        let _ = write!(
            out,
            "<g><title>{}: {}</title>",
            escape(&bar.label),
            escape(&bar.text)
        );
        svg::text(&mut out, left - 8.0, y + 14.0, "end", "#333", label);
        svg::rect(&mut out, left, y + 3.0, w, ROW - 6.0, bar.color, &bar.label);
        svg::text(
            &mut out,
            left + w + 6.0,
            y + 14.0,
            "start",
            "#333",
            &bar.text,
        );
        out.push_str("</g>");
    }
    svg::close(&mut out);
    out
}
