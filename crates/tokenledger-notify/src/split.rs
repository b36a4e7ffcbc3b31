//! Splitting one document into messages that each fit a channel's limit.
//! The unit is a line: a table row is never cut, a monospace block cut
//! between two pieces is closed in the first and reopened in the second, and
//! markup is applied after the cut, so no tag, entity or escape is ever
//! split. Only a line longer than a whole message is cut, between
//! characters (at a space where it can), and nothing is dropped.

use crate::doc::{Doc, Line};

/// How one channel writes a document.
#[derive(Debug, Clone, Copy)]
pub struct Markup {
    /// The longest message, in UTF-16 code units (what the APIs count; an
    /// emoji is two), markup included, so the count is an upper bound.
    pub limit: usize,
    /// Opening and closing text of a monospace block, if the channel has one.
    pub pre: Option<(&'static str, &'static str)>,
    /// Opening and closing text of bold.
    pub bold: (&'static str, &'static str),
    /// Escapes text outside a monospace block.
    pub escape: fn(&str) -> String,
    /// Escapes text inside a monospace block.
    pub escape_pre: fn(&str) -> String,
}

impl Markup {
    fn line(&self, line: &Line, in_pre: bool) -> String {
        if in_pre {
            return (self.escape_pre)(&line.text());
        }
        let mut out = String::new();
        for span in &line.0 {
            let text = (self.escape)(&span.text);
            if span.bold && !span.text.trim().is_empty() {
                out.push_str(self.bold.0);
                out.push_str(&text);
                out.push_str(self.bold.1);
            } else {
                out.push_str(&text);
            }
        }
        out
    }
}

pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[derive(Debug, Clone)]
struct Unit {
    line: Line,
    pre: bool,
    block_start: bool,
    heading: bool,
}

/// The document as messages, in order, each within `markup.limit`.
pub fn split(doc: &Doc, markup: &Markup) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current: Vec<Unit> = Vec::new();
    for unit in units(doc, markup) {
        for part in fit(unit, markup) {
            current.push(part);
            if current.len() > 1 && utf16_len(&render(&current, markup)) > markup.limit {
                let mut next = vec![current.pop().expect("just pushed")];
                // A heading goes with its first line, not alone at the end,
                // when the two fit in one message.
                if current.len() > 1 && current.last().is_some_and(|u| u.heading) {
                    next.insert(0, current.pop().expect("checked"));
                    if utf16_len(&render(&next, markup)) > markup.limit {
                        current.push(next.remove(0));
                    }
                }
                pieces.push(render(&current, markup));
                current = next;
            }
        }
    }
    if !current.is_empty() {
        pieces.push(render(&current, markup));
    }
    pieces
}

fn units(doc: &Doc, markup: &Markup) -> Vec<Unit> {
    let mut out = Vec::new();
    for block in &doc.blocks {
        let mut block_start = true;
        if let Some(heading) = &block.heading {
            out.push(Unit {
                line: heading.clone(),
                pre: false,
                block_start,
                heading: true,
            });
            block_start = false;
        }
        for line in &block.lines {
            out.push(Unit {
                line: line.clone(),
                pre: block.pre && markup.pre.is_some(),
                block_start,
                heading: false,
            });
            block_start = false;
        }
    }
    out
}

/// Cuts a line that does not fit in a message on its own.
fn fit(unit: Unit, markup: &Markup) -> Vec<Unit> {
    let fits = |line: &Line| {
        let probe = Unit {
            line: line.clone(),
            ..unit.clone()
        };
        utf16_len(&render(std::slice::from_ref(&probe), markup)) <= markup.limit
    };
    let mut out = Vec::new();
    let mut rest = unit.line.clone();
    while !fits(&rest) {
        let len = rest.char_len();
        // The longest prefix that fits (at least one character, so it ends).
        let (mut lo, mut hi) = (1, len);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(&rest.split_at_char(mid).0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let text: Vec<char> = rest.text().chars().collect();
        let cut = (lo / 2..lo)
            .rev()
            .find(|&i| text[i].is_whitespace())
            .map_or(lo, |i| i + 1);
        let (head, tail) = rest.split_at_char(cut);
        out.push(Unit {
            line: head,
            pre: unit.pre,
            block_start: unit.block_start && out.is_empty(),
            heading: unit.heading,
        });
        rest = tail;
    }
    out.push(Unit {
        line: rest,
        pre: unit.pre,
        block_start: unit.block_start && out.is_empty(),
        heading: unit.heading,
    });
    out
}

fn render(units: &[Unit], markup: &Markup) -> String {
    let (open_pre, close_pre) = markup.pre.unwrap_or(("", ""));
    let mut out = String::new();
    let mut open = false;
    for (i, unit) in units.iter().enumerate() {
        if i > 0 {
            if open && (!unit.pre || unit.block_start) {
                out.push_str(close_pre);
                open = false;
            }
            out.push_str(if unit.block_start { "\n\n" } else { "\n" });
        }
        if unit.pre && !open {
            out.push_str(open_pre);
            open = true;
        }
        out.push_str(&markup.line(&unit.line, unit.pre));
    }
    if open {
        out.push_str(close_pre);
    }
    out
}

#[cfg(test)]
mod tests;
