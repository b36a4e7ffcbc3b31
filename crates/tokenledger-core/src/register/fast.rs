//! A fast path for the flat, escape-free lines that make up nearly every
//! register: one JSON object of strings, numbers and nulls. It returns `None`
//! for anything else (escapes, nesting, odd numbers, repeated keys), and the
//! caller falls back to serde_json, so it never changes what a line means —
//! a property test holds it to serde_json's reading.

use super::line::{Count, Money, RawEntry};
use std::borrow::Cow;

enum Value<'a> {
    Str(&'a str),
    Num(&'a [u8]),
    Null,
    Bool,
}

pub(super) fn parse_flat(line: &[u8]) -> Option<RawEntry<'_>> {
    // One UTF-8 check for the whole line; every string then is a slice of it
    // between two ASCII quotes, so always on a character boundary.
    let text = std::str::from_utf8(line).ok()?;
    let mut p = Parser {
        s: text,
        b: line,
        i: 0,
    };
    let mut entry = RawEntry::default();
    let mut seen = 0u32;
    p.ws();
    p.eat(b'{')?;
    p.ws();
    if p.peek()? == b'}' {
        p.i += 1;
    } else {
        loop {
            let key = p.string()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            let value = p.value()?;
            let bit = set_field(&mut entry, key, value)?;
            if seen & bit != 0 {
                return None; // serde_json refuses a repeated field; let it say so
            }
            seen |= bit;
            p.ws();
            match p.peek()? {
                b',' => {
                    p.i += 1;
                    p.ws();
                }
                b'}' => {
                    p.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    p.ws();
    (p.i == line.len()).then_some(entry)
}

/// Stores a known field; returns its bit (0 for unknown keys, which are ignored).
fn set_field<'a>(entry: &mut RawEntry<'a>, key: &str, value: Value<'a>) -> Option<u32> {
    let text = |v: Value<'a>| -> Option<Option<Cow<'a, str>>> {
        match v {
            Value::Str(s) => Some(Some(Cow::Borrowed(s))),
            Value::Null => Some(None),
            _ => None,
        }
    };
    let count = |v: Value<'a>| -> Option<Option<Count>> {
        match v {
            Value::Null => Some(Some(Count(0))),
            Value::Num(n) if n.iter().all(u8::is_ascii_digit) => std::str::from_utf8(n)
                .ok()?
                .parse()
                .ok()
                .map(|c| Some(Count(c))),
            _ => None,
        }
    };
    let bit = match key {
        "timestamp" => {
            entry.timestamp = text(value)?;
            1
        }
        "session_key" => {
            entry.session_key = text(value)?;
            2
        }
        "agent_id" => {
            entry.agent_id = text(value)?;
            4
        }
        "model" => {
            entry.model = text(value)?;
            8
        }
        "tokens_input" => {
            entry.tokens_input = count(value)?;
            16
        }
        "tokens_output" => {
            entry.tokens_output = count(value)?;
            32
        }
        "tokens_cache_read" => {
            entry.tokens_cache_read = count(value)?;
            64
        }
        "tokens_cache_write" => {
            entry.tokens_cache_write = count(value)?;
            128
        }
        "tokens_cache_write_1h" => {
            entry.tokens_cache_write_1h = count(value)?;
            256
        }
        "cost" => {
            entry.cost = Some(match value {
                Value::Null => Money(None),
                Value::Num(n) if n[0] != b'-' => {
                    let v: f64 = std::str::from_utf8(n).ok()?.parse().ok()?;
                    if !v.is_finite() {
                        return None;
                    }
                    Money(Some(v))
                }
                _ => return None,
            });
            512
        }
        // `task` is an alias of `task_id`: both set one field, as in serde.
        "task_id" | "task" => {
            entry.task_id = text(value)?;
            1024
        }
        "project" => {
            entry.project = text(value)?;
            2048
        }
        "source" => {
            entry.source = text(value)?;
            4096
        }
        _ => 0,
    };
    Some(bit)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string with no escapes and no control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        // A plain loop: register strings are short, and a SIMD search costs
        // more to set up than it saves on twenty bytes.
        let mut end = start;
        loop {
            match *self.b.get(end)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => end += 1,
            }
        }
        self.i = end + 1;
        Some(&self.s[start..end])
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b't' => self.literal(b"true").map(|()| Value::Bool),
            b'f' => self.literal(b"false").map(|()| Value::Bool),
            b'-' | b'0'..=b'9' => self.number().map(Value::Num),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// JSON's number grammar exactly: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        Some(&self.b[start..self.i])
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }
}
