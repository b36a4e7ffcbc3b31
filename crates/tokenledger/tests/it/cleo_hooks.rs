//! The Claude Code hook end to end: SessionStart, PreToolUse (Task) for two
//! tasks, SubagentStop with a subagent transcript, SessionEnd; then the
//! register, SESSIONS.jsonl, TOKEN_USAGE.jsonl, `metrics tokens --by-task`
//! and `report --by task` against figures computed by hand.

use crate::common::TestContext;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub const SID: &str = "1e8544aa-de65-4f54-8691-4d138836c981";
pub const PROMPT_1: &str = "Research T1234: find the root cause of the flaky test";
pub const PROMPT_2: &str = "Implement T1235: fix the flaky test";

pub struct Scene {
    pub t: TestContext,
    pub project: PathBuf,
    pub transcript: PathBuf,
    pub subagent: PathBuf,
}

fn assistant(id: &str, side: bool, usage: [u64; 4], ts: &str) -> String {
    let agent = if side { r#","agentId":"a1""# } else { "" };
    format!(
        r#"{{"parentUuid":null,"isSidechain":{side},"userType":"external","cwd":"/p","sessionId":"{SID}","version":"2.0.28"{agent},"message":{{"model":"claude-sonnet-4-5-20250929","id":"msg_{id}","type":"message","role":"assistant","content":[{{"type":"text","text":"ok"}}],"stop_reason":"end_turn","usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"output_tokens":{}}}}},"requestId":"req_{id}","type":"assistant","uuid":"u-{id}","timestamp":"{ts}"}}"#,
        usage[0], usage[3], usage[2], usage[1]
    ) + "\n"
}

impl Scene {
    pub fn new() -> Scene {
        let t = TestContext::new();
        let project = t.dir.path().join("proj");
        std::fs::create_dir_all(project.join(".cleo")).unwrap();
        let dir = t.dir.path().join(".claude/projects/-proj");
        let transcript = dir.join(format!("{SID}.jsonl"));
        let subagent = dir.join(SID).join("subagents/agent-a1.jsonl");
        // Calibration 1.5 for Claude: every BPE estimate below is ×1.5, rounded.
        t.write_config("[estimate.calibration]\nclaude = 1.5\n");
        Scene {
            t,
            project,
            transcript,
            subagent,
        }
    }

    /// The transcripts as Claude Code leaves them (usage: in, out, cache read, cache write).
    pub fn write_transcripts(&self) {
        std::fs::create_dir_all(self.subagent.parent().unwrap()).unwrap();
        let main = assistant(
            "m1",
            false,
            [100, 50, 1000, 200],
            "2026-02-01T10:01:00.000Z",
        ) + &assistant("m2", false, [10, 20, 2000, 0], "2026-02-01T10:05:00.000Z");
        std::fs::write(&self.transcript, main).unwrap();
        let prompt = json!({"type":"user","isSidechain":true,"agentId":"a1","sessionId":SID,
            "message":{"role":"user","content":PROMPT_1},"timestamp":"2026-02-01T10:02:00.000Z"});
        let sub = format!("{prompt}\n")
            + &assistant("s1", true, [5, 30, 500, 100], "2026-02-01T10:03:00.000Z")
            + &assistant("s2", true, [3, 40, 600, 0], "2026-02-01T10:04:00.000Z");
        std::fs::write(&self.subagent, sub).unwrap();
    }

    pub fn hook(&self, payload: Value) {
        let mut payload = payload;
        payload["session_id"] = SID.into();
        payload["transcript_path"] = self.transcript.display().to_string().into();
        payload["cwd"] = self.project.display().to_string().into();
        self.t
            .cmd()
            .args(["hook", "claude-code"])
            .current_dir(&self.project)
            .write_stdin(payload.to_string())
            .assert()
            .success()
            .stdout("");
    }

    pub fn run_in_project(&self, args: &[&str]) -> std::process::Output {
        let out = self
            .t
            .cmd()
            .args(args)
            .current_dir(&self.project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn metrics(&self) -> PathBuf {
        self.project.join(".cleo/metrics")
    }

    pub fn replay(&self) {
        self.hook(json!({"hook_event_name":"SessionStart","source":"startup"}));
        for prompt in [PROMPT_1, PROMPT_2] {
            self.hook(json!({"hook_event_name":"PreToolUse","tool_name":"Task",
                "tool_input":{"prompt":prompt,"description":"d","subagent_type":"research"}}));
        }
        self.write_transcripts();
        self.hook(json!({"hook_event_name":"SubagentStop","agent_id":"a1",
            "agent_transcript_path":self.subagent.display().to_string(),
            "last_assistant_message":"Found it: a race in setup.","stop_hook_active":false}));
        self.hook(json!({"hook_event_name":"SessionEnd","reason":"prompt_input_exit"}));
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_session_replayed_through_the_hook_adds_up() {
    let s = Scene::new();
    s.replay();
    assert!(
        !s.t.home.join("hook.log").exists(),
        "{:?}",
        std::fs::read_to_string(s.t.home.join("hook.log"))
    );

    // SESSIONS.jsonl: a start with nothing yet, an end with the transcripts' totals.
    let sessions = lines(&s.metrics().join("SESSIONS.jsonl"));
    assert_eq!(sessions.len(), 2);
    let id = sessions[0]["session_id"].as_str().unwrap();
    assert!(id.starts_with("session_") && id.len() == 30, "{id}");
    assert_eq!(sessions[0]["event"], "start");
    assert_eq!(sessions[0]["tokens"]["total"], 0);
    let end = &sessions[1];
    assert_eq!(end["session_id"], id);
    assert_eq!(end["event"], "end");
    assert_eq!(
        end["tokens"],
        json!({"input":118,"output":140,"total":4658,"delta":4658,"cache_read":4100,"cache_write":300,"cache_write_1h":0})
    );
    assert_eq!(end["tokens_source"], "claude-code-transcript");
    assert_eq!(end["estimated"], false);
    assert_eq!(end["tasks_completed"], 1);
    assert_eq!(end["claude_session_id"], SID);
    assert_eq!(end["cost_usd"], json!(0.004809));

    // TOKEN_USAGE.jsonl: two spawn starts (13 and 9 BPE tokens ×1.5), one spawn end.
    let usage = lines(&s.metrics().join("TOKEN_USAGE.jsonl"));
    let summary: Vec<(String, u64, String)> = usage
        .iter()
        .map(|u| {
            (
                u["event_type"].as_str().unwrap().to_string(),
                u["estimated_tokens"].as_u64().unwrap(),
                u["task_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |e: &str, n: u64, t: &str| (e.to_string(), n, t.to_string());
    assert_eq!(
        summary,
        [
            expect("spawn_start", 20, "T1234"),
            expect("spawn_start", 14, "T1235"),
            expect("spawn_end", 12, "T1234")
        ]
    );
    assert!(usage.iter().all(|u| u["session_id"] == id));
    assert_eq!(usage[0]["context"]["protocol"], "research");
    assert_eq!(usage[0]["context"]["estimate"]["raw_tokens"], 13);
    assert_eq!(usage[2]["context"]["linked_by"], "prompt-hash");
    assert_eq!(
        usage[2]["context"]["actual"],
        json!({"agent_id":"subagent:a1","input":8,"output":70,"cache_read":1100,"cache_write_5m":100,
               "cache_write_1h":0,"total":1278,"cost_usd":0.001779,"model":"claude-sonnet-4-5","requests":2})
    );
    let raw = std::fs::read_to_string(s.metrics().join("TOKEN_USAGE.jsonl")).unwrap();
    assert!(raw.starts_with("{\"timestamp\":"), "CLEO's key order");
    assert!(raw.lines().all(
        |l| l.find("\"event_type\"") < l.find("\"estimated_tokens\"")
            && l.find("\"session_id\"") < l.find("\"context\"")
    ));

    // The register: the session's actual totals, once, keyed by the Claude session.
    let register = s.t.register();
    let entries: Vec<Value> = register
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 1, "{register}");
    let e = &entries[0];
    assert_eq!(e["session_key"], SID);
    assert_eq!(
        (e["tokens_input"].as_u64(), e["tokens_output"].as_u64()),
        (Some(118), Some(140))
    );
    assert_eq!(e["tokens_cache_read"], 4100);
    assert_eq!(e["tokens_cache_write"], 300);
    assert_eq!(e["cost"], json!(0.004809));
    assert_eq!(e["source"], "claude-code-hook");

    // metrics --by-task: T1234 actual (its subagent run), T1235 reconciled to
    // what is left of the session: 4658 - 1278 = 3380.
    let out = s.run_in_project(&[
        "metrics",
        "tokens",
        "--by-task",
        "--period",
        "all",
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["group_by"], json!(["task"]));
    assert_eq!(
        doc["rows"][0],
        json!({"task":"T1234","protocol":"research","basis":"actual","tokens":1278,"estimated_tokens":32,
               "actual":{"input_tokens":8,"output_tokens":70,"cache_read_tokens":1100,"cache_write_tokens":100,
                         "total_tokens":1278,"cost_usd":0.001779},
               "reconciled":null,"estimation_error_pct":-97.5,"sessions":[id]})
    );
    assert_eq!(
        doc["rows"][1],
        json!({"task":"T1235","protocol":"research","basis":"reconciled","tokens":3380,"estimated_tokens":14,
               "actual":null,
               "reconciled":{"input_tokens":110,"output_tokens":70,"cache_read_tokens":3000,"cache_write_tokens":200,
                             "total_tokens":3380},
               "estimation_error_pct":null,"sessions":[id]})
    );
    assert_eq!(
        doc["totals"],
        json!({"tasks":2,"estimated_tokens":46,"actual_tokens":1278,"reconciled_tokens":3380,"total_tokens":4658})
    );
}

fn task_totals(report: &Value) -> Vec<(Value, u64)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["task"].clone(), r["total_tokens"].as_u64().unwrap()))
        .collect()
}

#[test]
fn reports_by_task_see_both_tiers_and_count_the_session_once() {
    let s = Scene::new();
    s.replay();
    // From the logs: the subagent's requests carry its task; the main thread none.
    let logs = s.t.report_json(&["--by", "task"]);
    assert_eq!(
        logs["totals"]["total_tokens"], 4658,
        "the register entry is not added again"
    );
    let rows = task_totals(&logs);
    assert!(rows.contains(&(json!("T1234"), 1278)), "{rows:?}");
    // From the register alone: the entry split into its tasks' shares.
    let register = s.t.report_json(&["--by", "task", "--source", "register"]);
    assert_eq!(register["totals"]["total_tokens"], 4658);
    let mut rows = task_totals(&register);
    rows.sort_by_key(|r| r.0.to_string());
    assert_eq!(rows, [(json!("T1234"), 1278), (json!("T1235"), 3380)]);
    assert_eq!(
        register["totals"]["sessions"], 1,
        "one session, split in two"
    );
    // The register's cost, shared by list-price weight: exact for Claude.
    let cost = |task: &str| {
        let rows = register["rows"].as_array().unwrap();
        let row = rows.iter().find(|r| r["task"] == task).unwrap();
        row["cost_usd"].as_f64().unwrap()
    };
    assert!((cost("T1234") - 0.001779).abs() < 1e-9, "{register}");
    assert!((cost("T1235") - 0.00303).abs() < 1e-9, "{register}");
    let only =
        s.t.report_json(&["--task", "T1235", "--source", "register"]);
    assert_eq!(only["totals"]["total_tokens"], 3380);
}

#[test]
fn hooks_never_fail_and_log_their_errors() {
    let s = Scene::new();
    for bad in ["not json", "{}", r#"{"hook_event_name":"SessionEnd"}"#] {
        s.t.cmd()
            .args(["hook", "claude-code"])
            .current_dir(&s.project)
            .write_stdin(bad)
            .assert()
            .success()
            .stdout("");
    }
    let log = std::fs::read_to_string(s.t.home.join("hook.log")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("not JSON"), "{log}");
    assert!(log.contains("no session_id"), "{log}");
}

#[test]
fn tracking_switched_off_records_nothing() {
    let s = Scene::new();
    std::fs::write(
        s.project.join(".cleo/config.json"),
        r#"{"metrics":{"tokenTracking":{"enabled":true,"sessionLevel":false,"spawnLevel":true}}}"#,
    )
    .unwrap();
    s.replay();
    assert!(!s.metrics().join("SESSIONS.jsonl").exists());
    assert!(s.t.register().is_empty());
    // Spawns are still tracked, under the Claude session id.
    let usage = lines(&s.metrics().join("TOKEN_USAGE.jsonl"));
    assert_eq!(usage.len(), 3);
    assert_eq!(usage[0]["session_id"], SID);
}
