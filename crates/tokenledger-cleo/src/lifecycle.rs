//! Tier 1: a session's start and end records, with figures from the best
//! source there is: the session's Claude Code transcript, else a
//! `.claude/context-state.json`, else the session's own estimates.

use crate::attribution::session_splits;
use crate::config::CleoConfig;
use crate::error::Result;
use crate::links::Split;
use crate::sessions::{self, Event, SessionRecord, TokensSource};
use crate::transcript::{self, Actual};
use crate::usage::{self, EventType};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use tokenledger_core::Warning;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::pricing::PriceTable;
use tokenledger_core::register::{CostLiteral, NewEntry};

/// A session's totals at a tokenledger collector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollectorTotals {
    pub tokens: TokenCounts,
    pub cost_usd: Option<f64>,
}

/// Asks a collector what it holds for a Claude session. The library does
/// no networking: the CLI supplies this, and it is asked only when no
/// transcript is at hand.
pub trait CollectorLookup: std::fmt::Debug + Send + Sync {
    /// `None` when the collector is unreachable or knows no such session.
    fn session_totals(&self, claude_session_id: &str) -> Option<CollectorTotals>;
}

/// What identifies a session and where its actual figures may be.
#[derive(Debug, Clone, Default)]
pub struct SessionRef {
    /// The CLEO id (`session_…`); generated when `None` at start.
    pub id: Option<String>,
    pub claude_session_id: Option<String>,
    /// The Claude Code transcript (from a hook payload).
    pub transcript: Option<PathBuf>,
    /// Where to find the transcript from `claude_session_id` when it is not
    /// given (`~/.claude`, `CLAUDE_CONFIG_DIR`).
    pub claude_locations: Vec<PathBuf>,
    /// A collector receiving the session's OpenTelemetry data, if any.
    pub collector: Option<std::sync::Arc<dyn CollectorLookup>>,
}

impl SessionRef {
    fn transcript(&self) -> Option<PathBuf> {
        self.transcript.clone().filter(|p| p.is_file()).or_else(|| {
            let id = self.claude_session_id.as_deref()?;
            transcript::find_transcript(&self.claude_locations, id)
        })
    }
}

/// A session's figures at one moment and where they came from.
#[derive(Debug, Clone)]
pub struct Figures {
    pub tokens: TokenCounts,
    pub total: u64,
    pub source: TokensSource,
    pub model: Option<String>,
    pub cost_usd: Option<f64>,
    pub warnings: Vec<Warning>,
}

/// Transcript, else the collector's OpenTelemetry data (when the CLEO
/// config's `otelIntegration` allows), else context-state, else the
/// session's estimates.
pub fn figures(
    config: &CleoConfig,
    session: &SessionRef,
    cleo_id: Option<&str>,
    prices: &PriceTable,
) -> Result<Figures> {
    if let Some(path) = session.transcript() {
        let actual: Actual = transcript::actual(transcript::session_files(&path), prices)?;
        return Ok(Figures {
            tokens: actual.tokens,
            total: actual.tokens.total(),
            source: TokensSource::Transcript,
            model: actual.model,
            cost_usd: actual.cost_usd,
            warnings: actual.warnings,
        });
    }
    // Claude Code creates the transcript with the first message: a session
    // that names one not yet written has used nothing so far.
    if session.transcript.as_ref().is_some_and(|p| !p.exists()) {
        return Ok(Figures {
            tokens: TokenCounts::default(),
            total: 0,
            source: TokensSource::Transcript,
            model: None,
            cost_usd: None,
            warnings: Vec::new(),
        });
    }
    if config.tracking.otel_integration
        && let (Some(collector), Some(id)) = (&session.collector, &session.claude_session_id)
        && let Some(totals) = collector.session_totals(id)
    {
        return Ok(Figures {
            tokens: totals.tokens,
            total: totals.tokens.total(),
            source: TokensSource::Collector,
            model: None,
            cost_usd: totals.cost_usd,
            warnings: Vec::new(),
        });
    }
    let mut warnings = Vec::new();
    if let Some(tokens) = context_state(&config.project_root, &mut warnings) {
        return Ok(Figures {
            tokens,
            total: tokens.total(),
            source: TokensSource::ContextState,
            model: None,
            cost_usd: None,
            warnings,
        });
    }
    let (records, more) = usage::read(&config.usage_path())?;
    warnings.extend(more);
    let total: u64 = records
        .iter()
        .filter(|r| cleo_id.is_some() && r.session() == cleo_id)
        .filter(|r| r.event_type.is_task_work())
        .map(|r| r.estimated_tokens)
        .sum();
    Ok(Figures {
        tokens: TokenCounts {
            input: total,
            ..Default::default()
        },
        total,
        source: TokensSource::Estimate,
        model: None,
        cost_usd: None,
        warnings,
    })
}

/// The spec's `.claude/context-state.json` (`tokenUsage{input, output,
/// cacheRead, cacheCreation}`) in the project. Claude Code writes no such
/// file, but a statusline script may.
fn context_state(root: &Path, warnings: &mut Vec<Warning>) -> Option<TokenCounts> {
    let path = root.join(".claude/context-state.json");
    let bytes = std::fs::read(&path).ok()?;
    let parsed: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(Warning {
                path,
                line: None,
                message: format!("not JSON ({e}); session figures fall back to estimates"),
            });
            return None;
        }
    };
    let usage = parsed.get("tokenUsage")?;
    let c = |k| crate::jsonl::count_field(usage, k).unwrap_or(0);
    Some(TokenCounts {
        input: c("input"),
        output: c("output"),
        cache_read: c("cacheRead"),
        cache_write_5m: c("cacheCreation"),
        ..Default::default()
    })
}

