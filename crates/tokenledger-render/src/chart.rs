//! The bar chart under a text table grouped by one time key.

use crate::fmt::{bar, pad_left, pad_right, thousands};
use crate::text::TextStyle;
use std::collections::HashMap;
use tokenledger_core::report::ReportData;

const BAR_WIDTH: usize = 30;

/// One line per time bucket, summed over the other keys, in the rows' (time) order.
pub(crate) fn render(data: &ReportData, style: &TextStyle) -> String {
    let time_index = data
        .group_by()
        .iter()
        .position(|k| k.is_time())
        .unwrap_or(0);
    let mut buckets: Vec<(String, u64)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for row in data.rows() {
        let Some((_, label)) = row.keys.get(time_index) else {
            continue;
        };
        let total = row.measures.tokens.total();
        match index.get(label.as_str()) {
            Some(&i) => buckets[i].1 = buckets[i].1.saturating_add(total),
            None => {
                index.insert(label, buckets.len());
                buckets.push((label.clone(), total));
            }
        }
    }
    let max = buckets.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let label_width = buckets
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let value_width = buckets
        .iter()
        .map(|(_, v)| thousands(*v).len())
        .max()
        .unwrap_or(0);
    let bar_width = match style.width {
        Some(w) => {
            (usize::from(w).saturating_sub(label_width + value_width + 4)).clamp(5, BAR_WIDTH)
        }
        None => BAR_WIDTH,
    };
    let mut out = String::new();
    for (label, value) in &buckets {
        let drawn = bar(*value, max, bar_width);
        let drawn = if style.color {
            format!("\x1b[36m{drawn}\x1b[0m")
        } else {
            drawn
        };
        let value = pad_left(&thousands(*value), value_width);
        out.push_str(&format!(
            "{}  {drawn}  {value}\n",
            pad_right(label, label_width)
        ));
    }
    out
}
