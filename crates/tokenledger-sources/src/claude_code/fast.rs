//! A hand-rolled reader for usage lines: the same [`Line`] serde would give,
//! about three times faster, because it skips what it does not name (the
//! `content` text, most of a line) with a vectorized search for the next
//! quote or backslash instead of serde's byte-group scan, and matches keys as
//! bytes.
//!
//! It accepts a strict subset of what serde accepts: whenever a line is
//! anything but plain (a control character, an escaped key, a number that is
//! not a plain count, a value of an unexpected type, a duplicate field, nesting
//! deeper than 64, invalid JSON), it returns `None` and the caller hands the
//! line to serde, which decides and words the warning. Whatever it does
//! return equals what serde returns for the line (`tests_fast` checks this on
//! mutated lines).

use super::fields::{Field, Obj, Str};
use super::parser::{
    CacheSplit, Line, Message, OutputDetails, ProgressData, ProgressMessage, Usage,
};
use std::borrow::Cow;

/// The line's top-level object, if it is plain enough to read here.
pub(super) fn line(bytes: &[u8]) -> Option<Line<'_>> {
    // Trailing whitespace (a CRLF line's `\r`) is fine; any other control
    // byte is an error inside a string or unusual whitespace: serde's call.
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if has_control(bytes) {
        return None;
    }
    let mut c = Cursor { b: bytes, i: 0 };
    let mut line = Line::default();
    c.ws();
    c.line(&mut line)?;
    c.ws();
    (c.i == bytes.len()).then_some(line)
}

/// Any byte below 0x20, in a form the compiler vectorizes.
fn has_control(bytes: &[u8]) -> bool {
    // The smallest byte, without an early exit: a loop the compiler unrolls
    // into wide minimums (control bytes are rare; the whole line is scanned).
    bytes.iter().fold(u8::MAX, |min, &b| min.min(b)) < 0x20
}

