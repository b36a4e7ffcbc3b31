//! A fast path for the flat, escape-free lines that make up nearly every
//! register: one JSON object of strings, numbers and nulls. It returns `None`
//! for anything else (escapes, nesting, odd numbers, repeated keys, invalid
//! UTF-8), and the caller falls back to serde_json, so it never changes what
//! a line means — a property test holds it to serde_json's reading.

use super::line::{Count, Money, RawEntry};
use crate::jsonl::utf8;

/// Where a string's contents (without quotes) lie in the line. Only spans of
/// valid UTF-8 are ever made.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    pub(super) fn of(self, line: &[u8]) -> &[u8] {
        &line[self.start as usize..self.end as usize]
    }
}

pub(super) const TIMESTAMP: usize = 0;
pub(super) const SESSION_KEY: usize = 1;
pub(super) const AGENT_ID: usize = 2;
pub(super) const MODEL: usize = 3;
pub(super) const TASK: usize = 4;
pub(super) const PROJECT: usize = 5;
pub(super) const SOURCE: usize = 6;
/// Counts, in `Flat::counts` order from here: input, output, cache read,
/// cache write, cache write 1h.
const COUNT: usize = 7;
const COST: usize = 12;
/// Any key not read: its value is checked and skipped.
const OTHER: usize = 13;

/// A line's known fields with its strings left in place: nothing is copied
/// or allocated until a consumer asks for it. Kept small (presence bits,
/// not `Option`s): a million of these are moved from parser to consumer.
#[derive(Debug, Default)]
pub(super) struct Flat {
    texts: [Span; 7],
    /// Input, output, cache read, cache write, cache write 1h: absent or
    /// `null` reads as 0, as it does in `Count`.
    pub(super) counts: [u64; 5],
    pub(super) cost: Option<f64>,
    /// A bit per field id the line holds; a `null` text holds none.
    present: u16,
}

impl Flat {
    fn has(&self, id: usize) -> bool {
        self.present & (1 << id) != 0
    }

    /// `TIMESTAMP`..=`SOURCE`; `None` when absent or `null`.
    pub(super) fn text(&self, field: usize) -> Option<Span> {
        self.has(field).then_some(self.texts[field])
    }
}

/// The fast path as serde's shape, for `parse_line` and the property test.
pub(super) fn parse_flat(line: &[u8]) -> Option<RawEntry<'_>> {
    let mut flat = Flat::default();
    scan(line, &mut flat)?;
    let text = |i: usize| flat.text(i).map(|span| utf8(span.of(line)));
    let count = |i: usize| flat.has(COUNT + i).then_some(Count(flat.counts[i]));
    Some(RawEntry {
        timestamp: text(TIMESTAMP),
        session_key: text(SESSION_KEY),
        agent_id: text(AGENT_ID),
        model: text(MODEL),
        tokens_input: count(0),
        tokens_output: count(1),
        tokens_cache_read: count(2),
        tokens_cache_write: count(3),
        tokens_cache_write_1h: count(4),
        cost: flat.has(COST).then_some(Money(flat.cost)),
        task_id: text(TASK),
        project: text(PROJECT),
        source: text(SOURCE),
    })
}

