//! A schedule as an OpenClaw gateway cron job: the object `cron.add` takes
//! and `~/.openclaw/cron/jobs.json` holds (`schedule.kind = "cron"` with
//! `expr` and `tz`, an isolated `agentTurn` payload, and a `delivery`).

use super::sh_quote;
use serde::Serialize;
use tokenledger_core::schedule::Schedule;

/// Agent turns that run one command finish well within this.
const TIMEOUT_SECONDS: u64 = 300;

/// Structs rather than `json!`, so the keys keep this order in the output.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    name: String,
    description: String,
    enabled: bool,
    schedule: CronSchedule,
    session_target: &'static str,
    wake_mode: &'static str,
    payload: Payload,
    delivery: Delivery,
}

#[derive(Serialize)]
struct CronSchedule {
    kind: &'static str,
    expr: String,
    tz: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    kind: &'static str,
    message: String,
    timeout_seconds: u64,
}

#[derive(Serialize)]
struct Delivery {
    mode: &'static str,
}

pub fn job_json(schedule: &Schedule) -> anyhow::Result<String> {
    let command = std::iter::once("tokenledger".to_string())
        .chain(schedule.args.iter().map(|a| plain_or_quoted(a)))
        .collect::<Vec<_>>()
        .join(" ");
    // A command that sends the report itself must not be announced as
    // well, or the report arrives twice (the seed's bug).
    let sends = schedule
        .args
        .iter()
        .any(|a| a == "--send" || a.starts_with("--send="));
    let job = Job {
        name: format!("tokenledger {}", schedule.name),
        description: format!("Daily at {} {}: {command}", schedule.at, schedule.tz),
        enabled: true,
        schedule: CronSchedule {
            kind: "cron",
            expr: schedule.cron_expr()?,
            tz: schedule.tz.clone(),
        },
        session_target: "isolated",
        wake_mode: "now",
        payload: Payload {
            kind: "agentTurn",
            message: format!(
                "Run this shell command exactly once, without changing it: {command}\n\
                 Then reply with its standard output verbatim. If it exits non-zero, reply with its standard error instead."
            ),
            timeout_seconds: TIMEOUT_SECONDS,
        },
        delivery: Delivery {
            mode: if sends { "none" } else { "announce" },
        },
    };
    Ok(serde_json::to_string_pretty(&job)?)
}

/// Plain words stay readable for the agent; anything else is quoted.
fn plain_or_quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@".contains(c));
    if plain {
        word.to_string()
    } else {
        sh_quote(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sending_job_is_not_announced_again() {
        let s = Schedule::new(
            None,
            "20:00",
            "Europe/Berlin",
            "report daily --send telegram --rotate"
                .split(' ')
                .map(String::from)
                .collect(),
        )
        .unwrap();
        insta::assert_snapshot!(job_json(&s).unwrap(), @r#"
        {
          "name": "tokenledger report-daily",
          "description": "Daily at 20:00 Europe/Berlin: tokenledger report daily --send telegram --rotate",
          "enabled": true,
          "schedule": {
            "kind": "cron",
            "expr": "0 20 * * *",
            "tz": "Europe/Berlin"
          },
          "sessionTarget": "isolated",
          "wakeMode": "now",
          "payload": {
            "kind": "agentTurn",
            "message": "Run this shell command exactly once, without changing it: tokenledger report daily --send telegram --rotate\nThen reply with its standard output verbatim. If it exits non-zero, reply with its standard error instead.",
            "timeoutSeconds": 300
          },
          "delivery": {
            "mode": "none"
          }
        }
        "#);
    }

    #[test]
    fn a_plain_report_is_announced_and_odd_words_quoted() {
        let s = Schedule::new(
            Some("x"),
            "07:30",
            "UTC",
            vec!["report".into(), "a b".into()],
        )
        .unwrap();
        let out: serde_json::Value = serde_json::from_str(&job_json(&s).unwrap()).unwrap();
        assert_eq!(out["delivery"]["mode"], "announce");
        assert_eq!(out["schedule"]["expr"], "30 7 * * *");
        assert!(
            out["payload"]["message"]
                .as_str()
                .unwrap()
                .contains("tokenledger report 'a b'")
        );
    }
}
