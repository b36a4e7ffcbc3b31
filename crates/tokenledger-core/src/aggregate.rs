//! Folding a stream of usage events into grouped rows in one pass and bounded
//! memory: group keys are interned ids and time-bucket numbers, sessions are
//! counted by hash.

use crate::event::{SourceKind, TokenCounts, UsageEvent};
use crate::pricing::{ModelPrice, PriceTable, TierRule, canonical_model_name, cost_usd};
use crate::query::{Filters, GroupKey};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;
use std::sync::Arc;

mod summed;
pub use summed::Part;

/// The measures of one row (or of the totals).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    pub tokens: TokenCounts,
    /// `None` when something in the row is unpriced.
    pub cost_usd: Option<f64>,
    pub unpriced_models: Vec<String>,
    /// The cost of the priced part alone, for displays that show "$x + unpriced".
    pub priced_cost_usd: f64,
    pub sessions: u64,
    pub events: u64,
    /// The latest event time in the row (a register entry's time is its session's end).
    pub last_timestamp: Option<Timestamp>,
}

/// One output row: its group key values (display strings) and measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub keys: Vec<(GroupKey, String)>,
    pub measures: Measures,
}

#[derive(Default)]
struct Acc {
    tokens: TokenCounts,
    cost: f64,
    unpriced: BTreeSet<u32>,
    sessions: FxHashSet<u64>,
    /// Sessions seen as one session-level event each: distinct by construction,
    /// so they skip the set (a million hash inserts was most of a report's time).
    whole_sessions: u64,
    events: u64,
    last: Option<Timestamp>,
}

impl Acc {
    fn add(
        &mut self,
        tokens: &TokenCounts,
        cost: Option<f64>,
        model: u32,
        // `None` for a session-level event, which is its session's only event.
        session: Option<u64>,
        at: Timestamp,
    ) {
        self.tokens.add(tokens);
        match cost {
            Some(c) => self.cost += c,
            None => {
                self.unpriced.insert(model);
            }
        }
        match session {
            Some(hash) => {
                self.sessions.insert(hash);
            }
            None => self.whole_sessions += 1,
        }
        self.events += 1;
        self.last = self.last.max(Some(at));
    }
}

struct Grouping {
    keys: Vec<GroupKey>,
    groups: FxHashMap<Box<[i64]>, Acc>,
}

/// The group key of `event` in a grouping by `keys`, written to `buf`:
/// interned ids and time-bucket numbers.
fn group_key(
    keys: &[GroupKey],
    event: &UsageEvent,
    canonical: u32,
    local: i64,
    strings: &mut Interner,
    buf: &mut Vec<i64>,
) {
    buf.clear();
    buf.extend(keys.iter().map(|key| match key {
        GroupKey::Hour => local.div_euclid(3600),
        GroupKey::Day => local.div_euclid(86_400),
        GroupKey::Week => {
            let day = local.div_euclid(86_400);
            day - (day + 3).rem_euclid(7) // 1970-01-01 was a Thursday
        }
        GroupKey::Month => month_number(local),
        GroupKey::Model => i64::from(canonical),
        GroupKey::Agent => i64::from(strings.id(&event.agent_id)),
        GroupKey::Session => i64::from(strings.id(&event.session)),
        GroupKey::Task => i64::from(strings.id(event.task.as_deref().unwrap_or(""))),
        GroupKey::Project => i64::from(strings.id(event.project.as_deref().unwrap_or(""))),
        GroupKey::Source => event.source as i64,
        GroupKey::AgentKind => {
            i64::from(strings.id(event.source.agent_kind_of(event.origin.as_deref())))
        }
    }));
}

#[derive(Default)]
struct Interner {
    ids: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }
}

/// Per distinct raw model string: its canonical id and its price resolution.
struct ModelInfo {
    canonical: u32,
    price: Option<ModelPrice>,
}

