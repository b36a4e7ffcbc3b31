//! Tests of the settings edit: structure, round trips, refusals.
use super::*;
use std::path::Path;

const CMD: &str = "/opt/bin/tokenledger hook claude-code";

fn parse(text: &str) -> Json {
    parse_settings(Path::new("settings.json"), text.as_bytes())
        .unwrap()
        .0
}

fn render(root: &Json) -> String {
    Style::default().render(root)
}

#[test]
fn round_trip_keeps_key_order_duplicates_and_numbers() {
    let text = "{\n  \"z\": 1,\n  \"a\": [1.5, -2, 18446744073709551615, true, null],\n  \"m\": {\"y\": \"é\\n\", \"b\": {}},\n  \"z\": []\n}\n";
    let root = parse(text);
    let expected = "{\n  \"z\": 1,\n  \"a\": [\n    1.5,\n    -2,\n    18446744073709551615,\n    true,\n    null\n  ],\n  \"m\": {\n    \"y\": \"é\\n\",\n    \"b\": {}\n  },\n  \"z\": []\n}\n";
    assert_eq!(render(&root), expected);
}

#[test]
fn install_then_uninstall_restores_the_structure() {
    let text = r#"{"model": "opus", "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}"#;
    let original = parse(text);
    let mut root = original.clone();
    let added = add_hooks(&mut root, CMD);
    assert_eq!(added.added.len(), 5);
    assert!(add_hooks(&mut root.clone(), CMD).is_empty());
    let removed = remove_hooks(&mut root);
    assert_eq!(removed.removed.len(), 5);
    assert_eq!(root, original);
}

#[test]
fn a_hooks_object_we_emptied_goes_but_one_the_user_left_empty_stays() {
    let mut root = parse(r#"{"a": 1}"#);
    add_hooks(&mut root, CMD);
    remove_hooks(&mut root);
    assert_eq!(root, parse(r#"{"a": 1}"#));

    let mut root = parse(r#"{"hooks": {"Stop": []}}"#);
    assert!(remove_hooks(&mut root).is_empty());
    assert_eq!(root, parse(r#"{"hooks": {"Stop": []}}"#));
}

#[test]
fn a_moved_binary_is_updated_in_place() {
    let mut root = parse(r#"{}"#);
    add_hooks(&mut root, "/old/tokenledger hook claude-code");
    let changes = add_hooks(&mut root, CMD);
    assert!(changes.added.is_empty());
    assert_eq!(changes.updated.len(), 5);
    let stop = root.get("hooks").unwrap().get("Stop").unwrap();
    assert_eq!(
        render(stop),
        format!(
            "[\n  {{\n    \"hooks\": [\n      {{\n        \"type\": \"command\",\n        \"command\": \"{CMD}\"\n      }}\n    ]\n  }}\n]\n"
        )
    );
}

#[test]
fn our_handler_sharing_a_group_with_the_users_leaves_the_group() {
    let text = format!(
        r#"{{"hooks": {{"Stop": [{{"hooks": [{{"type": "command", "command": "say hi"}}, {{"type": "command", "command": "{CMD}"}}]}}]}}}}"#
    );
    let mut root = parse(&text);
    remove_hooks(&mut root);
    assert_eq!(
        root,
        parse(r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say hi"}]}]}}"#)
    );
}

#[test]
fn malformed_settings_are_refused_with_a_position() {
    for (text, needle) in [
        ("{\n  \"a\": 1,\n}", "settings.json:3:1: not valid JSON"),
        (
            "\n  [1, 2]",
            "settings.json:2:3: unexpected settings shape: the top level is an array",
        ),
        (
            "{\"hooks\": \"none\"}",
            "settings.json:1:16: unexpected settings shape",
        ),
        (
            "{\"hooks\": {\"Stop\": {\"hooks\": []}}}",
            "unexpected settings shape",
        ),
        ("{\"hooks\": {\"Stop\": [42]}}", "expected a matcher group"),
        (
            "{\"hooks\": {\"Stop\": [{\"hooks\": [{\"command\": 7}]}]}}",
            "unexpected settings shape",
        ),
    ] {
        let message = parse_settings(Path::new("settings.json"), text.as_bytes()).unwrap_err();
        assert!(message.contains(needle), "{text}: {message}");
        assert!(message.contains("left untouched"), "{message}");
    }
}

#[test]
fn style_follows_the_file() {
    let style = Style::detect("{\r\n\t\"a\": 1\r\n}");
    assert_eq!(style.indent.as_deref(), Some("\t"));
    assert!(style.crlf);
    assert!(!style.final_newline);
    let root = parse("{\"a\": 1}");
    assert_eq!(style.render(&root), "{\r\n\t\"a\": 1\r\n}");
    assert_eq!(Style::detect("{\"a\":1}\n").render(&root), "{\"a\":1}\n");
}
