//! Questions about dedupe keys: the totals of an OTLP series (keys sharing a
//! prefix) and which OpenTelemetry kind a report counts. The kinds' key
//! prefixes come from core, so this store and the file store read them alike.

use crate::PgStore;
use crate::error::PgError;
use crate::params::Params;
use tokenledger_core::event::{SourceKind, TokenCounts};
use tokenledger_core::server_config::{OTEL_LOG_KEY_PREFIX, OTEL_METRIC_KEY_PREFIXES, OtelPrefer};

/// A LIKE pattern matching every text that starts with `prefix` literally:
/// `%`, `_` and the escape character `\` in it match only themselves.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Summed tokens and reported cost of the events whose key starts with `prefix`.
pub(crate) fn totals_by_key_prefix(
    store: &PgStore,
    prefix: &str,
) -> Result<(TokenCounts, f64), PgError> {
    let mut client = store.client()?;
    let row = client
        .query_one(
            "SELECT coalesce(sum(input), 0)::int8, coalesce(sum(output), 0)::int8,
                coalesce(sum(cache_read), 0)::int8, coalesce(sum(cache_write_5m), 0)::int8,
                coalesce(sum(cache_write_1h), 0)::int8, coalesce(sum(reasoning), 0)::int8,
                coalesce(sum(reported_cost), 0)::float8
             FROM events WHERE dedupe_key LIKE $1",
            &[&like_prefix(prefix)],
        )
        .map_err(|e| store.db("summing a series", e))?;
    let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    let tokens = TokenCounts {
        input: count(0),
        output: count(1),
        cache_read: count(2),
        cache_write_5m: count(3),
        cache_write_1h: count(4),
        reasoning: count(5),
    };
    Ok((tokens, row.get(6)))
}

/// An `AND` condition leaving out OpenTelemetry records of the kind not
/// preferred in every session that has records of the preferred kind (the
/// file store's `OtelShadow`). Like it, the sessions are looked for over all
/// stored events, not just the window: a rule that flipped with the window
/// would make two reports of one day disagree.
pub(crate) fn otel_shadow_sql(prefer: OtelPrefer, params: &mut Params) -> String {
    let logs = vec![like_prefix(OTEL_LOG_KEY_PREFIX)];
    let metrics: Vec<String> = OTEL_METRIC_KEY_PREFIXES.map(like_prefix).to_vec();
    let (preferred, other) = match prefer {
        OtelPrefer::Events => (logs, metrics),
        OtelPrefer::Metrics => (metrics, logs),
    };
    let otel = params.push(SourceKind::Otel.as_str());
    let preferred = params.push(preferred);
    let other = params.push(other);
    format!(
        " AND NOT (ev.source = {otel} AND ev.dedupe_key LIKE ANY({other}) AND EXISTS (
            SELECT 1 FROM events o WHERE o.source = {otel} AND o.session = ev.session
                AND o.dedupe_key LIKE ANY({preferred})))"
    )
}

#[cfg(test)]
mod tests {
    use super::like_prefix;

    #[test]
    fn wildcards_in_a_prefix_match_only_themselves() {
        assert_eq!(like_prefix("otel-cum:a_b%c\\"), "otel-cum:a\\_b\\%c\\\\%");
    }
}