/// Reads `line` into `flat` (a default one), in place: returned by value it
/// was copied on every line.
pub(super) fn scan(line: &[u8], flat: &mut Flat) -> Option<()> {
    let mut p = Parser { b: line, i: 0 };
    let mut seen = 0u32;
    p.ws();
    p.eat(b'{')?;
    p.ws();
    if p.peek()? == b'}' {
        p.i += 1;
    } else {
        loop {
            let id = p.key()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            p.field(flat, id)?;
            let bit = (1 << id) & !(1 << OTHER);
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
    (p.i == line.len()).then_some(())
}

/// The known key that `rest` (what follows a key's opening quote) starts
/// with, closing quote included, and that length: a few byte tests pick the
/// one candidate and a fixed-size compare confirms it, so the key is never
/// scanned. Every known key is found this way; `None` is any other key.
fn known_key(rest: &[u8]) -> Option<(usize, usize)> {
    #[inline(always)]
    fn is(rest: &[u8], id: usize, key: &'static [u8]) -> Option<(usize, usize)> {
        rest.starts_with(key).then_some((id, key.len()))
    }
    match *rest.first()? {
        b't' => match *rest.get(1)? {
            b'i' => is(rest, TIMESTAMP, b"timestamp\""),
            b'a' if rest.get(4) == Some(&b'"') => is(rest, TASK, b"task\""),
            b'a' => is(rest, TASK, b"task_id\""),
            _ => match *rest.get(7)? {
                b'i' => is(rest, COUNT, b"tokens_input\""),
                b'o' => is(rest, COUNT + 1, b"tokens_output\""),
                _ => match *rest.get(13)? {
                    b'r' => is(rest, COUNT + 2, b"tokens_cache_read\""),
                    _ if rest.get(18) == Some(&b'"') => {
                        is(rest, COUNT + 3, b"tokens_cache_write\"")
                    }
                    _ => is(rest, COUNT + 4, b"tokens_cache_write_1h\""),
                },
            },
        },
        b's' if rest.get(1) == Some(&b'e') => is(rest, SESSION_KEY, b"session_key\""),
        b's' => is(rest, SOURCE, b"source\""),
        b'a' => is(rest, AGENT_ID, b"agent_id\""),
        b'm' => is(rest, MODEL, b"model\""),
        b'c' => is(rest, COST, b"cost\""),
        b'p' => is(rest, PROJECT, b"project\""),
        _ => None,
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bits marking the bytes of `w` below `n` (n <= 0x80). Only the lowest
/// mark is exact (a borrow can mark bytes above it), which is all we use.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

fn equal(w: u64, c: u8) -> u64 {
    below(w ^ (ONES * u64::from(c)), 1)
}

/// The run of one to seven digits `word` starts with, and its value, found
/// and converted without a loop (counts are mostly 3-6 digits, and a loop's
/// exit is a branch the CPU cannot predict). `None` for none or eight.
fn short_count(word: [u8; 8]) -> Option<(usize, u64)> {
    let v = u64::from_le_bytes(word).wrapping_sub(ONES * u64::from(b'0'));
    // A byte is no digit if it wrapped below '0' or lies above '9'; only the
    // lowest such mark is exact, and it is all that is used.
    let other = (v.wrapping_add(ONES * 0x76) | v) & HIGHS;
    let digits = other.trailing_zeros() as usize / 8;
    if digits == 0 || digits == 8 {
        return None;
    }
    // Digits to the top bytes (zeros below read as leading zeros), then
    // pairs, quads and the eight folded together by multiplication.
    let v = v << (8 * (8 - digits));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let low = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let high = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some((digits, low.wrapping_add(high) >> 32))
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
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

    /// A string with no escapes and no control characters, checked to be UTF-8.
    // Inlined: returned through memory, the span's read-back stalled on store forwarding.
    #[inline(always)]
    fn string(&mut self) -> Option<Span> {
        self.eat(b'"')?;
        let start = self.i;
        let mut pos = start;
        // Eight bytes per step: keys and values are mostly 5-30 bytes, where
        // this beats both a byte loop and a SIMD search's setup.
        let mut all = 0u64; // every byte OR-ed together: ASCII needs no UTF-8 check
        let end = loop {
            let Some(word) = self.b.get(pos..pos + 8) else {
                loop {
                    match *self.b.get(pos)? {
                        b'"' => break,
                        b'\\' => return None,
                        c if c < 0x20 => return None,
                        c => all |= u64::from(c),
                    }
                    pos += 1;
                }
                break pos;
            };
            let w = u64::from_le_bytes(word.try_into().ok()?);
            let special = equal(w, b'"') | equal(w, b'\\') | below(w, 0x20);
            if special == 0 {
                all |= w;
                pos += 8;
                continue;
            }
            let at = special.trailing_zeros() as usize / 8;
            all |= w & ((1u64 << (at * 8)) - 1);
            if self.b[pos + at] != b'"' {
                return None;
            }
            break pos + at;
        };
        if all & HIGHS != 0 {
            std::str::from_utf8(&self.b[start..end]).ok()?;
        }
        self.i = end + 1;
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }

    fn key(&mut self) -> Option<usize> {
        if self.peek()? != b'"' {
            return None;
        }
        match known_key(&self.b[self.i + 1..]) {
            Some((id, len)) => {
                self.i += 1 + len;
                Some(id)
            }
            None => self.string().map(|_| OTHER),
        }
    }

    /// Reads a field's value, declining any type serde would read differently.
    fn field(&mut self, flat: &mut Flat, id: usize) -> Option<()> {
        if id == OTHER {
            return self.skip_value();
        }
        let null = self.peek()? == b'n';
        if null {
            self.literal(b"null")?;
        }
        match id {
            TIMESTAMP..=SOURCE if null => return Some(()),
            TIMESTAMP..=SOURCE => flat.texts[id] = self.string()?,
            COST => flat.cost = if null { None } else { Some(self.cost()?) },
            _ => flat.counts[id - COUNT] = if null { 0 } else { self.count()? },
        }
        flat.present |= 1 << id;
        Some(())
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// A plain token count: digits only, no leading zero, fits in a u64.
    /// Anything else (`-1`, `1.0`, `1e3`, `01`) is left to serde.
    fn count(&mut self) -> Option<u64> {
        let start = self.i;
        let value = match self.b[start..]
            .first_chunk::<8>()
            .and_then(|w| short_count(*w))
        {
            Some((digits, value)) => {
                self.i += digits;
                value
            }
            None => {
                self.digits();
                let digits = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                digits.parse().ok()? // empty, or past u64: serde says why
            }
        };
        let digits = self.i - start;
        let plain = digits > 0
            && (digits == 1 || self.b[start] != b'0')
            && !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        plain.then_some(value)
    }

    /// A cost: a non-negative JSON number as f64. A decimal of at most 15
    /// digits without exponent is `m / 10^k` with both exact in f64: one
    /// division, correctly rounded, so the very bits `str::parse` (and
    /// serde_json's `float_roundtrip`) give. Anything else goes to `str::parse`.
    fn cost(&mut self) -> Option<f64> {
        const POW10: [f64; 16] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        let text = self.number().filter(|n| n[0] != b'-')?;
        let (mut mantissa, mut digits, mut scale) = (0u64, 0, None);
        for &c in text {
            match c {
                b'0'..=b'9' if digits < 15 => {
                    mantissa = mantissa * 10 + u64::from(c - b'0');
                    digits += 1;
                    scale = scale.map(|s| s + 1);
                }
                b'.' => scale = Some(0),
                _ => {
                    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
                    return value.is_finite().then_some(value);
                }
            }
        }
        Some(mantissa as f64 / POW10[scale.unwrap_or(0)])
    }

    /// JSON's number grammar exactly: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
    fn number(&mut self) -> Option<&[u8]> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        // Any one byte of a typical line changed (a control character, an
        // escape, invalid UTF-8, a stray digit, at any place in the eight-byte
        // steps): the fast path reads what serde reads, or declines.
        #[test]
        fn any_byte_changed_reads_as_serde_does_or_is_declined(
            at in 0usize..230, byte in any::<u8>(), name in "[a-z]{0,20}",
        ) {
            let line = format!(
                r#"{{"timestamp":"2026-02-05T20:00:00Z","session_key":"s-{name}","agent_id":"a","model":"é{name}","tokens_input":1234567,"tokens_output":12345678,"cost":0.012345,"task":"t"}}"#
            );
            let mut bytes = line.into_bytes();
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
            let Some(fast) = parse_flat(&bytes) else { return Ok(()) };
            let slow: RawEntry<'_> = serde_json::from_slice(&bytes)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&bytes))))?;
            let texts = |e: &RawEntry<'_>| {
                [&e.timestamp, &e.session_key, &e.agent_id, &e.model, &e.task_id]
                    .map(|t| t.as_deref().map(str::to_owned))
            };
            let counts = |e: &RawEntry<'_>| {
                [&e.tokens_input, &e.tokens_output].map(|c| c.as_ref().map_or(0, |c| c.0))
            };
            let cost = |e: &RawEntry<'_>| e.cost.as_ref().and_then(|m| m.0).map(f64::to_bits);
            prop_assert_eq!(texts(&fast), texts(&slow));
            prop_assert_eq!(counts(&fast), counts(&slow));
            prop_assert_eq!(cost(&fast), cost(&slow));
        }
    }
}
