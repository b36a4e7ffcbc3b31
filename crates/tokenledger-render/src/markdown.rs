//! A GitHub-flavoured Markdown table, padded so the raw text lines up too.

use crate::fmt::{cost_of, thousands};
use tokenledger_core::aggregate::Measures;
use tokenledger_core::report::ReportData;

const MEASURES: [&str; 7] = [
    "input",
    "output",
    "cache read",
    "cache write",
    "total",
    "cost",
    "sessions",
];

/// Key columns (named like `--by`) left-aligned, numbers right-aligned, then a
/// bold `TOTAL` row. Unpriced costs read `unpriced` and the models lacking a
/// price are listed under the table. With no group keys the table is the
/// totals row alone, under an unnamed label column.
pub fn render(data: &ReportData) -> String {
    let keys = data.group_by();
    let key_headers: Vec<String> = if keys.is_empty() {
        vec![String::new()]
    } else {
        keys.iter().map(|k| k.name().to_string()).collect()
    };
    let key_count = key_headers.len();
    let mut lines: Vec<Vec<String>> = Vec::new();
    lines.push(
        key_headers
            .into_iter()
            .chain(MEASURES.map(String::from))
            .collect(),
    );
    if !keys.is_empty() {
        for row in data.rows() {
            let key_cells = row.keys.iter().map(|(_, v)| escape(v));
            lines.push(key_cells.chain(measure_cells(&row.measures)).collect());
        }
    }
    let bold = |s: String| if s.is_empty() { s } else { format!("**{s}**") };
    let total_keys = (0..key_count).map(|i| {
        if i == 0 {
            "TOTAL".to_string()
        } else {
            String::new()
        }
    });
    lines.push(
        total_keys
            .chain(measure_cells(&data.totals))
            .map(bold)
            .collect(),
    );

    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
                .max(3)
        })
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(&format_line(line, &widths, key_count));
        if i == 0 {
            let rule = widths.iter().enumerate().map(|(c, &w)| {
                if c < key_count {
                    "-".repeat(w)
                } else {
                    format!("{}:", "-".repeat(w - 1))
                }
            });
            out.push_str(&format!("| {} |\n", rule.collect::<Vec<_>>().join(" | ")));
        }
    }
    if !data.totals.unpriced_models.is_empty() {
        let models: Vec<String> = data
            .totals
            .unpriced_models
            .iter()
            .map(|m| escape(m))
            .collect();
        out.push_str(&format!(
            "\nUnpriced models (no price known): {}\n",
            models.join(", ")
        ));
    }
    out
}

fn format_line(cells: &[String], widths: &[usize], key_count: usize) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(c, (cell, &w))| {
            let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
            if c < key_count {
                format!("{cell}{pad}")
            } else {
                format!("{pad}{cell}")
            }
        })
        .collect();
    format!("| {} |\n", padded.join(" | "))
}

fn measure_cells(m: &Measures) -> [String; 7] {
    [
        thousands(m.tokens.input),
        thousands(m.tokens.output),
        thousands(m.tokens.cache_read),
        thousands(m.tokens.cache_write()),
        thousands(m.tokens.total()),
        cost_of(m),
        thousands(m.sessions),
    ]
}

/// Agent and model names come from hand-edited registers; a `|` would split
/// the cell and `*`, `_` or a backtick would restyle the rest of the row.
fn escape(value: &str) -> String {
    if value.is_empty() {
        return "(none)".to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn week_by_day_and_model() {
        insta::assert_snapshot!(render(&fixtures::week_by_day_model()), @"
            | day        | model             |      input |    output | cache read | cache write |      total |         cost | sessions |
            | ---------- | ----------------- | ---------: | --------: | ---------: | ----------: | ---------: | -----------: | -------: |
            | 2026-02-02 | claude-sonnet-4-5 |      1,200 |       340 |     50,000 |       3,000 |     54,540 |      $0.0123 |        1 |
            | 2026-02-02 | glm-4.7           |      5,000 |     2,000 |          0 |           0 |      7,000 |      $0.0007 |        1 |
            | 2026-02-03 | claude-sonnet-4-5 |      5,000 |     1,600 |          0 |           0 |      6,600 |      $0.0390 |        2 |
            | 2026-02-05 | mystery-model-9   |         10 |         5 |          0 |           0 |         15 |     unpriced |        1 |
            | **TOTAL**  |                   | **11,210** | **3,945** | **50,000** |   **3,000** | **68,155** | **unpriced** |    **4** |

            Unpriced models (no price known): mystery-model-9
            ");
    }

    #[test]
    fn totals_only() {
        insta::assert_snapshot!(render(&fixtures::seed_day()), @"
            |           |      input |    output | cache read | cache write |      total |        cost | sessions |
            | --------- | ---------: | --------: | ---------: | ----------: | ---------: | ----------: | -------: |
            | **TOTAL** | **16,200** | **3,300** |      **0** |       **0** | **19,500** | **$0.0855** |    **2** |
            ");
    }

    #[test]
    fn empty_report() {
        insta::assert_snapshot!(render(&fixtures::empty_by_agent()), @"
            | agent     | input | output | cache read | cache write | total |        cost | sessions |
            | --------- | ----: | -----: | ---------: | ----------: | ----: | ----------: | -------: |
            | **TOTAL** | **0** |  **0** |      **0** |       **0** | **0** | **$0.0000** |    **0** |
            ");
    }

    #[test]
    fn hostile_names_cannot_break_the_table() {
        assert_eq!(escape("a|b*c_d`e"), r"a\|b\*c\_d\`e");
        assert_eq!(escape("line\nbreak"), "line break");
        assert_eq!(escape(""), "(none)");
    }
}
