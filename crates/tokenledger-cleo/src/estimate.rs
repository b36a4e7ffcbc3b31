//! Token estimates: a real BPE count (OpenAI's o200k_base vocabulary, embedded
//! in the binary by `bpe-openai`) scaled by a per-model-family calibration
//! factor, or the seed's `wc -c / 4`. Every figure made here is an estimate
//! and says so through [`Estimate::method`].

use crate::error::{CleoError, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use tokenledger_core::config::EstimateConfig;
use tokenledger_core::pricing::canonical_model_name;

/// Bytes per parallel piece: big enough that splitting costs nothing, small
/// enough that a 10 MB file keeps both cores busy.
const PIECE_BYTES: usize = 512 * 1024;

/// The model family assumed without `--model` or `estimate.model`: CLEO
/// tracks Claude Code.
const DEFAULT_MODEL: &str = "claude";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// BPE with the o200k_base vocabulary, times the calibration factor.
    Bpe,
    /// The seed's `(wc -c + 3) / 4`: bytes over four, rounded up.
    Chars4,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        match text {
            "bpe" => Some(Method::Bpe),
            "chars4" => Some(Method::Chars4),
            _ => None,
        }
    }

    /// How the figure was made, as written into records (`context.method`).
    pub fn label(self) -> &'static str {
        match self {
            Method::Bpe => "bpe-o200k",
            Method::Chars4 => "chars4",
        }
    }
}

/// One estimate and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The estimate: `raw` times `factor`, rounded.
    pub tokens: u64,
    /// The uncalibrated count.
    pub raw: u64,
    pub bytes: u64,
    pub method: Method,
    pub factor: f64,
    /// The calibration key that matched (`claude`), if any.
    pub family: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Estimator {
    method: Method,
    factor: f64,
    family: Option<String>,
}

impl Estimator {
    /// `model` (else `estimate.model`, else `claude`) picks the calibration
    /// factor: the longest configured key that prefixes its canonical name.
    pub fn new(method: Method, model: Option<&str>, config: &EstimateConfig) -> Result<Self> {
        for (key, factor) in &config.calibration {
            if !factor.is_finite() || *factor <= 0.0 {
                return Err(CleoError::invalid(
                    "estimate.calibration",
                    format!("{key:?} = {factor} must be a positive number such as 1.15"),
                ));
            }
        }
        let model = model.or(config.model.as_deref()).unwrap_or(DEFAULT_MODEL);
        let (family, factor) = match method {
            // The seed's formula is reproduced as it is, uncalibrated.
            Method::Chars4 => (None, 1.0),
            Method::Bpe => match calibration_for(model, &config.calibration) {
                Some((key, factor)) => (Some(key.to_string()), factor),
                None => (None, 1.0),
            },
        };
        Ok(Estimator {
            method,
            factor,
            family,
        })
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn factor(&self) -> f64 {
        self.factor
    }

    pub fn text(&self, text: &str) -> Estimate {
        self.bytes(text.as_bytes())
    }

    /// Invalid UTF-8 is counted as its lossy replacement: a byte blob still
    /// costs tokens when pasted into a prompt.
    pub fn bytes(&self, bytes: &[u8]) -> Estimate {
        let raw = match self.method {
            Method::Chars4 => chars4(bytes.len() as u64),
            Method::Bpe => bpe_count(&String::from_utf8_lossy(bytes)),
        };
        Estimate {
            tokens: (raw as f64 * self.factor).round() as u64,
            raw,
            bytes: bytes.len() as u64,
            method: self.method,
            factor: self.factor,
            family: self.family.clone(),
        }
    }
}

/// The seed's `wc -c / 4` as CLEO's bash implemented it: `(bytes + 3) / 4`.
pub fn chars4(bytes: u64) -> u64 {
    bytes.div_ceil(4)
}

fn calibration_for<'a>(model: &str, table: &'a BTreeMap<String, f64>) -> Option<(&'a str, f64)> {
    let canonical = canonical_model_name(model);
    table
        .iter()
        .filter(|(key, _)| {
            let key = canonical_model_name(key);
            canonical == key
                || canonical
                    .strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.starts_with(['-', '.', '/']))
        })
        .max_by_key(|(key, _)| key.len())
        .map(|(key, factor)| (key.as_str(), *factor))
}

