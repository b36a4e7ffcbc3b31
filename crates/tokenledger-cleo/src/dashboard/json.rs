//! The three views as JSON, following the report contract: keys in a fixed
//! order (structs, not maps, whose order serde_json would sort).

use super::Dashboard;
use crate::attribution::TaskRow;
use serde::Serialize;
use serde_json::Value;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::report::SCHEMA_VERSION;

impl Dashboard<'_> {
    fn document<R: Serialize, T: Serialize>(
        &self,
        group_by: &[&'static str],
        rows: Vec<R>,
        totals: T,
    ) -> String {
        let doc = Document {
            schema_version: SCHEMA_VERSION,
            generated_at: self.generated_at.to_string(),
            period: Period {
                since: self.since.map(|t| t.to_string()),
                until: self.until.map(|t| t.to_string()),
                tz: "UTC",
            },
            group_by: group_by.to_vec(),
            rows,
            totals,
            warnings: &self.warnings,
        };
        // Plain structs, strings and finite-or-null floats always serialize.
        let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
        out.push('\n');
        out
    }

    pub fn tokens_json(&self) -> String {
        let rows: Vec<SessionOut> = self
            .sessions
            .iter()
            .map(|s| SessionOut {
                session: &s.session_id,
                claude_session_id: s.claude_session_id.as_deref(),
                timestamp: s.timestamp.to_string(),
                tokens_source: s.source.as_str(),
                estimated: s.source.is_estimate(),
                measures: Measures::of(&s.tokens, s.total),
                cost_usd: s.cost_usd,
                duration_minutes: s.duration_minutes,
                tasks_completed: s.tasks_completed,
            })
            .collect();
        let (t, total, estimated) = self.session_tokens();
        let totals = SessionTotals {
            measures: Measures::of(&t, total),
            sessions: self.sessions.len() as u64,
            estimated_total_tokens: estimated,
        };
        self.document(&["session"], rows, totals)
    }

    pub fn by_task_json(&self) -> String {
        let rows: Vec<TaskOut> = self.tasks.iter().map(TaskOut::of).collect();
        let sum =
            |f: &dyn Fn(&TaskRow) -> Option<u64>| -> u64 { self.tasks.iter().filter_map(f).sum() };
        let totals = TaskTotals {
            tasks: self.tasks.len() as u64,
            estimated_tokens: sum(&|r| Some(r.estimated)),
            actual_tokens: sum(&|r| r.actual.map(|t| t.total())),
            reconciled_tokens: sum(&|r| r.reconciled.map(|t| t.total())),
            total_tokens: sum(&|r| Some(r.tokens())),
        };
        self.document(&["task"], rows, totals)
    }

    pub fn savings_json(&self) -> String {
        let rows: Vec<ReadOut> = self
            .manifest_reads
            .iter()
            .map(|r| {
                let full = r.context.get("full_file_tokens").and_then(Value::as_u64);
                ReadOut {
                    task: r.task_id.as_deref(),
                    entry: r.context_str("entry"),
                    manifest: &r.source,
                    manifest_tokens: r.estimated_tokens,
                    full_file_tokens: full,
                    saved_tokens: full.map(|f| f as i64 - r.estimated_tokens as i64),
                    estimated: true,
                    timestamp: r.timestamp.to_string(),
                }
            })
            .collect();
        let s = &self.savings;
        let totals = SavingsTotals {
            manifest_reads: s.reads,
            manifest_tokens: s.manifest_tokens,
            full_file_tokens: s.full_file_tokens,
            saved_tokens: s.saved(),
            saved_percent: s.percent().map(|p| round(p, 2)),
            unmeasured_reads: s.unmeasured_reads,
            estimated: true,
        };
        self.document(&["task"], rows, totals)
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

#[derive(Serialize)]
struct Document<'a, R, T> {
    schema_version: u32,
    generated_at: String,
    period: Period,
    group_by: Vec<&'static str>,
    rows: Vec<R>,
    totals: T,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Period {
    since: Option<String>,
    until: Option<String>,
    tz: &'static str,
}

/// The report contract's token measures, in its order.
#[derive(Serialize)]
struct Measures {
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
    total_tokens: u64,
}

impl Measures {
    fn of(t: &TokenCounts, total: u64) -> Measures {
        Measures {
            input_tokens: t.input,
            output_tokens: t.output,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write(),
            total_tokens: total,
        }
    }
}

#[derive(Serialize)]
struct SessionOut<'a> {
    session: &'a str,
    claude_session_id: Option<&'a str>,
    timestamp: String,
    tokens_source: &'static str,
    estimated: bool,
    #[serde(flatten)]
    measures: Measures,
    cost_usd: Option<f64>,
    duration_minutes: Option<u64>,
    tasks_completed: Option<u64>,
}

#[derive(Serialize)]
struct SessionTotals {
    #[serde(flatten)]
    measures: Measures,
    sessions: u64,
    estimated_total_tokens: u64,
}

#[derive(Serialize)]
struct ActualOut {
    #[serde(flatten)]
    measures: Measures,
    cost_usd: Option<f64>,
}

#[derive(Serialize)]
struct TaskOut<'a> {
    task: &'a str,
    protocol: Option<&'a str>,
    basis: &'static str,
    tokens: u64,
    estimated_tokens: u64,
    actual: Option<ActualOut>,
    reconciled: Option<Measures>,
    estimation_error_pct: Option<f64>,
    sessions: &'a [String],
}

impl TaskOut<'_> {
    fn of(r: &TaskRow) -> TaskOut<'_> {
        TaskOut {
            task: &r.task_id,
            protocol: r.protocol.as_deref(),
            basis: r.basis().as_str(),
            tokens: r.tokens(),
            estimated_tokens: r.estimated,
            actual: r.actual.map(|t| ActualOut {
                measures: Measures::of(&t, t.total()),
                cost_usd: r.actual_cost_usd.map(|c| round(c, 6)),
            }),
            reconciled: r.reconciled.map(|t| Measures::of(&t, t.total())),
            estimation_error_pct: r.error_pct().map(|e| round(e, 2)),
            sessions: &r.sessions,
        }
    }
}

#[derive(Serialize)]
struct TaskTotals {
    tasks: u64,
    estimated_tokens: u64,
    actual_tokens: u64,
    reconciled_tokens: u64,
    total_tokens: u64,
}

#[derive(Serialize)]
struct ReadOut<'a> {
    task: Option<&'a str>,
    entry: Option<&'a str>,
    manifest: &'a str,
    manifest_tokens: u64,
    full_file_tokens: Option<u64>,
    saved_tokens: Option<i64>,
    estimated: bool,
    timestamp: String,
}

#[derive(Serialize)]
struct SavingsTotals {
    manifest_reads: u64,
    manifest_tokens: u64,
    full_file_tokens: u64,
    saved_tokens: i64,
    saved_percent: Option<f64>,
    unmeasured_reads: u64,
    estimated: bool,
}