pub struct Aggregator<'a> {
    prices: &'a PriceTable,
    filters: Filters,
    tz: TimeZone,
    utc: bool,
    groupings: Vec<Grouping>,
    totals: Acc,
    strings: Interner,
    /// Indexes into `model_infos` by raw model string.
    models: FxHashMap<String, u32>,
    model_infos: Vec<ModelInfo>,
    /// Recent model names by the identity of their shared string (sources
    /// hand out a few `Arc`s per model), so most events hash no name; the
    /// clone held keeps the address from being reused for another string.
    recent_models: [Option<(Arc<str>, u32)>; RECENT_MODELS],
    next_recent: usize,
    /// UTC offset per 15-minute slot: every zone changes offset on such a boundary.
    offsets: FxHashMap<i64, i64>,
    key_buf: Vec<i64>,
}

const RECENT_MODELS: usize = 16;

impl<'a> Aggregator<'a> {
    pub fn new(
        prices: &'a PriceTable,
        filters: Filters,
        tz: TimeZone,
        groupings: Vec<Vec<GroupKey>>,
    ) -> Self {
        Aggregator {
            prices,
            filters: filters.canonicalized(),
            utc: tz == TimeZone::UTC,
            tz,
            groupings: groupings
                .into_iter()
                .map(|keys| Grouping {
                    keys,
                    groups: FxHashMap::default(),
                })
                .collect(),
            totals: Acc::default(),
            strings: Interner::default(),
            models: FxHashMap::default(),
            model_infos: Vec::new(),
            recent_models: Default::default(),
            next_recent: 0,
            offsets: FxHashMap::default(),
            key_buf: Vec::new(),
        }
    }

    pub fn add(&mut self, event: &UsageEvent) {
        let info = self.model_info(&event.model);
        let ModelInfo { canonical, price } = &self.model_infos[info as usize];
        let canonical = *canonical;
        if !self.filters.is_empty()
            && !self
                .filters
                .accepts(event, &self.strings.names[canonical as usize])
        {
            return;
        }
        let cost = match event.reported_cost {
            Some(c) => Some(c),
            None => price
                .as_ref()
                .map(|price| cost_usd(price, &event.tokens, tier_rule(event.source), event.fast)),
        };
        // A session-level event with a dedupe key is one part of its session
        // (a register entry split by task): counted by hash, once.
        let session = (!event.source.is_session_level() || event.dedupe_key.is_some())
            .then(|| xxhash_rust::xxh3::xxh3_64(event.session.as_bytes()));
        self.totals
            .add(&event.tokens, cost, canonical, session, event.timestamp);
        let local = self.local_seconds(event.timestamp);
        let Aggregator {
            groupings,
            strings,
            key_buf,
            ..
        } = self;
        for grouping in groupings {
            group_key(&grouping.keys, event, canonical, local, strings, key_buf);
            let groups = &mut grouping.groups;
            let acc = match groups.get_mut(&key_buf[..]) {
                Some(acc) => acc,
                None => groups
                    .entry(key_buf.clone().into_boxed_slice())
                    .or_default(),
            };
            acc.add(&event.tokens, cost, canonical, session, event.timestamp);
        }
    }

    /// The index of `model`'s info in `model_infos`.
    fn model_info(&mut self, model: &Arc<str>) -> u32 {
        let mut recent = self.recent_models.iter().flatten();
        if let Some(&(_, index)) = recent.find(|(m, _)| Arc::ptr_eq(m, model)) {
            return index;
        }
        let index = match self.models.get(&**model) {
            Some(&index) => index,
            None => {
                let index = self.model_infos.len() as u32;
                self.model_infos.push(ModelInfo {
                    canonical: self.strings.id(&canonical_model_name(model)),
                    price: self.prices.lookup(model).map(|m| *m.price),
                });
                self.models.insert(model.to_string(), index);
                index
            }
        };
        self.recent_models[self.next_recent] = Some((Arc::clone(model), index));
        self.next_recent = (self.next_recent + 1) % RECENT_MODELS;
        index
    }

