//! Number and bar formatting shared by the human-facing renderers.

use jiff::Timestamp;

/// `12345` → `12,345`, like Python's `f"{n:,}"` used by the seed report.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Four decimals like the seed; a cost that would round to `$0.0000` says so
/// instead of looking free.
pub(crate) fn cost4(cost: Option<f64>) -> String {
    match cost {
        None => "unpriced".to_string(),
        Some(c) if c > 0.0 && c < 0.00005 => "<$0.0001".to_string(),
        Some(c) => format!("${c:.4}"),
    }
}

/// A row's cost for people: the priced part stays visible when some model is unpriced.
pub(crate) fn cost_of(m: &tokenledger_core::aggregate::Measures) -> String {
    match m.cost_usd.filter(|_| m.unpriced_models.is_empty()) {
        Some(c) => cost4(Some(c)),
        None if m.priced_cost_usd > 0.0 => format!("{} + unpriced", cost4(Some(m.priced_cost_usd))),
        None => cost4(None),
    }
}

/// Rounds through the exact decimal expansion (ties to even), which is what
/// Python's `round(x, n)` does; `(x * 10^n).round()` differs on some inputs.
pub(crate) fn round_dp(x: f64, decimals: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let rounded: f64 = format!("{x:.decimals$}").parse().unwrap_or(x);
    // `-0.0` would print as `-0.0`; a cost is never negative zero.
    if rounded == 0.0 { 0.0 } else { rounded }
}

pub(crate) fn sessions_label(n: u64) -> String {
    if n == 1 {
        "1 session".to_string()
    } else {
        format!("{} sessions", thousands(n))
    }
}

/// RFC 3339 in UTC with as many fractional digits as the instant has.
pub(crate) fn rfc3339(ts: Timestamp) -> String {
    ts.to_string()
}

const PARTIALS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// A bar of `width` cells (padded with spaces) whose filled length is
/// proportional to `value / max` at 1/8-cell resolution. A non-zero value
/// always shows at least a sliver so it is not mistaken for zero.
pub(crate) fn bar(value: u64, max: u64, width: usize) -> String {
    let eighths = if max == 0 {
        0
    } else {
        let exact = value as f64 / max as f64 * (width * 8) as f64;
        (exact.round() as usize)
            .max(usize::from(value > 0))
            .min(width * 8)
    };
    let mut out = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        out.push(PARTIALS[eighths % 8]);
    }
    let used = eighths.div_ceil(8);
    out.extend(std::iter::repeat_n(' ', width - used));
    out
}

/// Pads `s` on the right to `width` characters (not bytes).
pub(crate) fn pad_right(s: &str, width: usize) -> String {
    let len = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(len)))
}

pub(crate) fn pad_left(s: &str, width: usize) -> String {
    let len = s.chars().count();
    format!("{}{s}", " ".repeat(width.saturating_sub(len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(52_695), "52,695");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn costs_have_four_decimals_and_never_hide_unpriced() {
        assert_eq!(cost4(Some(0.045)), "$0.0450");
        assert_eq!(cost4(Some(0.08549999999999999)), "$0.0855");
        assert_eq!(cost4(Some(0.0)), "$0.0000");
        assert_eq!(cost4(Some(0.00001)), "<$0.0001");
        assert_eq!(cost4(None), "unpriced");
    }

    #[test]
    fn rounding_matches_python() {
        assert_eq!(round_dp(0.08549999999999999, 6), 0.0855);
        assert_eq!(round_dp(0.125, 2), 0.12);
        assert_eq!(round_dp(0.375, 2), 0.38);
        assert_eq!(round_dp(0.00005, 4), 0.0001);
        assert_eq!(round_dp(-0.0000001, 4).to_string(), "0");
    }

    #[test]
    fn bars_use_eighth_blocks() {
        assert_eq!(bar(8, 8, 4), "████");
        assert_eq!(bar(4, 8, 4), "██  ");
        assert_eq!(bar(5, 8, 1), "▋");
        assert_eq!(bar(1, 1_000_000, 4), "▏   ");
        assert_eq!(bar(0, 8, 3), "   ");
        assert_eq!(bar(0, 0, 2), "  ");
    }
}

#[cfg(test)]
mod partial_cost_tests {
    use super::cost_of;
    use tokenledger_core::aggregate::Measures;

    #[test]
    fn a_partly_unpriced_row_keeps_its_priced_part_visible() {
        let mut m = Measures {
            cost_usd: Some(0.5),
            priced_cost_usd: 0.5,
            ..Measures::default()
        };
        assert_eq!(cost_of(&m), "$0.5000");
        m.cost_usd = None;
        m.unpriced_models = vec!["mystery".into()];
        assert_eq!(cost_of(&m), "$0.5000 + unpriced");
        m.priced_cost_usd = 0.0;
        assert_eq!(cost_of(&m), "unpriced");
    }
}