/// The first `"` or `\\`. Most strings are short (keys, ids): the first
/// bytes are checked eight at a time in registers, the rest (text) with a
/// vectorized search.
#[inline]
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let mut i = 0;
    while i < 64 {
        let Some(word) = s.get(i..i + 8) else {
            break;
        };
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // Flags zero bytes; the lowest flag is always a true one.
        let zero = |x: u64| x.wrapping_sub(ONES) & !x;
        let found = (zero(quote) | zero(backslash)) & (ONES << 7);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr2(b'"', b'\\', &s[i..]).map(|j| i + j)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

/// Which fields of a struct were seen: serde refuses duplicates.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    /// `Some` the first time field `bit` is seen.
    fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        Some(())
    }
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The literal `word` (`null`, `true`, `false`) at the cursor.
    #[inline]
    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// The string at the cursor (on its opening quote): its raw bytes and
    /// whether it has escapes, which are checked as serde checks the strings
    /// it skips. Control bytes were ruled out for the whole line.
    #[inline]
    fn raw_str(&mut self) -> Option<(&'a [u8], bool)> {
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let j = i + quote_or_backslash(&self.b[i..])?;
            if self.b[j] == b'"' {
                self.i = j + 1;
                return Some((&self.b[start..j], escaped));
            }
            escaped = true;
            i = match *self.b.get(j + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j + 2,
                b'u' => {
                    let hex = self.b.get(j + 2..j + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    j + 6
                }
                _ => return None,
            };
        }
    }

    /// A JSON number's text, by the grammar serde enforces.
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
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        Some(&self.b[start..self.i])
    }

    #[inline]
    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    /// Skips any value, checking it is valid JSON, without recursion.
    fn skip(&mut self) -> Option<()> {
        // Open containers, innermost in bit 0: 1 for an object, 0 for an array.
        let mut stack = 0u64;
        let mut depth = 0u32;
        'value: loop {
            self.ws();
            match self.peek()? {
                b'"' => drop(self.raw_str()?),
                open @ (b'{' | b'[') => {
                    if depth == 64 {
                        return None;
                    }
                    self.i += 1;
                    depth += 1;
                    let object = open == b'{';
                    stack = (stack << 1) | u64::from(object);
                    self.ws();
                    let close = if object { b'}' } else { b']' };
                    // Empty: the closing loop below consumes `close`.
                    if self.peek()? != close {
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                b'n' => self.literal(b"null").then_some(())?,
                b't' => self.literal(b"true").then_some(())?,
                b'f' => self.literal(b"false").then_some(())?,
                _ => drop(self.number()?),
            }
            // After a value: a comma (then a key, in an object) or closings.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = stack & 1 == 1;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.i += 1;
                depth -= 1;
                stack >>= 1;
            }
        }
    }

    /// A skipped object's key and its colon.
    fn key(&mut self) -> Option<()> {
        self.ws();
        if self.peek()? != b'"' {
            return None;
        }
        self.raw_str()?;
        self.colon()
    }

    #[inline]
    fn colon(&mut self) -> Option<()> {
        self.ws();
        if self.peek()? != b':' {
            return None;
        }
        self.i += 1;
        Some(())
    }

    /// The fields of the object at the cursor (on `{`), each handed to
    /// `field` with the cursor on its value. Keys must be plain (no escapes)
    /// valid UTF-8, as serde matches them after unescaping.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> Option<()>) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            if self.peek()? != b'"' {
                return None;
            }
            let (key, escaped) = self.raw_str()?;
            if escaped || (!key.is_ascii() && std::str::from_utf8(key).is_err()) {
                return None;
            }
            self.colon()?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.literal(b"null")
    }

    fn str(&mut self) -> Option<Field<Str<'a>>> {
        if self.null() {
            return Some(Field::Null);
        }
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i;
        let (raw, escaped) = self.raw_str()?;
        let text = if escaped {
            // Rare: serde unescapes (and judges surrogates) exactly.
            Cow::Owned(serde_json::from_slice::<String>(&self.b[start..self.i]).ok()?)
        } else {
            Cow::Borrowed(std::str::from_utf8(raw).ok()?)
        };
        Some(Field::Value(Str(text)))
    }

    /// A count: plain digits that fit; anything else is serde's call.
    fn count(&mut self) -> Option<Option<u64>> {
        if self.null() {
            return Some(None);
        }
        let start = self.i;
        self.digits();
        let digits = &self.b[start..self.i];
        if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        digits
            .iter()
            .try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .map(Some)
    }

    fn u64(&mut self) -> Option<Field<u64>> {
        Some(self.count()?.map_or(Field::Null, Field::Value))
    }

    fn bool(&mut self) -> Option<Field<bool>> {
        if self.null() {
            Some(Field::Null)
        } else if self.literal(b"true") {
            Some(Field::Value(true))
        } else if self.literal(b"false") {
            Some(Field::Value(false))
        } else {
            None
        }
    }

    fn f64(&mut self) -> Option<Field<f64>> {
        if self.null() {
            return Some(Field::Null);
        }
        let text = self.number()?;
        // Rare (old versions): serde parses it, so rounding and range agree.
        Some(Field::Value(serde_json::from_slice::<f64>(text).ok()?))
    }

    /// An object-or-ignored field into `slot`: objects are read, `null` is
    /// ignored, and other values (which serde also ignores) are left to serde.
    fn obj<T: Default>(
        &mut self,
        slot: &mut Obj<T>,
        read: impl FnOnce(&mut Self, &mut T) -> Option<()>,
    ) -> Option<()> {
        match self.peek()? {
            b'{' => read(self, slot.0.insert(T::default())),
            _ if self.null() => Some(()),
            _ => None,
        }
    }

    /// A struct field that is an object or `null`, into `slot` (serde also
    /// reads arrays as structs: left to it).
    fn field<T: Default>(
        &mut self,
        slot: &mut Field<T>,
        read: impl FnOnce(&mut Self, &mut T) -> Option<()>,
    ) -> Option<()> {
        match self.peek()? {
            b'{' => {
                *slot = Field::Value(T::default());
                match slot {
                    Field::Value(value) => read(self, value),
                    _ => None,
                }
            }
            _ if self.null() => {
                *slot = Field::Null;
                Some(())
            }
            _ => None,
        }
    }

    fn line(&mut self, line: &mut Line<'a>) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"timestamp" => (seen.first(0)?, line.timestamp = c.str()?),
                b"sessionId" => (seen.first(1)?, line.session_id = c.str()?),
                b"requestId" => (seen.first(2)?, line.request_id = c.str()?),
                b"agentId" => (seen.first(3)?, line.agent_id = c.str()?),
                b"cwd" => (seen.first(4)?, line.cwd = c.str()?),
                b"version" => (seen.first(5)?, line.version = c.str()?),
                b"isSidechain" => (seen.first(6)?, line.is_sidechain = c.bool()?),
                b"isApiErrorMessage" => (seen.first(7)?, line.is_api_error = c.bool()?),
                b"costUSD" => (seen.first(8)?, line.cost_usd = c.f64()?),
                b"message" => (seen.first(9)?, c.obj(&mut line.message, Cursor::message)?),
                b"data" => (
                    seen.first(10)?,
                    c.obj(&mut line.data, |c, data| c.progress_data(data))?,
                ),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn message(&mut self, message: &mut Message<'a>) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"id" => (seen.first(0)?, message.id = c.str()?),
                b"model" => (seen.first(1)?, message.model = c.str()?),
                b"usage" => (seen.first(2)?, c.field(&mut message.usage, Cursor::usage)?),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn usage(&mut self, usage: &mut Usage<'a>) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"input_tokens" => (seen.first(0)?, usage.input = c.u64()?),
                b"output_tokens" => (seen.first(1)?, usage.output = c.u64()?),
                b"cache_read_input_tokens" => (seen.first(2)?, usage.cache_read = c.u64()?),
                b"cache_creation_input_tokens" => {
                    (seen.first(3)?, usage.cache_creation_flat = c.u64()?)
                }
                b"cache_creation" => (
                    seen.first(4)?,
                    c.field(&mut usage.cache_creation, Cursor::cache_split)?,
                ),
                b"speed" => (seen.first(5)?, usage.speed = c.str()?),
                b"output_tokens_details" => (
                    seen.first(6)?,
                    c.field(&mut usage.details, Cursor::output_details)?,
                ),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn cache_split(&mut self, split: &mut CacheSplit) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"ephemeral_5m_input_tokens" => (seen.first(0)?, split.five_minutes = c.count()?),
                b"ephemeral_1h_input_tokens" => (seen.first(1)?, split.one_hour = c.count()?),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn output_details(&mut self, details: &mut OutputDetails) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"thinking_tokens" => (seen.first(0)?, details.thinking_tokens = c.count()?),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn progress_data(&mut self, data: &mut ProgressData<'a>) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"message" => (
                    seen.first(0)?,
                    c.obj(&mut data.message, Cursor::progress_message)?,
                ),
                b"agentId" => (seen.first(1)?, data.agent_id = c.str()?),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }

    fn progress_message(&mut self, inner: &mut ProgressMessage<'a>) -> Option<()> {
        let mut seen = Seen::default();
        self.object(|c, key| {
            match key {
                b"timestamp" => (seen.first(0)?, inner.timestamp = c.str()?),
                b"requestId" => (seen.first(1)?, inner.request_id = c.str()?),
                b"isSidechain" => (seen.first(2)?, inner.is_sidechain = c.bool()?),
                b"costUSD" => (seen.first(3)?, inner.cost_usd = c.f64()?),
                b"agentId" => (seen.first(4)?, inner.agent_id = c.str()?),
                b"message" => (seen.first(5)?, c.obj(&mut inner.message, Cursor::message)?),
                _ => ((), c.skip()?),
            };
            Some(())
        })
    }
}