    fn local_seconds(&mut self, ts: Timestamp) -> i64 {
        let utc = ts.as_second();
        if self.utc {
            return utc;
        }
        let slot = utc.div_euclid(900);
        let tz = &self.tz;
        let offset = *self
            .offsets
            .entry(slot)
            .or_insert_with(|| i64::from(tz.to_offset(ts).seconds()));
        utc + offset
    }

    fn measures(&self, acc: &Acc) -> Measures {
        Measures {
            tokens: acc.tokens,
            cost_usd: acc.unpriced.is_empty().then_some(acc.cost),
            priced_cost_usd: acc.cost,
            unpriced_models: acc
                .unpriced
                .iter()
                .map(|&id| self.strings.names[id as usize].clone())
                .collect(),
            sessions: acc.sessions.len() as u64 + acc.whole_sessions,
            events: acc.events,
            last_timestamp: acc.last,
        }
    }

    /// The totals and, per grouping, its rows in display order.
    pub fn finish(self) -> (Measures, Vec<Vec<Row>>) {
        let totals = self.measures(&self.totals);
        let mut all = Vec::new();
        for grouping in &self.groupings {
            let mut rows: Vec<(Vec<i64>, Row)> = grouping
                .groups
                .iter()
                .map(|(key, acc)| {
                    let keys = grouping
                        .keys
                        .iter()
                        .zip(key.iter())
                        .map(|(&k, &v)| (k, self.display(k, v)))
                        .collect();
                    (
                        key.to_vec(),
                        Row {
                            keys,
                            measures: self.measures(acc),
                        },
                    )
                })
                .collect();
            let has_time = grouping.keys.iter().any(|k| k.is_time());
            rows.sort_by(|(ka, a), (kb, b)| {
                if has_time {
                    let time_order = grouping
                        .keys
                        .iter()
                        .zip(ka.iter().zip(kb.iter()))
                        .filter(|(k, _)| k.is_time())
                        .map(|(_, (x, y))| x.cmp(y))
                        .find(|o| o.is_ne());
                    if let Some(order) = time_order {
                        return order;
                    }
                }
                b.measures
                    .tokens
                    .total()
                    .cmp(&a.measures.tokens.total())
                    .then_with(|| a.keys.cmp(&b.keys))
            });
            all.push(rows.into_iter().map(|(_, row)| row).collect());
        }
        (totals, all)
    }

    fn display(&self, key: GroupKey, value: i64) -> String {
        match key {
            GroupKey::Hour => civil(value * 3600).strftime("%Y-%m-%dT%H:00").to_string(),
            GroupKey::Day | GroupKey::Week => {
                civil(value * 86_400).strftime("%Y-%m-%d").to_string()
            }
            GroupKey::Month => format!(
                "{:04}-{:02}",
                value.div_euclid(12),
                value.rem_euclid(12) + 1
            ),
            GroupKey::Source => SourceKind::ALL
                .get(value as usize)
                .map_or("unknown", |s| s.as_str())
                .to_string(),
            _ => self.strings.names[value as usize].clone(),
        }
    }
}

/// Session-level sources (the register) hold sums of many requests, so no
/// long-context tier can be inferred from them; per-request sources can.
pub fn tier_rule(source: SourceKind) -> TierRule {
    match source {
        SourceKind::Register | SourceKind::Active => TierRule::None,
        _ => TierRule::WholeRequest,
    }
}

/// Local seconds read as if UTC give the local civil time.
fn civil(local_seconds: i64) -> jiff::civil::DateTime {
    Timestamp::from_second(local_seconds)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(TimeZone::UTC)
        .datetime()
}

fn month_number(local_seconds: i64) -> i64 {
    let date = civil(local_seconds).date();
    i64::from(date.year()) * 12 + i64::from(date.month()) - 1
}
