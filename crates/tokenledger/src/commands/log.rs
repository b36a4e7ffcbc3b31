use crate::cli::LogArgs;
use crate::context::{Context, invalid, warn};
use std::process::ExitCode;
use tokenledger_core::event::TokenCounts;
use tokenledger_core::pricing::{TierRule, cost_usd};
use tokenledger_core::register::{AppendOutcome, CostLiteral, NewEntry};
use tokenledger_core::store::Store;
use tokenledger_core::time::parse_timestamp;

pub fn run(ctx: &Context, args: LogArgs) -> anyhow::Result<ExitCode> {
    let best_effort = args.best_effort;
    match log(ctx, args) {
        Ok(code) => Ok(code),
        // Hooks must never block an agent's exit.
        Err(err) if best_effort => {
            warn(&format_args!("{err:#} (not logged; --best-effort)"));
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => Err(err),
    }
}

fn log(ctx: &Context, args: LogArgs) -> anyhow::Result<ExitCode> {
    let entry = build_entry(ctx, &args)?;
    if let Some(url) = &args.remote {
        return log_remote(ctx, url, &entry, args.strict);
    }
    match ctx.store().append(&entry)? {
        AppendOutcome::Duplicate => {
            // The seed's message, byte for byte (two spaces after the emoji).
            println!("⚠️  Session {} already logged, skipping", entry.session_key);
            Ok(if args.strict {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        AppendOutcome::Appended { .. } => {
            let cost = entry
                .cost
                .as_ref()
                .map_or_else(|| "unpriced".to_string(), |c| format!("${}", c.as_str()));
            println!("✅ Logged session {} to token register", entry.session_key);
            println!(
                "   Model: {} | Tokens: {} in, {} out | Cost: {cost}",
                entry.model, entry.tokens_input, entry.tokens_output
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The entry, in the seed's line shape, to a collector (or its spool).
fn log_remote(
    ctx: &Context,
    url: &str,
    entry: &NewEntry,
    strict: bool,
) -> anyhow::Result<ExitCode> {
    let line: serde_json::Value = serde_json::from_str(&entry.to_line())?;
    let delivered = super::remote::Remote::new(url)?.deliver(ctx, &[line])?;
    if let Some(path) = &delivered.spooled {
        println!(
            "⏸️  Collector unreachable: session {} spooled to {} (sent on the next --remote call)",
            entry.session_key,
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(reason) = delivered.rejected.first() {
        return Err(invalid(format!(
            "the collector rejected the entry: {reason}"
        )));
    }
    if delivered.accepted == 0 && delivered.duplicates > 0 {
        println!("⚠️  Session {} already logged, skipping", entry.session_key);
        return Ok(if strict {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    println!("✅ Logged session {} to {url}", entry.session_key);
    Ok(ExitCode::SUCCESS)
}

/// The seed's positional fields, then the named flags; a field given both ways must agree.
fn build_entry(ctx: &Context, args: &LogArgs) -> anyhow::Result<NewEntry> {
    let pos = |i: usize| args.positional.get(i).map(String::as_str);
    let pick = |name: &str, named: &Option<String>, i: usize| -> anyhow::Result<Option<String>> {
        match (named.as_deref(), pos(i)) {
            (Some(a), Some(b)) if a != b => Err(invalid(format!(
                "{name} given twice ({b:?} positionally and {a:?} as --{name}); give it once"
            ))),
            (Some(a), _) => Ok(Some(a.to_string())),
            (None, b) => Ok(b.map(str::to_string)),
        }
    };
    let session_key = pick("session", &args.session, 0)?.unwrap_or_else(|| "unknown".into());
    if session_key.trim().is_empty() {
        return Err(invalid(
            "session key is empty; pass the agent's session key",
        ));
    }
    let agent_id = non_empty(pick("agent", &args.agent, 1)?).unwrap_or_else(|| "main".into());
    let model = non_empty(pick("model", &args.model, 2)?).unwrap_or_else(|| "unknown".into());
    let tokens_input = count("input", pick("input", &args.input, 3)?.as_deref())?.unwrap_or(0);
    let tokens_output = count("output", pick("output", &args.output, 4)?.as_deref())?.unwrap_or(0);
    let tokens_cache_read = count("cache-read", args.cache_read.as_deref())?;
    let tokens_cache_write = count("cache-write", args.cache_write.as_deref())?;
    let tokens_cache_write_1h = count("cache-write-1h", args.cache_write_1h.as_deref())?;
    let cost = pick("cost", &args.cost, 5)?
        .map(|text| CostLiteral::parse(&text))
        .transpose()?;
    let timestamp = match &args.timestamp {
        Some(text) => {
            parse_timestamp(text).map_err(|e| invalid(format!("--timestamp {text:?}: {e}")))?
        }
        None => jiff::Timestamp::now(),
    };
    let mut entry = NewEntry {
        timestamp,
        session_key,
        agent_id,
        model,
        tokens_input,
        tokens_output,
        cost,
        tokens_cache_read,
        tokens_cache_write,
        tokens_cache_write_1h,
        task_id: non_empty(args.task.clone()),
        project: non_empty(args.project.clone()),
        source: non_empty(args.source.clone()),
    };
    if entry.cost.is_none() {
        entry.cost = compute_cost(ctx, &entry)?;
    }
    Ok(entry)
}

/// Prices the entry from the table; an unknown model is left unpriced, never $0.
fn compute_cost(ctx: &Context, entry: &NewEntry) -> anyhow::Result<Option<CostLiteral>> {
    let prices = ctx.prices()?;
    let Some(found) = prices.lookup(&entry.model) else {
        warn(&format_args!(
            "model {:?} is not in the price table; the entry is logged without a cost (unpriced). \
             Pass --cost, or add the model under [pricing.models] in {}",
            entry.model,
            ctx.config_path.display()
        ));
        return Ok(None);
    };
    let tokens = TokenCounts {
        input: entry.tokens_input,
        output: entry.tokens_output,
        cache_read: entry.tokens_cache_read.unwrap_or(0),
        cache_write_5m: entry.tokens_cache_write.unwrap_or(0),
        cache_write_1h: entry.tokens_cache_write_1h.unwrap_or(0),
        reasoning: 0,
    };
    // A session total is a sum of requests: no long-context tier can be inferred from it.
    Ok(Some(CostLiteral::computed(cost_usd(
        found.price,
        &tokens,
        TierRule::None,
        false,
    ))))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn count(field: &str, text: Option<&str>) -> anyhow::Result<Option<u64>> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(invalid(format!(
            "{field} tokens {text:?} is negative; token counts are 0 or more"
        )));
    }
    trimmed.parse::<u64>().map(Some).map_err(|_| {
        invalid(format!(
            "{field} tokens {text:?} is not a whole number (write 15000, not 15k)"
        ))
    })
}
