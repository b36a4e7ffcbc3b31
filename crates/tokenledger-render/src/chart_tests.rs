use super::*;
use crate::fixtures;

const PLAIN: TextStyle = TextStyle {
    color: false,
    width: None,
};

#[test]
fn days_are_stacked_by_model_with_a_legend() {
    insta::assert_snapshot!(render(&fixtures::week_by_day_model(), &PLAIN), @"
        Tokens per day by model (Europe/Berlin)
        2026-02-02  ███████████████████████████████████▓▓▓▓▓  61,540
        2026-02-03  ████                                       6,600
        2026-02-04                                                 0
        2026-02-05  ▒                                             15
        █ claude-sonnet-4-5   ▓ glm-4.7   ▒ mystery-model-9
        ");
}

#[test]
fn colour_uses_full_blocks_and_resets() {
    let style = TextStyle {
        color: true,
        width: None,
    };
    let out = render(&fixtures::week_by_day_model(), &style);
    assert!(
        out.contains("\x1b[36m█") && out.contains("\x1b[35m█"),
        "{out}"
    );
    assert!(!out.contains('▓'), "{out}");
    assert_eq!(
        out.matches("\x1b[0m").count(),
        out.matches("\x1b[3").count()
    );
}

#[test]
fn a_narrow_terminal_gets_a_shorter_bar() {
    let style = TextStyle {
        color: false,
        width: Some(40),
    };
    let out = render(&fixtures::week_by_day_model(), &style);
    assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
}

#[test]
fn a_stack_adds_up_to_its_bar() {
    let ts = series::over_time(&fixtures::week_by_day_model(), 4).unwrap();
    let bar = stacked(&ts, 0, 61_540, 40, &PLAIN);
    assert_eq!(bar.chars().count(), 40);
    assert_eq!(
        bar.trim_end().chars().count(),
        40,
        "the biggest day is full"
    );
    // 15 tokens against 61,540 still shows.
    assert_eq!(stacked(&ts, 3, 61_540, 40, &PLAIN).trim_end(), "▒");
}
