//! The channel-neutral message: blocks of lines with bold spans, read from
//! the terminal renderers' coloured output, so every channel shows exactly
//! what `tokenledger report` prints and no layout is written twice.

/// A run of text, bold or not. Text is raw: each channel escapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line(pub Vec<Span>);

impl Line {
    pub fn plain(text: &str) -> Line {
        Line(vec![Span {
            text: text.to_string(),
            bold: false,
        }])
    }

    pub fn text(&self) -> String {
        self.0.iter().map(|s| s.text.as_str()).collect()
    }

    pub fn char_len(&self) -> usize {
        self.0.iter().map(|s| s.text.chars().count()).sum()
    }

    /// The first `n` characters and the rest, spans kept.
    pub fn split_at_char(&self, n: usize) -> (Line, Line) {
        let (mut head, mut tail) = (Vec::new(), Vec::new());
        let mut left = n;
        for span in &self.0 {
            let len = span.text.chars().count();
            if left >= len {
                head.push(span.clone());
                left -= len;
            } else if left == 0 {
                tail.push(span.clone());
            } else {
                let at = span
                    .text
                    .char_indices()
                    .nth(left)
                    .map_or(span.text.len(), |(i, _)| i);
                let (a, b) = span.text.split_at(at);
                head.push(Span {
                    text: a.to_string(),
                    bold: span.bold,
                });
                tail.push(Span {
                    text: b.to_string(),
                    bold: span.bold,
                });
                left = 0;
            }
        }
        (Line(head), Line(tail))
    }
}

/// A paragraph: an optional heading and its lines. `pre` bodies are tables
/// or charts whose columns only line up in a monospace font.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub heading: Option<Line>,
    pub lines: Vec<Line>,
    pub pre: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    /// Reads text with SGR colour codes: bold (`1`) is kept, colours are
    /// dropped, blank lines separate blocks, and a block whose first line is
    /// all bold is a heading over a monospace body.
    pub fn from_ansi(text: &str) -> Doc {
        let mut blocks = Vec::new();
        let mut current: Vec<Line> = Vec::new();
        let mut bold = false;
        for raw in text.lines() {
            let line = parse_line(raw, &mut bold);
            if line.text().trim().is_empty() {
                blocks.extend(block_of(std::mem::take(&mut current)));
            } else {
                current.push(line);
            }
        }
        blocks.extend(block_of(current));
        Doc { blocks }
    }

    /// The document as plain text: lines joined by newlines, blocks by a
    /// blank line (for channels that do their own formatting).
    pub fn plain_text(&self) -> String {
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|b| {
                let lines: Vec<String> = b.heading.iter().chain(&b.lines).map(Line::text).collect();
                lines.join("\n")
            })
            .collect();
        blocks.join("\n\n")
    }

    /// Every character of text in the document, in order.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            for line in block.heading.iter().chain(&block.lines) {
                out.push_str(&line.text());
            }
        }
        out
    }
}

fn block_of(mut lines: Vec<Line>) -> Option<Block> {
    if lines.is_empty() {
        return None;
    }
    let first = &lines[0];
    let heading = lines.len() > 1 && !first.0.is_empty() && first.0.iter().all(|s| s.bold);
    Some(if heading {
        let heading = lines.remove(0);
        Block {
            heading: Some(heading),
            lines,
            pre: true,
        }
    } else {
        Block {
            heading: None,
            lines,
            pre: false,
        }
    })
}

/// One line's spans; `bold` carries SGR state across lines as a terminal would.
fn parse_line(raw: &str, bold: &mut bool) -> Line {
    let mut spans: Vec<Span> = Vec::new();
    let push = |text: &str, bold: bool, spans: &mut Vec<Span>| {
        if text.is_empty() {
            return;
        }
        match spans.last_mut() {
            Some(last) if last.bold == bold => last.text.push_str(text),
            _ => spans.push(Span {
                text: text.to_string(),
                bold,
            }),
        }
    };
    let mut rest = raw.trim_end_matches('\r');
    while let Some(esc) = rest.find('\x1b') {
        push(&rest[..esc], *bold, &mut spans);
        let after = &rest[esc + 1..];
        let Some(params) = after.strip_prefix('[') else {
            // A lone ESC: drop it, keep what follows.
            rest = after;
            continue;
        };
        let end = params
            .find(|c: char| c.is_ascii_alphabetic() || c == '~')
            .unwrap_or(params.len());
        if params[end..].starts_with('m') {
            for code in params[..end].split(';') {
                match code {
                    "" | "0" | "22" => *bold = false,
                    "1" => *bold = true,
                    _ => {}
                }
            }
        }
        rest = params.get(end + 1..).unwrap_or("");
    }
    push(rest, *bold, &mut spans);
    Line(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_headings_become_monospace_bodies() {
        let text = "📊 \x1b[1mDAILY\x1b[0m\n📅 2026-02-06\n\n\x1b[1mBy Model\x1b[0m\n• a  \x1b[36m██\x1b[0m  1\n• b\n\nGenerated at 20:00 UTC\n";
        let doc = Doc::from_ansi(text);
        assert_eq!(doc.blocks.len(), 3);
        assert!(!doc.blocks[0].pre);
        assert_eq!(doc.blocks[0].lines[0].0[1].text, "DAILY");
        assert!(doc.blocks[0].lines[0].0[1].bold);
        assert_eq!(
            doc.blocks[1].heading,
            Some(Line(vec![Span {
                text: "By Model".into(),
                bold: true
            }]))
        );
        assert!(doc.blocks[1].pre);
        assert_eq!(doc.blocks[1].lines[0].text(), "• a  ██  1");
        assert_eq!(doc.blocks[2].lines[0].text(), "Generated at 20:00 UTC");
        assert!(
            doc.plain_text()
                .starts_with("📊 DAILY\n📅 2026-02-06\n\nBy Model\n• a  ██  1\n")
        );
    }

    #[test]
    fn lines_split_inside_spans_by_characters() {
        let line = Line(vec![
            Span {
                text: "ab😀".into(),
                bold: true,
            },
            Span {
                text: "cd".into(),
                bold: false,
            },
        ]);
        let (a, b) = line.split_at_char(3);
        assert_eq!(a.text(), "ab😀");
        assert_eq!(b.text(), "cd");
        let (a, b) = line.split_at_char(2);
        assert_eq!((a.text().as_str(), b.text().as_str()), ("ab", "😀cd"));
        assert!(b.0[0].bold && !b.0[1].bold);
    }
}
