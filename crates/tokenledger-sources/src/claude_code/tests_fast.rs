//! The hand-rolled line reader against serde: on every line it accepts, serde
//! must accept the line too and read the same fields. Seeds are the fixture's
//! lines and hand-written oddities; mutations break them every which way.

use super::fast_reader_agrees as agree;
use super::tests::fixture_home;
use std::path::Path;

fn fixture_lines(dir: &Path, out: &mut Vec<Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixture_lines(&path, out);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read(&path).unwrap();
            out.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
        }
    }
}

const ODD: &[&str] = &[
    r#"{"timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":2,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":null},"output_tokens_details":{"thinking_tokens":4},"speed":"fast"}},"costUSD":0.5e-3}"#,
    r#"{"type":"progress","cwd":"C:\\w\\\"q\"","data":{"agentId":"a","message":{"timestamp":"t","requestId":"r","isSidechain":true,"costUSD":12,"message":{"id":"m\u00e9","usage":{"input_tokens":0,"output_tokens":18446744073709551615}}}}}"#,
    r#"{"message":{"content":[{"a":[[],{},[{}],{"b":[1,-2.5e+3,true,false,null,"\ud83d\ude00\n"]}],"\u0000":""}],"usage":{"input_tokens":1,"output_tokens":1}},"x":{"usage":{}}}"#,
    r#" { "message" : { "usage" : { "input_tokens" : 1 , "output_tokens" : 2 } } , "isApiErrorMessage" : false } "#,
    r#"{"message":"usage","data":[1,{"a":null}],"sessionId":"s","version":"2.1.0"}"#,
    r#"{"message":null,"data":null,"timestamp":null,"isSidechain":null,"costUSD":null,"usage":1}"#,
    r#"{"message":{"usage":null,"id":null,"model":""},"requestId":""}"#,
    r#"{"message":{"usage":[1,2]},"data":{"message":"x"}}"#,
    "{\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":2}},\"cwd\":\"caf\u{e9} \u{1f600}\"}\r",
    r#"{"message":{"usage":{"input_tokens":1,"output_tokens":2,"input_tokens":3}}}"#,
    r#"{"version":"1","version":"2","usage":0}"#,
];

const INSERTS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"0",
    b"-",
    b".",
    b"e",
    b"1",
    b" ",
    b"\t",
    b"\x01",
    b"\xff",
    b"\xc3",
    b"n",
    b"null",
    b"true",
    b"\"usage\"",
    b"\\u00e9",
    b"\\ud800",
    b"\\udc00",
    b"1e400",
    b"01",
    b"-0",
    b"1.5",
    b"18446744073709551616",
    b",\"input_tokens\":5",
    b",\"message\":null",
    b",\"costUSD\":1",
    b"{}",
    b"[]",
    b"\r",
    b"\\x",
    b"\"cwd\":",
    b"\\\"",
];

/// Deterministic xorshift: no seeds to chase when a case fails.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn the_fast_reader_reads_what_serde_reads_or_defers() {
    let mut seeds: Vec<Vec<u8>> = ODD.iter().map(|l| l.as_bytes().to_vec()).collect();
    fixture_lines(&fixture_home(), &mut seeds);
    seeds.retain(|l| l.first() == Some(&b'{') || l.first() == Some(&b' '));
    // Plain lines must take the fast path, or it buys nothing.
    let plain = seeds.iter().filter(|l| agree(l)).count();
    assert!(plain * 10 >= seeds.len() * 8, "{plain} of {}", seeds.len());

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for round in 0..60_000 {
        let mut line = seeds[round % seeds.len()].clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(line.len() + 1);
            match rng.below(4) {
                0 if at < line.len() => {
                    line.remove(at);
                }
                1 if at < line.len() => {
                    let end = (at + 1 + rng.below(12)).min(line.len());
                    line.drain(at..end);
                }
                2 if at < line.len() => line[at] = INSERTS[rng.below(INSERTS.len())][0],
                _ => {
                    let insert = INSERTS[rng.below(INSERTS.len())];
                    line.splice(at..at, insert.iter().copied());
                }
            }
        }
        accepted += usize::from(agree(&line));
    }
    // Many mutants stay valid (a changed digit, an inserted space).
    assert!(accepted > 5_000, "{accepted}");
}

/// Not a test: times `parse_line` over `CC_PARSE_BENCH` (a file of usage
/// lines): `CC_PARSE_BENCH=… cargo test --release -p tokenledger-sources
/// parse_bench -- --ignored --nocapture`.
#[test]
#[ignore]
fn parse_bench() {
    let Ok(path) = std::env::var("CC_PARSE_BENCH") else {
        return;
    };
    let text = std::fs::read(path).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut best = f64::MAX;
    let mut records = 0;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        records = lines
            .iter()
            .filter(|l| {
                matches!(
                    super::parser::parse_line(l),
                    super::parser::Parsed::Record(_)
                )
            })
            .count();
        best = best.min(started.elapsed().as_secs_f64());
    }
    eprintln!(
        "{records} records, best of 20: {:.1} ms, {:.2} GB/s",
        best * 1e3,
        text.len() as f64 / best / 1e9
    );
}

#[test]
#[ignore]
fn read_bench() {
    use std::io::Read;
    let Ok(path) = std::env::var("CC_SCAN_BENCH") else {
        return;
    };
    let mut store = vec![0u8; (4 << 20) + 8192];
    let base = store.as_ptr().align_offset(4096);
    for round in 0..3 {
        for (name, mis, len) in [
            ("aligned", 0usize, 256usize << 10),
            ("dest+16", 16, 256 << 10),
            ("dest+1000", 1000, 256 << 10),
            ("len-1000", 0, (256 << 10) - 1000),
            ("aligned 64K", 0, 64 << 10),
            ("aligned 1M", 0, 1 << 20),
            ("aligned 512K", 0, 512 << 10),
            ("aligned 2M", 0, 2 << 20),
            ("aligned 4M", 0, 4 << 20),
        ] {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let mut f = std::fs::File::open(&path).unwrap();
                let t = std::time::Instant::now();
                let buf = &mut store[base + mis..base + mis + len];
                while f.read(buf).unwrap() > 0 {}
                best = best.min(t.elapsed().as_secs_f64());
            }
            if round == 2 {
                eprintln!("{name}: {:.1} ms", best * 1e3);
            }
        }
    }
}
