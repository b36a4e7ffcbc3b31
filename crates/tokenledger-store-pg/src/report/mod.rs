//! Reports aggregated in SQL, priced and shaped by the core: the database
//! sums, Rust prices each summed row with the price table and hands it to
//! the core's aggregator, which keys, formats and orders the rows exactly
//! as it does for events read from files.

mod sql;

use crate::PgStore;
use crate::error::PgError;
use crate::params::Params;
use rustc_hash::FxHashMap;
use sql::{Bound, Col, Kind, Plan};
use std::sync::Arc;
use tokenledger_core::aggregate::{Aggregator, tier_rule};
use tokenledger_core::event::{SourceKind, TokenCounts, UsageEvent};
use tokenledger_core::pricing::{PriceTable, TierRule, canonical_model_name, cost_usd};
use tokenledger_core::report::{Prefer, ReportData, ReportSpec};

pub(crate) fn report(
    store: &PgStore,
    spec: &ReportSpec,
    prices: &PriceTable,
    now: jiff::Timestamp,
) -> Result<ReportData, PgError> {
    let plan = Plan::new(&spec.groupings);
    let mut params = Params::default();
    let window = sql::window_sql("{alias}", &spec.window, &mut params);
    let mut client = store.client()?;
    let distinct = |client: &mut postgres::Client, what: &str| {
        let sql = format!(
            "SELECT DISTINCT {what} FROM events ev WHERE {}",
            window.replace("{alias}", "ev")
        );
        client
            .query(&sql, &params.as_refs())
            .map_err(|e| store.db("reading events", e))
    };

    // The models in the window, with what the core derives from each: its
    // canonical name (to group and filter by) and its long-context threshold.
    let filters = spec.filters.clone().canonicalized();
    let (mut raw, mut canon, mut threshold) = (Vec::new(), Vec::new(), Vec::new());
    let mut model_of_canon: FxHashMap<String, Arc<str>> = FxHashMap::default();
    for row in distinct(&mut client, "ev.model")? {
        let model: String = row.get(0);
        let canonical = canonical_model_name(&model);
        if !filters.models.is_empty() && !filters.models.contains(&canonical) {
            continue;
        }
        let lc = prices.lookup(&model).and_then(|m| m.price.long_context);
        threshold.push(lc.map(|lc| i64::try_from(lc.threshold).unwrap_or(i64::MAX)));
        model_of_canon
            .entry(canonical.clone())
            .or_insert_with(|| model.as_str().into());
        raw.push(model);
        canon.push(canonical);
    }
    if raw.is_empty() {
        return Ok(finish(
            Aggregator::new(prices, filters, spec.tz.clone(), spec.groupings.clone()),
            spec,
            now,
        ));
    }

    // The (source, origin) pairs in the window and the agent kind of each.
    let mut kind_pairs: FxHashMap<String, Vec<(SourceKind, String)>> = FxHashMap::default();
    let kinds = if plan.needs(Col::AgentKind) {
        let (mut sources, mut origins, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
        for row in distinct(&mut client, "ev.source, coalesce(ev.origin, '')")? {
            let (source, origin): (String, String) = (row.get(0), row.get(1));
            let Some(kind) = SourceKind::parse(&source) else {
                continue;
            };
            let agent_kind = kind.agent_kind_of(Some(&origin)).to_string();
            kind_pairs
                .entry(agent_kind.clone())
                .or_default()
                .push((kind, origin.clone()));
            sources.push(source);
            origins.push(origin);
            kinds.push(agent_kind);
        }
        Some([
            params.push(sources),
            params.push(origins),
            params.push(kinds),
        ])
    } else {
        None
    };

    let names = |keep: &dyn Fn(SourceKind) -> bool| -> Vec<String> {
        SourceKind::ALL
            .into_iter()
            .filter(|&k| keep(k))
            .map(|k| k.as_str().to_string())
            .collect()
    };
    let mut filter_sql = String::new();
    for (column, values) in [
        ("agent_id", &filters.agents),
        ("session", &filters.sessions),
        ("task", &filters.tasks),
    ] {
        if !values.is_empty() {
            let p = params.push(values.clone());
            filter_sql += &format!(" AND ev.{column} = ANY({p})");
        }
    }
    filter_sql += &crate::keys::otel_shadow_sql(store.otel_prefer, &mut params);
    let bound = Bound {
        models: [params.push(raw), params.push(canon), params.push(threshold)],
        kinds,
        // Bound only when used: PostgreSQL cannot type an unused parameter.
        tz: match plan.has_time() {
            true => params.push(zone_name(store, spec)?),
            false => String::new(),
        },
        session_level: params.push(names(&|k| k.is_session_level())),
        whole_request: params.push(names(&|k| tier_rule(k) == TierRule::WholeRequest)),
        filters: filter_sql,
        prefer_session_level: spec.prefer == Prefer::Register,
    };
    let query = sql::query(&plan, &bound, &window);
    // The grouping sets sort the window once per set; PostgreSQL's default
    // 4 MB of sort memory spills them to disk from about 100k events on.
    let rows = client
        .transaction()
        .and_then(|mut tx| {
            tx.batch_execute("SET LOCAL work_mem = '64MB'")?;
            let rows = tx.query(&query, &params.as_refs())?;
            tx.commit()?;
            Ok(rows)
        })
        .map_err(|e| store.db("aggregating events", e))?;

    let targets: FxHashMap<i32, &Vec<_>> = plan
        .sets
        .iter()
        .map(|(set, targets)| (plan.mask(set), targets))
        .collect();
    let mut aggregator = Aggregator::new(prices, filters, spec.tz.clone(), spec.groupings.clone());
    for row in &rows {
        let Some(last_ns) = row.get::<_, Option<i64>>("last_ns") else {
            continue; // the totals' row when nothing matched
        };
        let Some(targets) = targets.get(&row.get::<_, i32>("grouping_mask")) else {
            continue;
        };
        let text = |col: Col| -> Option<String> {
            plan.needs(col)
                .then(|| row.get::<_, Option<String>>(col.name()))
                .flatten()
        };
        let flag =
            |col: Col| plan.needs(col) && row.get::<_, Option<bool>>(col.name()) == Some(true);
        let count =
            |name: &str| u64::try_from(row.get::<_, Option<i64>>(name).unwrap_or(0)).unwrap_or(0);
        let tokens = TokenCounts {
            input: count("input"),
            output: count("output"),
            cache_read: count("cache_read"),
            cache_write_5m: count("cache_write_5m"),
            cache_write_1h: count("cache_write_1h"),
            reasoning: count("reasoning"),
        };
        for &(part, kind) in targets.iter() {
            let mut source = text(Col::Source).as_deref().and_then(SourceKind::parse);
            let mut origin = text(Col::Origin);
            let model: Arc<str> = match kind {
                Kind::Priced => text(Col::Model).unwrap_or_default().into(),
                Kind::Sessions => text(Col::Canon)
                    .and_then(|c| model_of_canon.get(&c).cloned())
                    .unwrap_or_else(|| "".into()),
            };
            // A sessions row knows its agent kind, not the (source, origin)
            // the core derives it from: any pair in the window that gives
            // it (and the row's source, when that is a key too) stands in.
            if let Some(agent_kind) = text(Col::AgentKind) {
                let pairs = kind_pairs
                    .get(&agent_kind)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let pair = pairs
                    .iter()
                    .find(|(k, _)| source.is_none_or(|s| s == *k))
                    .or(pairs.first());
                if let Some((k, o)) = pair {
                    source = Some(*k);
                    origin = Some(o.clone());
                }
            }
            let sample = UsageEvent {
                timestamp: jiff::Timestamp::from_nanosecond(i128::from(last_ns))
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                source: source.unwrap_or(SourceKind::Register),
                agent_id: text(Col::Agent).unwrap_or_default().into(),
                session: text(Col::Session).unwrap_or_default().into(),
                model,
                tokens,
                fast: flag(Col::Fast),
                reported_cost: None,
                task: text(Col::Task).map(Into::into),
                project: text(Col::Project).map(Into::into),
                origin: origin.map(Into::into),
                dedupe_key: None,
            };
            match kind {
                Kind::Priced => {
                    let cost = if flag(Col::Reported) {
                        row.get::<_, Option<f64>>("reported_cost")
                    } else {
                        price(prices, &sample, flag(Col::Long))
                    };
                    aggregator.add_summed(part, &sample, cost, count("events"), 0);
                }
                Kind::Sessions => {
                    let sample = UsageEvent {
                        tokens: TokenCounts::default(),
                        ..sample
                    };
                    aggregator.add_summed(part, &sample, Some(0.0), 0, count("sessions"));
                }
            }
        }
    }
    Ok(finish(aggregator, spec, now))
}

/// The cost of a priced row's summed tokens, `None` for an unpriced model.
/// Linear within the row: its events share model, fast mode and tier, so
/// the core's per-event rule is decided once (`long`) and the rates of that
/// tier apply to the sums.
fn price(prices: &PriceTable, row: &UsageEvent, long: bool) -> Option<f64> {
    let mut price = *prices.lookup(&row.model)?.price;
    if let (true, Some(lc)) = (long, price.long_context) {
        price.input = lc.input;
        price.output = lc.output;
        price.cache_read = lc.cache_read;
        price.cache_write_5m = lc.cache_write_5m;
        price.cache_write_1h = lc.cache_write_1h;
    }
    Some(cost_usd(&price, &row.tokens, TierRule::None, row.fast))
}

fn finish(aggregator: Aggregator<'_>, spec: &ReportSpec, now: jiff::Timestamp) -> ReportData {
    let (totals, rows) = aggregator.finish();
    ReportData {
        generated_at: now,
        window: spec.window,
        tz_name: spec.tz_name.clone(),
        totals,
        groupings: spec.groupings.iter().cloned().zip(rows).collect(),
        warnings: Vec::new(),
    }
}

/// The display zone as PostgreSQL spells it: its IANA name, or for a fixed
/// offset a POSIX zone (whose sign is the reverse of ISO's: `<+0530>-05:30`
/// is five and a half hours east).
fn zone_name(store: &PgStore, spec: &ReportSpec) -> Result<String, PgError> {
    if let Some(name) = spec.tz.iana_name() {
        return Ok(name.to_string());
    }
    match spec.tz.to_fixed_offset() {
        Ok(offset) => {
            let secs = offset.seconds();
            let (sign, abs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
            let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
            let posix = if sign == '+' { '-' } else { '+' };
            Ok(format!("<{sign}{h:02}{m:02}>{posix}{h:02}:{m:02}:{s:02}"))
        }
        Err(_) => Err(PgError::Other {
            target: store.target.clone(),
            message: format!(
                "time zone {:?} has no IANA name PostgreSQL could use; pass --tz with one (e.g. Europe/Berlin)",
                spec.tz_name
            ),
        }),
    }
}
