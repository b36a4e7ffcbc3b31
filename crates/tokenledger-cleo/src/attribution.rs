//! Tokens per task: the spawn-boundary estimates, the subagent runs' actual
//! usage where a run was tied to the task, and where only estimates exist,
//! the estimates scaled so a session's tasks sum to its actual total.

use crate::links::{Basis, Split};
use crate::sessions::SessionRecord;
use crate::usage::{EventType, UsageRecord};
use serde_json::Value;
use std::collections::BTreeMap;
use tokenledger_core::event::TokenCounts;

/// One task's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task_id: String,
    /// The spawn's protocol (`research`, `impl`), when one was given.
    pub protocol: Option<String>,
    /// Sum of the task's TOKEN_USAGE estimates.
    pub estimated: u64,
    /// Billed by the subagent runs tied to the task.
    pub actual: Option<TokenCounts>,
    pub actual_cost_usd: Option<f64>,
    /// Estimates scaled to the sessions' actual totals.
    pub reconciled: Option<TokenCounts>,
    pub sessions: Vec<String>,
}

impl TaskRow {
    pub fn basis(&self) -> Basis {
        if self.actual.is_some() {
            Basis::Actual
        } else if self.reconciled.is_some() {
            Basis::Reconciled
        } else {
            Basis::Estimate
        }
    }

    /// The best figure: actual, else reconciled, else the estimate.
    pub fn tokens(&self) -> u64 {
        self.actual
            .or(self.reconciled)
            .map_or(self.estimated, |t| t.total())
    }

    /// How far the estimate was from the actual total, in percent of it.
    pub fn error_pct(&self) -> Option<f64> {
        let actual = self.actual?.total();
        (actual > 0).then(|| (self.estimated as f64 - actual as f64) * 100.0 / actual as f64)
    }
}

/// An actual figure recorded in a record's `context.actual`.
pub fn actual_of(record: &UsageRecord) -> Option<(String, TokenCounts, Option<f64>)> {
    let a = record.context.get("actual")?;
    let c = |k| a.get(k).and_then(Value::as_u64).unwrap_or(0);
    let run = a
        .get("agent_id")
        .and_then(Value::as_str)
        .unwrap_or(record.source.as_str())
        .to_string();
    let tokens = TokenCounts {
        input: c("input"),
        output: c("output"),
        cache_read: c("cache_read"),
        cache_write_5m: c("cache_write_5m"),
        cache_write_1h: c("cache_write_1h"),
        reasoning: 0,
    };
    Some((run, tokens, a.get("cost_usd").and_then(Value::as_f64)))
}

/// The per-task table from one metrics directory's records. `ends` are the
/// sessions' end records, one per session.
pub fn tasks(usage: &[UsageRecord], ends: &[&SessionRecord]) -> Vec<TaskRow> {
    let mut rows: BTreeMap<String, TaskRow> = BTreeMap::new();
    // (session, task) → estimate, for reconciling per session.
    let mut per_session: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut runs_seen: Vec<(String, String)> = Vec::new();
    let mut costs: BTreeMap<String, (f64, bool)> = BTreeMap::new();
    for r in usage.iter().filter(|r| r.event_type.is_task_work()) {
        let Some(task) = &r.task_id else { continue };
        let row = rows.entry(task.clone()).or_insert_with(|| TaskRow {
            task_id: task.clone(),
            protocol: None,
            estimated: 0,
            actual: None,
            actual_cost_usd: None,
            reconciled: None,
            sessions: Vec::new(),
        });
        if row.protocol.is_none() && r.event_type == EventType::SpawnStart {
            row.protocol = r.context_str("protocol").map(str::to_string);
        }
        row.estimated = row.estimated.saturating_add(r.estimated_tokens);
        let session = r.session().unwrap_or("").to_string();
        if !session.is_empty() && !row.sessions.contains(&session) {
            row.sessions.push(session.clone());
        }
        let estimate = per_session.entry((session, task.clone())).or_default();
        *estimate = estimate.saturating_add(r.estimated_tokens);
        // A run reported twice (two SubagentStop hooks) counts once.
        if let Some((run, tokens, cost)) = actual_of(r) {
            if runs_seen.contains(&(task.clone(), run.clone())) {
                continue;
            }
            runs_seen.push((task.clone(), run));
            row.actual
                .get_or_insert_with(TokenCounts::default)
                .add(&tokens);
            let (sum, unpriced) = costs.entry(task.clone()).or_insert((0.0, false));
            match cost {
                Some(c) => *sum += c,
                None => *unpriced = true,
            }
        }
    }
    // An unpriced run makes the task's cost unknown, never a partial sum.
    for (task, (sum, unpriced)) in costs {
        if let Some(row) = rows.get_mut(&task) {
            row.actual_cost_usd = (!unpriced).then_some(sum);
        }
    }
    for end in ends.iter().filter(|e| !e.source.is_estimate()) {
        for split in reconcile(&end.session_id, end.tokens, &rows, &per_session) {
            if split.basis == Basis::Reconciled
                && let Some(row) = rows.get_mut(&split.task_id)
            {
                row.reconciled
                    .get_or_insert_with(TokenCounts::default)
                    .add(&split.tokens);
            }
        }
    }
    rows.into_values().collect()
}

