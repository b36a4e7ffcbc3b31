//! What the disk-fault tests (`fault_disk`, `fault_readonly`) share: the
//! checks on a failed command, counting what a file stores, and one driver
//! per write path.

use crate::common::{TestContext, line};
use crate::serve::{Server, event};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Exit 1, and an `error:` line naming a file under `dir` and saying `why`
/// (case aside). Returns that file's name.
pub fn assert_error(out: &Output, dir: &Path, why: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let dir = dir.display().to_string();
    let line = err
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    let says = line.to_lowercase().contains(&why.to_lowercase());
    assert!(
        line.contains(&dir) && says,
        "wanted {dir} and {why:?}: {line}"
    );
    let path = line[line.find(&dir).unwrap()..].split(':').next().unwrap();
    Path::new(path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into()
}

/// A failure on a full disk.
pub fn assert_full(out: &Output, dir: &Path) -> String {
    assert_error(out, dir, "No space left on device")
}

/// A failure on a read-only disk ("… is read-only" or "Read-only file system").
pub fn assert_read_only(out: &Output, dir: &Path) -> String {
    assert_error(out, dir, "read-only")
}

/// Success; its stdout.
pub fn ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{err}");
    text
}

/// How often each `field` value occurs in a JSONL file. Every line must be
/// whole (a failed write left no fragment) and the file end in `\n`.
pub fn count(path: &Path, field: &str) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "{path:?} is torn");
    let mut counts = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("torn {l:?}: {e}"));
        *counts
            .entry(v[field].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

/// Each key once.
pub fn once(keys: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    keys.into_iter().map(|k| (k, 1)).collect()
}

/// `log` of session `k-{i}`: `100 + i` input tokens, $0.50, and a line of
/// about 800 bytes, so that a page holds only a handful.
pub fn log(t: &TestContext, i: u64) -> Output {
    let (key, input, pad) = (format!("k-{i}"), (100 + i).to_string(), "p".repeat(600));
    t.cmd()
        .args(["log", "--session", &key, "--model", "claude-sonnet-4-5"])
        .args(["--input", &input, "--output", "1", "--cost", "0.5"])
        .args(["--project", &pad])
        .output()
        .unwrap()
}

/// The register holds `k-{i}` once for each `i` in `acked` and nothing
/// else, and the report counts exactly that.
pub fn assert_logged(t: &TestContext, acked: &[u64]) {
    let keys = once(acked.iter().map(|i| format!("k-{i}")));
    assert_eq!(count(&t.register_path(), "session_key"), keys);
    let totals = &t.report_json(&[])["totals"];
    assert_eq!(totals["events"], acked.len());
    let input: u64 = acked.iter().map(|i| 100 + i).sum();
    assert_eq!(totals["input_tokens"], input);
    let cost = totals["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.5 * acked.len() as f64).abs() < 1e-9, "{cost}");
}

/// Three months of entries, two of them old enough to rotate, plus a
/// comment and a malformed line that rotation keeps.
pub fn register_over_months(per_month: usize) -> String {
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let mut text = String::from("# Token Usage Register (JSONL)\n");
    for back in [4, 3, 0] {
        let month = now.first_of_month().unwrap() - jiff::Span::new().months(back);
        for i in 0..per_month {
            let ts = (month.clone() + jiff::Span::new().minutes(i as i64)).timestamp();
            let ts = ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            let key = format!("m{back}-{i}");
            text.push_str(&line(&ts, &key, "main", "claude-sonnet-4-5", 100, 10, None));
        }
    }
    text.push_str("not json at all\n");
    text
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A private copy of the Claude Code fixtures (18 events), off the small disk.
pub fn claude_tree(t: &TestContext) -> PathBuf {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tokenledger-sources/tests/fixtures/claude_code/home/.claude");
    let root = t.dir.path().join("claude");
    copy_tree(&fixture, &root);
    root
}

/// Requests `from..from + n` appended to one of the tree's transcripts.
pub fn add_requests(root: &Path, from: u64, n: u64) {
    use std::io::Write;
    let path = root.join("projects/-home-me-src-lib/33333333-3333-4333-8333-333333333333.jsonl");
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for i in from..from + n {
        let usage = format!(
            r#"{{"input_tokens":{},"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#,
            10 + i
        );
        writeln!(file, r#"{{"type":"assistant","timestamp":"2026-01-12T13:00:00.000Z","sessionId":"33333333-3333-4333-8333-333333333333","requestId":"req_DISK{i}","message":{{"id":"msg_DISK{i}","model":"claude-sonnet-4-5-20250929","usage":{usage}}}}}"#).unwrap();
    }
}

pub fn sync(t: &TestContext, root: &Path) -> Output {
    let mut cmd = t.cmd();
    cmd.env("CLAUDE_CONFIG_DIR", root).arg("sync");
    cmd.output().unwrap()
}

/// `report --format json` totals with the agents' logs at `root`.
pub fn totals(t: &TestContext, root: &Path) -> Value {
    let mut cmd = t.cmd();
    cmd.env("CLAUDE_CONFIG_DIR", root)
        .args(["report", "--format", "json"]);
    let doc: Value = serde_json::from_str(&ok(&cmd.output().unwrap())).unwrap();
    doc["totals"].clone()
}

/// CLEO operation `op` of round `i`, in the project `proj`: 0 starts
/// session `s-i`, 1 tracks task `T-i` (a prompt of `100 + i` tokens), 2 ends `s-i`.
pub fn cleo(t: &TestContext, proj: &Path, i: u64, op: u8) -> Output {
    let (s, task) = (format!("s-{i}"), format!("T-{i}"));
    let prompt = "x".repeat(400 + 4 * i as usize);
    let mut cmd = t.cmd();
    cmd.current_dir(proj);
    match op {
        0 => cmd.args(["session", "start", "--id", &s]),
        1 => cmd
            .args(["track", "spawn-start", "--task", &task, "--prompt", &prompt])
            .args(["--method", "chars4", "--session", &s]),
        _ => cmd.args(["session", "end", "--id", &s]),
    };
    cmd.output().unwrap()
}

/// `metrics tokens --format json` in `proj`, with `args`.
pub fn metrics(t: &TestContext, proj: &Path, args: &[&str]) -> Value {
    let mut cmd = t.cmd();
    cmd.args(["metrics", "tokens", "--period", "all", "--format", "json"]);
    let out = cmd.args(args).current_dir(proj).output().unwrap();
    serde_json::from_str(&ok(&out)).unwrap()
}

/// `SESSIONS.jsonl`'s records as `session/event`, with how often each occurs.
pub fn session_records(metrics: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(metrics.join("SESSIONS.jsonl")).unwrap_or_default();
    let mut records = BTreeMap::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("torn {l:?}: {e}"));
        let (id, event) = (v["session_id"].as_str(), v["event"].as_str());
        *records
            .entry(format!("{}/{}", id.unwrap(), event.unwrap()))
            .or_default() += 1;
    }
    records
}

/// Batch `b` to the collector: events `b{b}-0..10`, `10 + b` input tokens each.
pub fn post_batch(server: &Server, b: u64) -> (u16, String) {
    let events = (0..10).map(|i| event(&format!("b{b}-{i}"), &format!("s{b}"), "a", 10 + b, 1));
    let body = Value::Array(events.collect()).to_string();
    server.post("/v1/events", "application/json", body.as_bytes())
}

/// The collector's ledger holds the events of each batch in `acked` once
/// and nothing else, and its report counts exactly those.
pub fn assert_ingested(ctx: &TestContext, server: &Server, acked: &[u64]) {
    let keys = acked
        .iter()
        .flat_map(|b| (0..10).map(move |i| format!("b{b}-{i}")));
    let ledger = ctx.home.join("ledger.jsonl");
    assert_eq!(count(&ledger, "dedupe_key"), once(keys));
    let totals = &server.report("")["totals"];
    assert_eq!(totals["events"], 10 * acked.len());
    let input: u64 = acked.iter().map(|b| 10 * (10 + b)).sum();
    assert_eq!(totals["input_tokens"], input);
}

pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `log --remote` of session `key` with `input` input tokens.
pub fn log_remote(t: &TestContext, url: &str, key: &str, input: u64) -> Output {
    let input = input.to_string();
    t.cmd()
        .args(["log", "--remote", url, "--session", key, "--agent", "ci"])
        .args([
            "--model",
            "claude-sonnet-4-5",
            "--input",
            &input,
            "--output",
            "1",
        ])
        .output()
        .unwrap()
}

/// The session keys of the batches waiting in the home's spool.
pub fn spooled(home: &Path) -> BTreeMap<String, usize> {
    let mut keys = BTreeMap::new();
    for entry in std::fs::read_dir(home.join("spool"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "ndjson") {
            for (key, n) in count(&entry.path(), "session_key") {
                *keys.entry(key).or_default() += n;
            }
        }
    }
    keys
}
