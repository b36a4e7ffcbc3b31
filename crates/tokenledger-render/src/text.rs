//! The terminal table, plus a chart of tokens over time when the report has a time grouping.

use crate::fmt::{cost_of, thousands};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width,
};
use tokenledger_core::aggregate::Measures;
use tokenledger_core::report::ReportData;

/// How the text renderers may decorate their output. Nothing is probed from
/// the terminal: the caller decides (`NO_COLOR`, `--color`, a tty check).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStyle {
    /// ANSI styling (bold headers, dim zeros, coloured bars). When false the
    /// output contains no escape bytes at all.
    pub color: bool,
    /// Wrap the table to this many columns; `None` never wraps, which keeps
    /// output identical whatever the terminal.
    pub width: Option<u16>,
}

pub(crate) const HEADERS: [&str; 7] = [
    "Input",
    "Output",
    "Cache read",
    "Cache write",
    "Total",
    "Cost",
    "Sessions",
];

/// The groupings the chart under the table draws from, beside the `--by`
/// one: hours by model, which also sum to days and months.
pub fn chart_groupings() -> Vec<Vec<tokenledger_core::query::GroupKey>> {
    use tokenledger_core::query::GroupKey::{Hour, Model};
    vec![vec![Hour, Model]]
}

/// A table of the first grouping with a `TOTAL` row, the models lacking a
/// price (if any), and, when some grouping has a time key, a chart of tokens
/// over time (see [`crate::chart`]). Warnings are not included: they belong on
/// stderr.
pub fn render(data: &ReportData, style: &TextStyle) -> String {
    if data.totals.events == 0 {
        return "No usage recorded in this window.\n".to_string();
    }
    let keys = data.group_by();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).force_no_tty();
    if style.color {
        table.enforce_styling();
    }
    match style.width {
        None => table.set_content_arrangement(ContentArrangement::Disabled),
        Some(w) => table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w),
    };
    let key_headers: Vec<String> = if keys.is_empty() {
        vec![String::new()]
    } else {
        keys.iter().map(|k| capitalize(k.name())).collect()
    };
    let key_count = key_headers.len();
    let header = key_headers.iter().map(String::as_str).chain(HEADERS);
    table.set_header(
        header
            .map(|h| styled(Cell::new(h), style, Attribute::Bold))
            .collect::<Vec<_>>(),
    );
    if !keys.is_empty() {
        for row in data.rows() {
            let key_cells = row
                .keys
                .iter()
                .map(|(_, v)| Cell::new(if v.is_empty() { "(none)" } else { v }));
            table.add_row(
                key_cells
                    .chain(measure_cells(&row.measures, style, false))
                    .collect::<Vec<_>>(),
            );
        }
    }
    let total_keys = (0..key_count).map(|i| {
        styled(
            Cell::new(if i == 0 { "TOTAL" } else { "" }),
            style,
            Attribute::Bold,
        )
    });
    table.add_row(
        total_keys
            .chain(measure_cells(&data.totals, style, true))
            .collect::<Vec<_>>(),
    );
    // Narrow tables wrap names, but never below a readable width, and never
    // split a date or a number.
    for (c, key) in keys.iter().enumerate() {
        if let Some(column) = table.column_mut(c) {
            column.set_constraint(if key.is_time() {
                ColumnConstraint::ContentWidth
            } else {
                ColumnConstraint::LowerBoundary(Width::Fixed(12))
            });
        }
    }
    for c in key_count..key_count + HEADERS.len() {
        if let Some(column) = table.column_mut(c) {
            column.set_cell_alignment(CellAlignment::Right);
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }

    let mut lines: Vec<String> = table.lines().collect();
    // Without wrapping the totals row is exactly the line above the bottom
    // border, so a rule can set it apart; with wrapping it may span lines.
    // Alone under the header it needs no rule.
    if style.width.is_none()
        && !keys.is_empty()
        && !data.rows().is_empty()
        && let Some(rule) = lines
            .iter()
            .find(|l| l.starts_with('╞'))
            .map(|l| totals_rule(l))
    {
        let at = lines.len() - 2;
        lines.insert(at, rule);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    if !data.totals.unpriced_models.is_empty() {
        out.push_str(&format!(
            "Unpriced models (no price known): {}\n",
            data.totals.unpriced_models.join(", ")
        ));
    }
    let chart = crate::chart::render(data, style);
    if !chart.is_empty() {
        out.push('\n');
        out.push_str(&chart);
    }
    out
}

fn measure_cells(m: &Measures, style: &TextStyle, total: bool) -> Vec<Cell> {
    let numbers = [
        m.tokens.input,
        m.tokens.output,
        m.tokens.cache_read,
        m.tokens.cache_write(),
        m.tokens.total(),
    ];
    let number = |n: u64| {
        let cell = Cell::new(thousands(n));
        match (total, n) {
            (true, _) => styled(cell, style, Attribute::Bold),
            (false, 0) => styled(cell, style, Attribute::Dim),
            _ => cell,
        }
    };
    let mut cells: Vec<Cell> = numbers.into_iter().map(number).collect();
    let priced = m.unpriced_models.is_empty() && m.cost_usd.is_some();
    let mut cost = Cell::new(cost_of(m));
    if style.color && !priced {
        cost = cost.fg(Color::Yellow);
    } else if total {
        cost = styled(cost, style, Attribute::Bold);
    }
    cells.push(cost);
    cells.push(number(m.sessions));
    cells
}

fn styled(cell: Cell, style: &TextStyle, attribute: Attribute) -> Cell {
    if style.color {
        cell.add_attribute(attribute)
    } else {
        cell
    }
}

/// The header rule redrawn with single lines.
fn totals_rule(header_rule: &str) -> String {
    header_rule
        .chars()
        .map(|c| match c {
            '╞' => '├',
            '╪' => '┼',
            '╡' => '┤',
            _ => '─',
        })
        .collect()
}

pub(crate) fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use tokenledger_core::query::GroupKey;

    const PLAIN: TextStyle = TextStyle {
        color: false,
        width: None,
    };

    #[test]
    fn week_by_day_and_model_with_chart() {
        insta::assert_snapshot!(render(&fixtures::week_by_day_model(), &PLAIN), @"
            ┌────────────┬───────────────────┬────────┬────────┬────────────┬─────────────┬────────┬──────────┬──────────┐
            │ Day        ┆ Model             ┆  Input ┆ Output ┆ Cache read ┆ Cache write ┆  Total ┆     Cost ┆ Sessions │
            ╞════════════╪═══════════════════╪════════╪════════╪════════════╪═════════════╪════════╪══════════╪══════════╡
            │ 2026-02-02 ┆ claude-sonnet-4-5 ┆  1,200 ┆    340 ┆     50,000 ┆       3,000 ┆ 54,540 ┆  $0.0123 ┆        1 │
            │ 2026-02-02 ┆ glm-4.7           ┆  5,000 ┆  2,000 ┆          0 ┆           0 ┆  7,000 ┆  $0.0007 ┆        1 │
            │ 2026-02-03 ┆ claude-sonnet-4-5 ┆  5,000 ┆  1,600 ┆          0 ┆           0 ┆  6,600 ┆  $0.0390 ┆        2 │
            │ 2026-02-05 ┆ mystery-model-9   ┆     10 ┆      5 ┆          0 ┆           0 ┆     15 ┆ unpriced ┆        1 │
            ├────────────┼───────────────────┼────────┼────────┼────────────┼─────────────┼────────┼──────────┼──────────┤
            │ TOTAL      ┆                   ┆ 11,210 ┆  3,945 ┆     50,000 ┆       3,000 ┆ 68,155 ┆ unpriced ┆        4 │
            └────────────┴───────────────────┴────────┴────────┴────────────┴─────────────┴────────┴──────────┴──────────┘
            Unpriced models (no price known): mystery-model-9

            Tokens per day by model (Europe/Berlin)
            2026-02-02  ███████████████████████████████████▓▓▓▓▓  61,540
            2026-02-03  ████                                       6,600
            2026-02-04                                                 0
            2026-02-05  ▒                                             15
            █ claude-sonnet-4-5   ▓ glm-4.7   ▒ mystery-model-9
            ");
    }

    #[test]
    fn totals_only_has_no_chart_without_a_time_grouping() {
        let mut data = fixtures::seed_day();
        data.groupings.truncate(1);
        insta::assert_snapshot!(render(&data, &PLAIN), @"
            ┌───────┬────────┬────────┬────────────┬─────────────┬────────┬─────────┬──────────┐
            │       ┆  Input ┆ Output ┆ Cache read ┆ Cache write ┆  Total ┆    Cost ┆ Sessions │
            ╞═══════╪════════╪════════╪════════════╪═════════════╪════════╪═════════╪══════════╡
            │ TOTAL ┆ 16,200 ┆  3,300 ┆          0 ┆           0 ┆ 19,500 ┆ $0.0855 ┆        2 │
            └───────┴────────┴────────┴────────────┴─────────────┴────────┴─────────┴──────────┘
            ");
    }

    #[test]
    fn by_model_has_no_chart_without_a_time_grouping() {
        let mut data = fixtures::seed_day();
        data.groupings.retain(|(k, _)| k == &[GroupKey::Model]);
        let out = render(&data, &PLAIN);
        assert!(
            out.lines()
                .nth(3)
                .unwrap()
                .starts_with("│ anthropic/claude-sonnet-4-5 ┆ 15,000 ┆"),
            "{out}"
        );
        assert!(out.ends_with("┘\n"), "{out}");
    }

    #[test]
    fn a_day_window_charts_every_hour_once() {
        let mut data = fixtures::seed_day();
        data.groupings.truncate(1);
        data.groupings.extend(
            fixtures::seed_day()
                .groupings
                .into_iter()
                .filter(|(k, _)| chart_groupings().contains(k)),
        );
        let out = render(&data, &PLAIN);
        let chart: Vec<&str> = out.lines().skip_while(|l| !l.is_empty()).skip(1).collect();
        assert_eq!(chart[0], "Tokens per hour by model (UTC)", "{out}");
        assert_eq!(chart.len(), 1 + 25 + 1, "title, 25 hours, legend: {out}");
        assert_eq!(
            chart[14],
            "02-06 09:00  ████████████████████████████████████████  18,000"
        );
        assert_eq!(
            chart[26],
            "█ anthropic/claude-sonnet-4-5   ▓ claude-opus-4-5"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let data = fixtures::week_by_day_model();
        assert!(!render(&data, &PLAIN).contains('\x1b'));
        let coloured = render(
            &data,
            &TextStyle {
                color: true,
                width: None,
            },
        );
        assert!(
            coloured.contains("\x1b[1m") && coloured.contains("\x1b[36m"),
            "{coloured}"
        );
    }

    #[test]
    fn a_width_wraps_names_but_never_numbers() {
        let style = TextStyle {
            color: false,
            width: Some(105),
        };
        let out = render(&fixtures::week_by_day_model(), &style);
        assert!(out.lines().all(|l| l.chars().count() <= 105), "{out}");
        let table = out.split("\n\n").next().unwrap();
        assert!(
            !table.contains("claude-sonnet-4-5"),
            "the model name wraps: {out}"
        );
        assert!(
            out.contains("┆ 54,540 ┆") && out.contains("┆ Cache write ┆"),
            "{out}"
        );
    }

    #[test]
    fn nothing_to_show() {
        assert_eq!(
            render(&fixtures::empty_by_agent(), &PLAIN),
            "No usage recorded in this window.\n"
        );
    }
}
