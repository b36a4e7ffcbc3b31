//! Feeding the aggregator rows a database already summed (the PostgreSQL
//! store's GROUP BY), so its rows come out keyed, formatted and ordered
//! exactly as for events scanned one by one.

use super::{Acc, Aggregator, group_key};
use crate::event::{TokenCounts, UsageEvent};
use jiff::Timestamp;

/// Which part of the result a pre-summed row belongs to: a database groups
/// each grouping (and the totals) separately, so a row feeds only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Totals,
    /// The grouping at this index of the aggregator's groupings.
    Grouping(usize),
}

impl Aggregator<'_> {
    /// Adds `events` events summed into one row. `sample` carries the group's
    /// key fields (its model, agent, session, … and a timestamp inside the
    /// group's time bucket: the group's latest), and `sample.tokens` their
    /// sums. `cost` is already priced (`None`: the model is unpriced) and
    /// `sessions` already counted distinct for this group, so the caller
    /// sends the priced rows with `sessions: 0` and one row per group with
    /// the group's distinct sessions and no events. Filters are the caller's
    /// to apply: nothing is dropped here.
    pub fn add_summed(
        &mut self,
        part: Part,
        sample: &UsageEvent,
        cost: Option<f64>,
        events: u64,
        sessions: u64,
    ) {
        let info = self.model_info(&sample.model);
        let canonical = self.model_infos[info as usize].canonical;
        let summed = Summed {
            tokens: &sample.tokens,
            cost,
            model: canonical,
            events,
            sessions,
            at: sample.timestamp,
        };
        let grouping = match part {
            Part::Totals => return self.totals.add_summed(summed),
            Part::Grouping(index) => index,
        };
        let local = self.local_seconds(sample.timestamp);
        let Aggregator {
            groupings,
            strings,
            key_buf,
            ..
        } = self;
        let Some(grouping) = groupings.get_mut(grouping) else {
            return;
        };
        group_key(&grouping.keys, sample, canonical, local, strings, key_buf);
        let key: Box<[i64]> = key_buf.as_slice().into();
        grouping.groups.entry(key).or_default().add_summed(summed);
    }
}

struct Summed<'t> {
    tokens: &'t TokenCounts,
    cost: Option<f64>,
    model: u32,
    events: u64,
    sessions: u64,
    at: Timestamp,
}

impl Acc {
    fn add_summed(&mut self, row: Summed<'_>) {
        self.tokens.add(row.tokens);
        match row.cost {
            Some(c) => self.cost += c,
            None => {
                self.unpriced.insert(row.model);
            }
        }
        // Counted distinct by the caller: added like whole sessions are.
        self.whole_sessions += row.sessions;
        self.events += row.events;
        self.last = self.last.max(Some(row.at));
    }
}
