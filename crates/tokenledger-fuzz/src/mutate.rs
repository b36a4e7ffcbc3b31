//! Blind mutation of the seeds, for the short fuzz run `cargo test` does on
//! the stable toolchain with no fuzzer installed: the mutations libFuzzer
//! starts from (bit flips, interesting bytes and numbers, erased, copied and
//! spliced ranges), stacked a few at a time on one seed. Without coverage
//! feedback it finds shallow crashes only; `bench/fuzz.sh` runs the
//! coverage-guided fuzzers for the deep ones.

use fastrand::Rng;

/// Tokens that parsers treat specially, in JSON, TOML and protobuf alike.
const TOKENS: &[&[u8]] = &[
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e309",
    b"-0.0",
    b"NaN",
    b"18446744073709551616",
    b"9223372036854775808",
    b"4294967296",
    b"\"\"",
    b"{}",
    b"[]",
    b"\"\\ud800\"",
    b"\"\\u0000\"",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\n",
    b"\r\n",
    b"\"timestamp\":\"0000-01-01T00:00:00Z\"",
    b"\"timestamp\":\"9999-12-31T23:59:59Z\"",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{",
    b"\x0a\xff\xff\xff\xff\x0f",
    b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
];

/// Bytes worth writing over another.
const BYTES: &[u8] = b"\x00\xff\x7f\x80\"\\{}[],:\n\r\t 0123456789-.eE+";

/// `seed` mutated one to four times; `others` gives material to splice in.
pub fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.usize(1..=4) {
        mutate_once(rng, &mut data, others);
    }
    data
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, others: &[Vec<u8>]) {
    if data.is_empty() {
        data.extend_from_slice(TOKENS[rng.usize(..TOKENS.len())]);
        return;
    }
    let at = rng.usize(..data.len());
    match rng.u8(0..8) {
        0 => data[at] ^= 1 << rng.u8(0..8),
        1 => data[at] = BYTES[rng.usize(..BYTES.len())],
        2 => {
            let token = TOKENS[rng.usize(..TOKENS.len())];
            data.splice(at..at, token.iter().copied());
        }
        3 => {
            let end = (at + rng.usize(1..=64)).min(data.len());
            data.drain(at..end);
        }
        4 => {
            // A range of the input again, elsewhere.
            let end = (at + rng.usize(1..=256)).min(data.len());
            let copy = data[at..end].to_vec();
            let to = rng.usize(..=data.len());
            data.splice(to..to, copy);
        }
        5 => replace_number(rng, data, at),
        6 => data.truncate(at),
        _ => {
            // Crossover: the tail of another seed after a prefix of this one.
            if let Some(other) = others.get(rng.usize(..others.len().max(1))) {
                let from = rng.usize(..=other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
        }
    }
}

/// The run of digits at or after `at`, replaced by a number near a limit.
fn replace_number(rng: &mut Rng, data: &mut Vec<u8>, at: usize) {
    let Some(start) = data[at..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| p + at)
    else {
        return;
    };
    let end = data[start..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(data.len(), |p| p + start);
    let number = match rng.u8(0..5) {
        0 => u64::MAX.to_string(),
        1 => i64::MAX.to_string(),
        2 => u32::MAX.to_string(),
        3 => "99999999999999999999999999".to_string(),
        _ => rng.u64(..).to_string(),
    };
    data.splice(start..end, number.into_bytes());
}
