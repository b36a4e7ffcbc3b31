use super::*;
use crate::fixtures::{self, measures, row};
use tokenledger_core::query::GroupKey::{Agent, Model, Session, Task};

/// The week fixture plus every grouping the page draws, with hostile names.
fn hostile_week() -> ReportData {
    let mut data = fixtures::week_by_day_model();
    let evil = "<b>x</b> & \"q\" 'a'";
    let script = "<script>alert(1)</script>";
    data.groupings.push((
        vec![Model],
        vec![
            row(&[(Model, script)], measures(900, 100, Some(0.5), 1)),
            row(&[(Model, "glm-4.7")], measures(300, 0, Some(0.1), 1)),
        ],
    ));
    data.groupings.push((
        vec![Agent],
        vec![row(&[(Agent, evil)], measures(1200, 100, Some(0.6), 2))],
    ));
    data.groupings.push((
        vec![Task],
        vec![row(&[(Task, "")], measures(1200, 100, Some(0.6), 2))],
    ));
    data.groupings.push((
        vec![Session],
        vec![row(&[(Session, "s&1")], measures(1200, 100, Some(0.6), 2))],
    ));
    data
}

#[test]
fn the_page_is_self_contained() {
    let page = render(&hostile_week());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    let without_svg_namespace = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for needle in ["http:", "https:", "<script", " src=", " href=", "url("] {
        assert!(
            !without_svg_namespace.contains(needle),
            "{needle} in the page"
        );
    }
}

#[test]
fn every_name_is_escaped() {
    let page = render(&hostile_week());
    assert!(!page.contains("<b>x"), "raw agent name");
    assert!(!page.contains("<script>"), "raw model name");
    assert!(page.contains("&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39;"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("<td>s&amp;1</td>"));
    assert!(
        page.contains("<td>(none)</td>"),
        "an empty task reads (none)"
    );
}

#[test]
fn every_chart_is_well_formed_svg() {
    let page = render(&hostile_week());
    let charts: Vec<&str> = page
        .split("<svg ")
        .skip(1)
        .map(|rest| &rest[..rest.find("</svg>").unwrap()])
        .collect();
    // Tokens and cost over time, hour of day is absent (no hour grouping),
    // top agents, tasks, sessions, cost by model.
    assert_eq!(charts.len(), 6, "{page}");
    let options = resvg::usvg::Options::default();
    for chart in charts {
        let svg = format!("<svg {chart}</svg>");
        let tree = resvg::usvg::Tree::from_str(&svg, &options);
        assert!(tree.is_ok(), "{:?}: {svg}", tree.err());
    }
}

#[test]
fn numbers_read_as_in_the_text_report() {
    let page = render(&hostile_week());
    assert!(page.contains("<dd>68,155</dd>"), "total tokens");
    assert!(page.contains("<dd>unpriced</dd>"), "total cost");
    assert!(page.contains("<td class=\"num\">54,540</td>"));
    assert!(page.contains("1,300 · $0.6000"), "bar label");
    assert!(
        page.contains("Unpriced models (no price known; not in the cost charts): mystery-model-9")
    );
}

#[test]
fn a_column_chart_has_axes_bars_labels_and_a_legend() {
    let svg = charts::columns(&Columns {
        title: "T <1>".into(),
        subtitle: "sub".into(),
        labels: vec!["2026-02-02".into(), "2026-02-03".into()],
        axis_labels: vec!["02-02".into(), "02-03".into()],
        series: vec![
            ("a&b".into(), vec![10.0, 0.0]),
            ("c".into(), vec![5.0, 20.0]),
        ],
        money: false,
    });
    insta::assert_snapshot!(svg.replace("><", ">\n<"));
}

#[test]
fn the_main_chart_names_its_window_and_totals() {
    let svg = main_chart_svg(&fixtures::seed_day());
    assert!(svg.contains("Tokens per hour by model"), "{svg}");
    assert!(
        svg.contains("2026-02-05 20:00 – 2026-02-06 20:00 (UTC) · 19,500 tokens · $0.0855"),
        "{svg}"
    );
}

#[test]
fn an_empty_report_still_renders_every_section() {
    let page = render(&fixtures::empty_by_agent());
    assert!(page.contains("No usage recorded in this window."));
    assert!(page.contains("</html>\n"));
}
