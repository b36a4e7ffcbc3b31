//! Turning token counts into USD.

use crate::event::TokenCounts;

use super::{LongContextPrice, ModelPrice};

/// How long-context rates apply. Anthropic and ccusage disagree, and neither
/// rule can be applied to sums of many requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TierRule {
    /// Anthropic's rule: when the request's whole prompt (input + cache read +
    /// cache writes) exceeds the threshold, every token of the request is
    /// priced at the long-context rates.
    #[default]
    WholeRequest,
    /// ccusage's rule: each category separately, only the tokens beyond the
    /// threshold at the higher rate.
    PerCategory,
    /// Never apply tiers: session totals from a register are sums of many
    /// requests, so whether any one request crossed the threshold is unknown.
    None,
}

/// The cost in USD of one request (or of a total, with [`TierRule::None`]).
/// 1h cache writes are priced at `cache_write_1h`; reasoning tokens are not
/// added because they are already inside `output`. `fast` multiplies the
/// whole cost by the model's fast-mode multiplier (1.0 when it has none).
pub fn cost_usd(price: &ModelPrice, tokens: &TokenCounts, rule: TierRule, fast: bool) -> f64 {
    let counts = [
        tokens.input,
        tokens.output,
        tokens.cache_read,
        tokens.cache_write_5m,
        tokens.cache_write_1h,
    ];
    let base = rates(
        price.input,
        price.output,
        price.cache_read,
        price.cache_write_5m,
        price.cache_write_1h,
    );
    let micro_usd: f64 = match (rule, &price.long_context) {
        (TierRule::WholeRequest, Some(lc)) if tokens.prompt() > lc.threshold => {
            dot(&counts, &long_rates(lc))
        }
        (TierRule::PerCategory, Some(lc)) => {
            let t = lc.threshold;
            counts
                .iter()
                .zip(base.iter().zip(long_rates(lc)))
                .map(|(&n, (&low, high))| {
                    let below = n.min(t);
                    below as f64 * low + (n - below) as f64 * high
                })
                .sum()
        }
        _ => dot(&counts, &base),
    };
    let multiplier = if fast {
        price.fast_multiplier.unwrap_or(1.0)
    } else {
        1.0
    };
    micro_usd / 1e6 * multiplier
}

fn rates(input: f64, output: f64, read: f64, write_5m: f64, write_1h: f64) -> [f64; 5] {
    [input, output, read, write_5m, write_1h]
}

fn long_rates(lc: &LongContextPrice) -> [f64; 5] {
    rates(
        lc.input,
        lc.output,
        lc.cache_read,
        lc.cache_write_5m,
        lc.cache_write_1h,
    )
}

fn dot(counts: &[u64; 5], rates: &[f64; 5]) -> f64 {
    counts.iter().zip(rates).map(|(&n, r)| n as f64 * r).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sonnet_4_5() -> ModelPrice {
        ModelPrice {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write_5m: 3.75,
            cache_write_1h: 6.0,
            long_context: Some(LongContextPrice {
                threshold: 200_000,
                input: 6.0,
                output: 22.5,
                cache_read: 0.6,
                cache_write_5m: 7.5,
                cache_write_1h: 12.0,
            }),
            fast_multiplier: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn reasoning_is_not_added() {
        let t = TokenCounts {
            input: 1000,
            output: 500,
            reasoning: 400,
            ..Default::default()
        };
        let c = cost_usd(&sonnet_4_5(), &t, TierRule::WholeRequest, false);
        assert!(close(c, 0.0105), "{c}");
    }

    #[test]
    fn fast_multiplies_everything() {
        let mut p = sonnet_4_5();
        let t = TokenCounts {
            input: 1000,
            output: 500,
            cache_read: 1000,
            ..Default::default()
        };
        let normal = cost_usd(&p, &t, TierRule::WholeRequest, false);
        assert!(
            close(cost_usd(&p, &t, TierRule::WholeRequest, true), normal),
            "no multiplier → 1.0"
        );
        p.fast_multiplier = Some(6.0);
        assert!(close(
            cost_usd(&p, &t, TierRule::WholeRequest, true),
            normal * 6.0
        ));
    }

    #[test]
    fn whole_request_tier_is_decided_by_the_whole_prompt() {
        // 150k input + 100k cache read = 250k prompt: Anthropic reprices all of
        // it, while no single category crosses 200k for ccusage.
        let t = TokenCounts {
            input: 150_000,
            cache_read: 100_000,
            output: 2_000,
            ..Default::default()
        };
        let whole = cost_usd(&sonnet_4_5(), &t, TierRule::WholeRequest, false);
        // 150000*6 + 100000*0.6 + 2000*22.5 = 900000 + 60000 + 45000
        assert!(close(whole, 1.005), "{whole}");
        let per = cost_usd(&sonnet_4_5(), &t, TierRule::PerCategory, false);
        // 150000*3 + 100000*0.3 + 2000*15 = 450000 + 30000 + 30000
        assert!(close(per, 0.51), "{per}");
    }

    #[test]
    fn threshold_is_exclusive() {
        let t = TokenCounts {
            input: 200_000,
            ..Default::default()
        };
        assert!(close(
            cost_usd(&sonnet_4_5(), &t, TierRule::WholeRequest, false),
            0.6
        ));
    }
}
