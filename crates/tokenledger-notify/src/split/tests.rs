use super::*;
use crate::doc::{Block, Span};
use crate::{discord, slack, telegram};
use proptest::prelude::*;

fn register(names: &[String]) -> Doc {
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, name)| Line::plain(&format!("• {name}  {i} tokens  (1 session)  $0.0100")))
        .collect();
    Doc {
        blocks: vec![
            Block {
                heading: None,
                lines: vec![Line(vec![
                    Span {
                        text: "📊 ".into(),
                        bold: false,
                    },
                    Span {
                        text: "DAILY TOKEN USAGE REPORT".into(),
                        bold: true,
                    },
                ])],
                pre: false,
            },
            Block {
                heading: Some(Line(vec![Span {
                    text: "By Agent".into(),
                    bold: true,
                }])),
                lines: rows,
                pre: true,
            },
            Block {
                heading: None,
                lines: vec![Line::plain("Generated at 20:00 UTC")],
                pre: false,
            },
        ],
    }
}

/// Tags balanced and properly nested, only the tags we write, and every `&`
/// an entity: what Telegram's HTML parser accepts.
fn valid_telegram_html(piece: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = piece;
    while let Some(i) = rest.find(['<', '>', '&']) {
        let tail = &rest[i..];
        if tail.starts_with('>') {
            return Err(format!("bare > in {piece:?}"));
        }
        if let Some(after) = tail.strip_prefix('&') {
            let ok = ["amp;", "lt;", "gt;"].iter().any(|e| after.starts_with(e));
            if !ok {
                return Err(format!("bare & in {piece:?}"));
            }
            rest = after;
            continue;
        }
        let end = tail.find('>').ok_or("unclosed tag")?;
        let tag = &tail[1..end];
        match tag {
            "b" | "pre" => stack.push(tag),
            "/b" | "/pre" => {
                if stack.pop() != Some(&tag[1..]) {
                    return Err(format!("misnested </{tag}> in {piece:?}"));
                }
            }
            other => return Err(format!("unexpected tag <{other}> in {piece:?}")),
        }
        rest = &tail[end + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?} in {piece:?}"))
    }
}

fn telegram_text(piece: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in piece.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z-]{1,20}",
        Just("<b>evil</b>".to_string()),
        Just("a&b;c & <pre>".to_string()),
        Just("*star* _u_ `tick` ~s~ |p| >q".to_string()),
        Just("🤖 agent 😀".to_string()),
        "[a-z<>&*` ]{100,400}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn telegram_pieces_fit_balance_and_keep_every_row(
        names in prop::collection::vec(name(), 0..150),
        limit in 120usize..4096,
    ) {
        let doc = register(&names);
        let markup = Markup { limit, ..telegram::MARKUP };
        let pieces = split(&doc, &markup);
        for piece in &pieces {
            prop_assert!(utf16_len(piece) <= limit, "{} > {limit}", utf16_len(piece));
            if let Err(e) = valid_telegram_html(piece) {
                prop_assert!(false, "{}", e);
            }
        }
        let all: String = pieces.iter().map(|p| telegram_text(p)).collect::<String>().replace('\n', "");
        prop_assert_eq!(all, doc.text());
        // A row that fits in a message is never cut.
        for line in &doc.blocks[1].lines {
            let row = telegram::escape_html(&line.text());
            if utf16_len(&row) + 11 <= limit {
                prop_assert!(pieces.iter().any(|p| p.contains(&row)), "row cut: {row}");
            }
        }
    }

    #[test]
    fn discord_and_slack_pieces_fit_and_keep_every_character(
        names in prop::collection::vec(name(), 0..100),
    ) {
        let doc = register(&names);
        for markup in [discord::MARKUP, slack::MARKUP] {
            let pieces = split(&doc, &markup);
            for piece in &pieces {
                prop_assert!(utf16_len(piece) <= markup.limit);
                if markup.pre.is_some() {
                    prop_assert_eq!(piece.matches("```").count() % 2, 0, "unbalanced code block");
                }
            }
            prop_assert!(!pieces.is_empty());
        }
    }
}

#[test]
fn three_hundred_agents_become_several_messages_with_every_row() {
    let names: Vec<String> = (0..300)
        .map(|i| format!("agent-{i:03}-backend-worker"))
        .collect();
    let doc = register(&names);
    let pieces = split(&doc, &telegram::MARKUP);
    assert!(pieces.len() >= 3, "{} pieces", pieces.len());
    for name in &names {
        assert_eq!(
            pieces.iter().filter(|p| p.contains(name.as_str())).count(),
            1,
            "{name}"
        );
    }
    // The monospace block is closed at each cut and reopened after it.
    assert!(pieces[0].ends_with("</pre>"));
    assert!(pieces[1].starts_with("<pre>"));
}

#[test]
fn a_line_longer_than_a_message_is_cut_at_spaces_outside_entities() {
    let long = "&<> word ".repeat(100);
    let doc = Doc {
        blocks: vec![Block {
            heading: None,
            lines: vec![Line::plain(&long)],
            pre: false,
        }],
    };
    let markup = Markup {
        limit: 100,
        ..telegram::MARKUP
    };
    let pieces = split(&doc, &markup);
    assert!(pieces.len() > 5);
    for piece in &pieces {
        assert!(utf16_len(piece) <= 100);
        valid_telegram_html(piece).unwrap();
    }
    let joined: String = pieces
        .iter()
        .map(|p| telegram_text(p))
        .collect::<String>()
        .replace('\n', "");
    assert_eq!(joined, long);
}

#[test]
fn a_heading_is_not_left_alone_at_the_end_of_a_message() {
    let names: Vec<String> = (0..40).map(|i| format!("agent-{i}")).collect();
    let mut doc = register(&names);
    doc.blocks.insert(
        1,
        Block {
            heading: None,
            lines: vec![Line::plain(&"x".repeat(60))],
            pre: false,
        },
    );
    let markup = Markup {
        limit: 120,
        ..telegram::MARKUP
    };
    for piece in split(&doc, &markup) {
        assert!(!piece.ends_with("<b>By Agent</b>"), "{piece}");
    }
}