/// Records a session start; returns the record.
pub fn start(
    config: &CleoConfig,
    session: &SessionRef,
    prices: &PriceTable,
    now: Timestamp,
) -> Result<(SessionRecord, Vec<Warning>)> {
    let salt = session
        .claude_session_id
        .clone()
        .unwrap_or_else(|| format!("{}:{}", std::process::id(), now.as_nanosecond()));
    let id = session
        .id
        .clone()
        .unwrap_or_else(|| sessions::new_session_id(now, &salt));
    let f = figures(config, session, Some(&id), prices)?;
    let record = SessionRecord {
        timestamp: now,
        session_id: id,
        event: Event::Start,
        tokens: f.tokens,
        total: f.total,
        delta: 0,
        duration_minutes: Some(0),
        tasks_completed: Some(0),
        source: f.source,
        claude_session_id: session.claude_session_id.clone(),
        model: f.model,
        cost_usd: f.cost_usd,
        line: 0,
    };
    record.append(&config.sessions_path())?;
    Ok((record, f.warnings))
}

/// What ending a session produced.
#[derive(Debug)]
pub struct Ended {
    pub record: SessionRecord,
    /// False when no start record was found (the end is recorded anyway).
    pub had_start: bool,
    /// For the register, when the figures are actual (never an estimate).
    pub entry: Option<NewEntry>,
    /// The tasks' shares of the register entry, for the task links.
    pub splits: Vec<Split>,
    pub warnings: Vec<Warning>,
}

/// Records a session end. The id is the one given, else the start record's
/// of the Claude session, else the latest open session, else a new one.
pub fn end(
    config: &CleoConfig,
    session: &SessionRef,
    tasks_completed: Option<u64>,
    prices: &PriceTable,
    now: Timestamp,
) -> Result<Ended> {
    let (records, mut warnings) = sessions::read(&config.sessions_path())?;
    let start = match (&session.id, &session.claude_session_id) {
        (None, None) => sessions::open_session(&records),
        (id, claude) => sessions::find_start(&records, id.as_deref(), claude.as_deref()),
    };
    let id = session
        .id
        .clone()
        .or_else(|| start.map(|s| s.session_id.clone()))
        .unwrap_or_else(|| {
            let salt = session.claude_session_id.as_deref().unwrap_or("end");
            sessions::new_session_id(now, salt)
        });
    let mut session = session.clone();
    if session.claude_session_id.is_none() {
        session.claude_session_id = start.and_then(|s| s.claude_session_id.clone());
    }
    let f = figures(config, &session, Some(&id), prices)?;
    warnings.extend(f.warnings.iter().cloned());
    let (usage_records, more) = usage::read(&config.usage_path())?;
    warnings.extend(more);
    let completed = tasks_completed.unwrap_or_else(|| {
        let mut done: Vec<&str> = usage_records
            .iter()
            .filter(|r| r.session() == Some(id.as_str()) && r.event_type == EventType::SpawnEnd)
            .filter_map(|r| r.task_id.as_deref())
            .collect();
        done.sort_unstable();
        done.dedup();
        done.len() as u64
    });
    let record = SessionRecord {
        timestamp: now,
        session_id: id.clone(),
        event: Event::End,
        tokens: f.tokens,
        total: f.total,
        delta: f.total.saturating_sub(start.map_or(0, |s| s.total)),
        duration_minutes: start.map(|s| sessions::minutes(s.timestamp, now)),
        tasks_completed: Some(completed),
        source: f.source,
        claude_session_id: session.claude_session_id.clone(),
        model: f.model.clone(),
        cost_usd: f.cost_usd,
        line: 0,
    };
    record.append(&config.sessions_path())?;
    let actual = !f.source.is_estimate();
    let entry = actual.then(|| NewEntry {
        timestamp: now,
        session_key: session
            .claude_session_id
            .clone()
            .unwrap_or_else(|| id.clone()),
        agent_id: "main".into(),
        model: f.model.clone().unwrap_or_else(|| "unknown".into()),
        tokens_input: f.tokens.input,
        tokens_output: f.tokens.output,
        cost: f.cost_usd.map(CostLiteral::computed).or_else(|| {
            let price = prices.lookup(f.model.as_deref()?)?;
            let usd = tokenledger_core::pricing::cost_usd(
                price.price,
                &f.tokens,
                tokenledger_core::pricing::TierRule::None,
                false,
            );
            Some(CostLiteral::computed(usd))
        }),
        tokens_cache_read: Some(f.tokens.cache_read),
        tokens_cache_write: Some(f.tokens.cache_write_5m),
        tokens_cache_write_1h: Some(f.tokens.cache_write_1h),
        task_id: None,
        project: Some(config.project_root.display().to_string()),
        source: Some("cleo-session".into()),
    });
    let splits = if actual {
        session_splits(&usage_records, &record)
    } else {
        Vec::new()
    };
    Ok(Ended {
        had_start: start.is_some(),
        record,
        entry,
        splits,
        warnings,
    })
}
