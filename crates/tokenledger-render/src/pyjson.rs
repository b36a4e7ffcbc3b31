//! A writer that reproduces Python's `json.dump(obj, f, indent=2)` byte for
//! byte, so files the seed's consumers already parse (or diff) stay identical:
//! `": "` and `,` + newline separators, nested containers expanded, `{}`/`[]`
//! when empty, `ensure_ascii` escapes, floats as Python's `repr`, and no
//! trailing newline.

/// A JSON value whose objects keep their insertion order, as Python dicts do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub(crate) fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub(crate) fn int(n: u64) -> Value {
        Value::Int(i128::from(n))
    }

    pub(crate) fn opt_float(x: Option<f64>) -> Value {
        x.map_or(Value::Null, Value::Float)
    }
}

pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, 0);
    out
}

fn write(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Float(x) => out.push_str(&float_repr(*x)),
        Value::Str(s) => write_str(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(out, i, depth + 1);
                write(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                separator(out, i, depth + 1);
                write_str(out, key);
                out.push_str(": ");
                write(out, item, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

fn separator(out: &mut String, index: usize, depth: usize) {
    if index > 0 {
        out.push(',');
    }
    newline(out, depth);
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', depth * 2));
}

/// `ensure_ascii=True`: everything outside printable ASCII becomes `\uXXXX`
/// (lowercase hex, surrogate pairs above U+FFFF), including DEL.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__`: the shortest round-tripping digits, positional
/// notation when the decimal exponent is in -4..16 (with `.0` for integral
/// values), otherwise `d.ddde±XX` with at least two exponent digits.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    // Rust's `{:e}` gives the same shortest digits, as `d.ddde<exp>`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    // Position of the decimal point relative to the digit string.
    let point = exp + 1;
    let body = if x == 0.0 {
        "0.0".to_string()
    } else if !(-4 < point && point <= 16) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{first}{fraction}e{exp_sign}{:02}", exp.abs())
    } else if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (0.045, "0.045"),
            (1e-05, "1e-05"),
            (0.30000000000000004, "0.30000000000000004"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1.5e-05, "1.5e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e17, "1.2345e+17"),
            (123.456, "123.456"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.08549999999999999, "0.08549999999999999"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn strings_are_ascii_escaped() {
        let s = Value::str("é \"q\" \\ \n\t\u{1} \u{7f} 😀 日");
        assert_eq!(
            to_string(&s),
            r#""\u00e9 \"q\" \\ \n\t\u0001 \u007f \ud83d\ude00 \u65e5""#
        );
    }

    #[test]
    fn containers_are_expanded_and_empty_ones_are_not() {
        let v = Value::Object(vec![
            (
                "a".into(),
                Value::Array(vec![Value::int(1), Value::Null, Value::Array(vec![])]),
            ),
            ("b".into(), Value::Object(vec![])),
            (
                "c".into(),
                Value::Object(vec![("d".into(), Value::Float(2.0))]),
            ),
        ]);
        let want = "{\n  \"a\": [\n    1,\n    null,\n    []\n  ],\n  \"b\": {},\n  \"c\": {\n    \"d\": 2.0\n  }\n}";
        assert_eq!(to_string(&v), want);
        assert_eq!(to_string(&Value::Array(vec![])), "[]");
    }

    fn hour(sessions: u64, input: u64, output: u64, cost: f64, model: &str, agent: &str) -> Value {
        Value::Object(vec![
            ("sessions".into(), Value::int(sessions)),
            ("input_tokens".into(), Value::int(input)),
            ("output_tokens".into(), Value::int(output)),
            ("total_tokens".into(), Value::int(input + output)),
            ("cost".into(), Value::Float(cost)),
            (
                "models".into(),
                Value::Object(vec![(model.into(), Value::int(1))]),
            ),
            (
                "agents".into(),
                Value::Object(vec![(agent.into(), Value::int(1))]),
            ),
        ])
    }

    fn tokens_sessions(tokens: u64) -> Value {
        Value::Object(vec![
            ("tokens".into(), Value::int(tokens)),
            ("sessions".into(), Value::int(1)),
        ])
    }

    /// seed-originals.md §1.3, the dataset exactly as the seed wrote it.
    #[test]
    fn reproduces_the_seed_dataset_byte_for_byte() {
        let sonnet = "anthropic/claude-sonnet-4-5";
        let opus = "claude-opus-4-5";
        let doc = Value::Object(vec![
            ("date".into(), Value::str("2026-02-06")),
            (
                "generated_at".into(),
                Value::str("2026-02-06T20:00:03.125310"),
            ),
            (
                "by_hour".into(),
                Value::Object(vec![
                    (
                        "2026-02-06 09:00".into(),
                        hour(1, 15000, 3000, 0.045, sonnet, "backend-engineer"),
                    ),
                    (
                        "2026-02-06 11:00".into(),
                        hour(1, 1200, 300, 0.0405, opus, "main"),
                    ),
                ]),
            ),
            (
                "summary".into(),
                Value::Object(vec![
                    ("total_tokens".into(), Value::int(19500)),
                    ("input_tokens".into(), Value::int(16200)),
                    ("output_tokens".into(), Value::int(3300)),
                    ("total_cost".into(), Value::Float(0.045 + 0.0405)),
                    ("total_sessions".into(), Value::int(2)),
                    (
                        "by_model".into(),
                        Value::Object(vec![
                            (sonnet.into(), tokens_sessions(18000)),
                            (opus.into(), tokens_sessions(1500)),
                        ]),
                    ),
                    (
                        "by_agent".into(),
                        Value::Object(vec![
                            ("backend-engineer".into(), tokens_sessions(18000)),
                            ("main".into(), tokens_sessions(1500)),
                        ]),
                    ),
                ]),
            ),
        ]);
        assert_eq!(to_string(&doc), include_str!("testdata/seed-dataset.json"));
    }
}