/// BPE count of `text`, in parallel over pieces cut where the count is
/// additive (see [`split_points`]).
pub fn bpe_count(text: &str) -> u64 {
    let tokenizer = bpe_openai::o200k_base();
    if text.len() <= PIECE_BYTES {
        return tokenizer.count(text) as u64;
    }
    split_points(text)
        .par_windows(2)
        .map(|w| tokenizer.count(&text[w[0]..w[1]]) as u64)
        .sum()
}

/// Piece boundaries: every cut falls right after a `\n` that is followed by a
/// character that is neither whitespace nor a letter-joining mark. o200k's
/// pre-tokenizer always ends a piece at such a newline and starts a new one
/// at the next character, so counting the pieces apart gives the same total.
fn split_points(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut points = vec![0];
    let mut at = PIECE_BYTES;
    while at < bytes.len() {
        let cut = memchr::memchr_iter(b'\n', &bytes[at..])
            .map(|i| at + i + 1)
            .find(|&i| {
                i < bytes.len()
                    && text[i..]
                        .chars()
                        .next()
                        .is_some_and(|c| !c.is_whitespace() && c.is_alphanumeric())
            });
        match cut {
            Some(cut) => {
                points.push(cut);
                at = cut + PIECE_BYTES;
            }
            None => break,
        }
    }
    points.push(bytes.len());
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, f64)]) -> EstimateConfig {
        EstimateConfig {
            model: None,
            calibration: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn chars4_is_the_seeds_rounded_up_quarter() {
        let e = Estimator::new(Method::Chars4, None, &config(&[("claude", 2.0)])).unwrap();
        assert_eq!(e.text("").tokens, 0);
        assert_eq!(e.text("abc").tokens, 1);
        assert_eq!(e.text("abcd").tokens, 1);
        assert_eq!(e.text("abcde").tokens, 2);
        // Bytes, not characters: "é" is two bytes.
        assert_eq!(e.text("éé").tokens, 1);
        assert_eq!(e.text("ééé").raw, 2);
        assert_eq!(e.factor(), 1.0, "chars4 is never calibrated");
    }

    #[test]
    fn bpe_counts_known_strings() {
        // Reference counts from tiktoken's o200k_base.
        assert_eq!(bpe_count("hello world"), 2);
        assert_eq!(bpe_count(""), 0);
        assert!(bpe_count("The quick brown fox jumps over the lazy dog.") == 10);
    }

    #[test]
    fn calibration_takes_the_longest_matching_family() {
        let c = config(&[("claude", 1.2), ("claude-opus-4-7", 1.3), ("gpt", 1.0)]);
        let pick = |m: &str| Estimator::new(Method::Bpe, Some(m), &c).unwrap();
        assert_eq!(pick("anthropic/claude-opus-4-7").factor(), 1.3);
        assert_eq!(pick("claude-opus-4-5-20251101").factor(), 1.2);
        assert_eq!(pick("claude-sonnet-4-5").factor(), 1.2);
        assert_eq!(pick("gemini-2.5-pro").factor(), 1.0);
        assert_eq!(pick("gemini-2.5-pro").family, None);
        let e = pick("claude-opus-4-7").text("hello world");
        assert_eq!((e.raw, e.tokens), (2, 3), "2 × 1.3 = 2.6 rounds to 3");
        assert_eq!(e.family.as_deref(), Some("claude-opus-4-7"));
    }

    #[test]
    fn bad_factors_are_refused_with_their_key() {
        let err = Estimator::new(Method::Bpe, None, &config(&[("claude", 0.0)])).unwrap_err();
        assert!(err.to_string().contains("\"claude\""), "{err}");
        assert!(err.is_invalid_input());
    }

    #[test]
    fn parallel_pieces_count_the_same_as_the_whole() {
        let line =
            "fn main() { println!(\"héllo {}\", 42); }  \n  indented line\t\n\nplain words here\n";
        let text: String = line.repeat(3 * PIECE_BYTES / line.len());
        let points = split_points(&text);
        assert!(points.len() > 3, "the text is cut into pieces");
        let tokenizer = bpe_openai::o200k_base();
        assert_eq!(bpe_count(&text), tokenizer.count(text.as_str()) as u64);
    }
}