/// How `session`'s actual total `total` divides among its tasks: measured
/// tasks keep their actual figures, and what is left goes to the tasks with
/// only estimates, in proportion to them, per token category (largest
/// remainder, so the shares add up exactly).
fn reconcile(
    session: &str,
    total: TokenCounts,
    rows: &BTreeMap<String, TaskRow>,
    per_session: &BTreeMap<(String, String), u64>,
) -> Vec<Split> {
    let in_session: Vec<(&String, u64)> = per_session
        .iter()
        .filter(|((s, _), _)| s == session)
        .map(|((_, t), e)| (t, *e))
        .collect();
    let mut splits = Vec::new();
    let mut left = total;
    for (task, _) in &in_session {
        if let Some(actual) = rows.get(*task).and_then(|r| r.actual) {
            subtract(&mut left, &actual);
            splits.push(Split {
                task_id: (*task).clone(),
                tokens: actual,
                basis: Basis::Actual,
            });
        }
    }
    let estimated: Vec<(&String, u64)> = in_session
        .into_iter()
        .filter(|(t, e)| *e > 0 && rows.get(*t).is_some_and(|r| r.actual.is_none()))
        .collect();
    let weights: Vec<u64> = estimated.iter().map(|(_, e)| *e).collect();
    let shares = [
        largest_remainder(left.input, &weights),
        largest_remainder(left.output, &weights),
        largest_remainder(left.cache_read, &weights),
        largest_remainder(left.cache_write_5m, &weights),
        largest_remainder(left.cache_write_1h, &weights),
    ];
    for (i, (task, _)) in estimated.iter().enumerate() {
        splits.push(Split {
            task_id: (*task).clone(),
            tokens: TokenCounts {
                input: shares[0][i],
                output: shares[1][i],
                cache_read: shares[2][i],
                cache_write_5m: shares[3][i],
                cache_write_1h: shares[4][i],
                reasoning: 0,
            },
            basis: Basis::Reconciled,
        });
    }
    splits
}

/// The shares of `session` for the register split (see [`crate::links`]).
pub fn session_splits(usage: &[UsageRecord], end: &SessionRecord) -> Vec<Split> {
    let in_session: Vec<UsageRecord> = usage
        .iter()
        .filter(|r| r.session() == Some(end.session_id.as_str()))
        .cloned()
        .collect();
    let rows: BTreeMap<String, TaskRow> = tasks(&in_session, &[])
        .into_iter()
        .map(|r| (r.task_id.clone(), r))
        .collect();
    let mut per_session = BTreeMap::new();
    for r in in_session.iter().filter(|r| r.event_type.is_task_work()) {
        if let Some(task) = &r.task_id {
            let estimate: &mut u64 = per_session
                .entry((end.session_id.clone(), task.clone()))
                .or_default();
            *estimate = estimate.saturating_add(r.estimated_tokens);
        }
    }
    reconcile(&end.session_id, end.tokens, &rows, &per_session)
}

fn subtract(left: &mut TokenCounts, taken: &TokenCounts) {
    left.input = left.input.saturating_sub(taken.input);
    left.output = left.output.saturating_sub(taken.output);
    left.cache_read = left.cache_read.saturating_sub(taken.cache_read);
    left.cache_write_5m = left.cache_write_5m.saturating_sub(taken.cache_write_5m);
    left.cache_write_1h = left.cache_write_1h.saturating_sub(taken.cache_write_1h);
}

/// `total` divided in proportion to `weights`, in whole tokens that add up
/// to `total` (zero weights everywhere get nothing).
pub fn largest_remainder(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(u64, u128)> = weights
        .iter()
        .map(|&w| {
            let n = u128::from(total) * u128::from(w);
            ((n / sum) as u64, n % sum)
        })
        .collect();
    let mut shares: Vec<u64> = exact.iter().map(|(q, _)| *q).collect();
    let given: u64 = shares.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Biggest remainder first; ties to the earlier task.
    order.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1).then(a.cmp(&b)));
    for &i in order.iter().take((total - given) as usize) {
        shares[i] += 1;
    }
    shares
}

#[cfg(test)]
#[path = "attribution_tests.rs"]
mod tests;
