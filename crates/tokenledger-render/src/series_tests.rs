use super::*;
use crate::fixtures;

#[test]
fn days_by_model_fill_the_gaps_biggest_model_first() {
    let ts = over_time(&fixtures::week_by_day_model(), 4).unwrap();
    assert_eq!(ts.unit, GroupKey::Day);
    assert_eq!(
        ts.labels,
        ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05"]
    );
    let names: Vec<&str> = ts.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["claude-sonnet-4-5", "glm-4.7", "mystery-model-9"]);
    assert_eq!(ts.series[0].tokens, [54_540, 6_600, 0, 0]);
    assert_eq!(ts.bucket_tokens(), [61_540, 6_600, 0, 15]);
    assert_eq!(ts.series[2].cost, [0.0; 4], "unpriced adds no cost");
}

#[test]
fn a_day_window_is_every_hour_of_it() {
    let mut data = fixtures::seed_day();
    data.groupings
        .retain(|(k, _)| k == &[GroupKey::Hour, GroupKey::Model]);
    let ts = over_time(&data, 4).unwrap();
    assert_eq!(ts.unit, GroupKey::Hour);
    // 20:00:03 yesterday to 20:00:04 today: both partial hours are shown.
    assert_eq!(ts.labels.len(), 25);
    assert_eq!(ts.labels[0], "2026-02-05T20:00");
    assert_eq!(ts.labels[24], "2026-02-06T20:00");
    let nine = ts
        .labels
        .iter()
        .position(|l| l == "2026-02-06T09:00")
        .unwrap();
    assert_eq!(ts.bucket_tokens()[nine], 18_000);
}

#[test]
fn long_spans_become_months_and_small_models_other() {
    let mut data = fixtures::week_by_day_model();
    data.window.since = Some(fixtures::ts("2025-01-01T00:00:00Z"));
    data.window.until = Some(fixtures::ts("2026-03-01T00:00:00Z"));
    let ts = over_time(&data, 2).unwrap();
    assert_eq!(ts.unit, GroupKey::Month);
    assert_eq!(ts.labels, ["2026-02"]);
    let names: Vec<&str> = ts.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["claude-sonnet-4-5", "other (2 models)"]);
    assert_eq!(ts.series[1].tokens, [7_015]);
}

#[test]
fn no_time_grouping_no_series() {
    assert_eq!(over_time(&fixtures::empty_by_agent(), 4), None);
}

#[test]
fn top_lists_sum_the_rest() {
    let data = fixtures::seed_day();
    let agents = top(&data, GroupKey::Agent, 1).unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].name, "2 others");
    assert_eq!(agents[0].tokens, 19_500);
    let agents = top(&data, GroupKey::Agent, 10).unwrap();
    assert_eq!(agents[0].name, "backend-engineer");
    assert_eq!(top(&data, GroupKey::Task, 10), None);
}

#[test]
fn hours_of_the_day_add_up() {
    let hours = hour_of_day(&fixtures::seed_day()).unwrap();
    assert_eq!(hours[9].0, 18_000);
    assert_eq!(hours[11].0, 1_500);
    assert_eq!(hours.iter().map(|h| h.0).sum::<u64>(), 19_500);
}

#[test]
fn by_day_charts_days_even_for_a_short_window() {
    let mut data = fixtures::seed_day();
    data.groupings[0].0 = vec![GroupKey::Day];
    let ts = over_time(&data, 4).unwrap();
    assert_eq!(ts.unit, GroupKey::Day);
    assert_eq!(ts.labels, ["2026-02-05", "2026-02-06"]);
}
