//! SVG building blocks shared by every chart: escaping, the palette, axis
//! ticks, text sizing and the legend. Plain strings in, SVG text out, so the
//! HTML report, the PNG and (later) the collector's dashboard draw alike.

use std::fmt::Write as _;

/// Tableau 10: distinct for most colour-blind readers and print well.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Every chart names this font first: the PNG renderer embeds it, and a
/// browser without it falls back to the next.
pub const FONT_FAMILY: &str = "'DejaVu Sans', Verdana, Arial, sans-serif";
pub const FONT_SIZE: f64 = 11.0;
/// DejaVu Sans averages about 0.6 em per character; layout only needs an estimate.
const CHAR_WIDTH: f64 = FONT_SIZE * 0.62;

/// Escapes text for both element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even as references.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn color(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// The estimated width in pixels of `text` at the chart font size.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// `text` cut to `max` characters with an ellipsis; the full text belongs in a `<title>`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// Round tick values from 0 to at least `max`, about `count` of them.
pub fn ticks(max: f64, count: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let steps = (max / step).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// An axis label: `12k`, `1.5M`, or `$0.25` for money, with only as many
/// decimals as the tick step needs.
pub fn tick_label(value: f64, step: f64, money: bool) -> String {
    if money {
        // As many decimals as the step has, so neighbouring ticks never read alike.
        let decimals = (0..=6)
            .find(|d| {
                let scaled = step * 10f64.powi(*d);
                (scaled - scaled.round()).abs() < 1e-6
            })
            .unwrap_or(6) as usize;
        return format!("${value:.decimals$}");
    }
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, "B"),
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e3 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = format!("{scaled:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{suffix}")
}

/// The opening tag of a chart: a fixed viewBox that CSS may scale, a white
/// background (so the PNG is not transparent), an accessible title, and
/// an optional right-aligned subtitle.
pub fn open(out: &mut String, width: f64, height: f64, title: &str, subtitle: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" font-family=\"{font}\" font-size=\"{FONT_SIZE}\">\
         <title>{title}</title>\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\
         <text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">{title}</text>",
        font = escape(FONT_FAMILY),
        title = escape(title),
    );
    if !subtitle.is_empty() {
        text(out, width - 12.0, 20.0, "end", "#555", subtitle);
    }
}

pub fn close(out: &mut String) {
    out.push_str("</svg>");
}

/// A line of text; `anchor` is `start`, `middle` or `end`.
pub fn text(out: &mut String, x: f64, y: f64, anchor: &str, fill: &str, content: &str) {
    let _ = write!(
        out,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
        escape(content)
    );
}

/// A filled rectangle with a hover tooltip.
pub fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str, tooltip: &str) {
    let _ = write!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
        escape(tooltip)
    );
}

pub fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
    let _ = write!(
        out,
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"1\"/>"
    );
}

/// Swatch-and-name entries flowing left to right from (`x`, `y`), wrapping
/// at `width`. Returns the height used.
pub fn legend(out: &mut String, x: f64, y: f64, width: f64, names: &[String]) -> f64 {
    const ROW: f64 = 18.0;
    let (mut cx, mut cy) = (x, y);
    for (i, name) in names.iter().enumerate() {
        let shown = truncate(name, 36);
        let entry = 16.0 + text_width(&shown) + 18.0;
        if cx > x && cx + entry > x + width {
            cx = x;
            cy += ROW;
        }
        let _ = write!(out, "<g class=\"legend\"><title>{}</title>", escape(name));
        let _ = write!(
            out,
            "<rect x=\"{cx:.1}\" y=\"{:.1}\" width=\"11\" height=\"11\" fill=\"{}\"/>",
            cy - 9.5,
            color(i)
        );
        text(out, cx + 16.0, cy, "start", "#333", &shown);
        out.push_str("</g>");
        cx += entry;
    }
    if names.is_empty() { 0.0 } else { cy - y + ROW }
}

/// The height [`legend`] will use, for laying out before drawing.
pub fn legend_height(width: f64, names: &[String]) -> f64 {
    let mut scratch = String::new();
    legend(&mut scratch, 0.0, 0.0, width, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<b>&\"'x\u{1}"),
            "&lt;b&gt;&amp;&quot;&#39;x\u{FFFD}"
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            ticks(68_155.0, 4),
            vec![0.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0]
        );
        assert_eq!(ticks(0.0, 4), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(ticks(9.0, 4), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(tick_label(20_000.0, 20_000.0, false), "20k");
        assert_eq!(tick_label(2_500_000.0, 500_000.0, false), "2.5M");
        assert_eq!(tick_label(250.0, 250.0, false), "250");
        assert_eq!(tick_label(0.05, 0.05, true), "$0.05");
        assert_eq!(tick_label(0.025, 0.025, true), "$0.025");
        assert_eq!(tick_label(20.0, 5.0, true), "$20");
    }

    #[test]
    fn long_names_are_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
