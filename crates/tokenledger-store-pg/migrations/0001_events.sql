-- Normalized usage events, one row per event, partitioned by UTC month of
-- the event's time: reports over a window touch only its months, and old
-- months can be detached or dropped whole.
--
-- A unique constraint on a partitioned table must include the partition key,
-- and an event's identity alone (its dedupe key, or source:session for a
-- session-level record) is what makes an insert idempotent. So identities
-- live in their own unpartitioned table with a primary key: an insert claims
-- each identity there first (ON CONFLICT DO NOTHING) and writes to `events`
-- only the rows whose claim succeeded, in the same transaction. Two servers
-- claiming the same identity serialize on that key: the second waits for the
-- first to commit and then sees a conflict, so each event is stored once.
CREATE TABLE event_identities (
    identity text PRIMARY KEY
);

CREATE TABLE events (
    identity text NOT NULL,
    -- The partition key and time buckets: the time truncated to microseconds.
    ts timestamptz NOT NULL,
    -- The exact time (nanoseconds since 1970), for windows and latest times.
    ts_ns bigint NOT NULL,
    source text NOT NULL,
    agent_id text NOT NULL,
    session text NOT NULL,
    model text NOT NULL,
    input bigint NOT NULL,
    output bigint NOT NULL,
    cache_read bigint NOT NULL,
    cache_write_5m bigint NOT NULL,
    cache_write_1h bigint NOT NULL,
    reasoning bigint NOT NULL,
    fast boolean NOT NULL,
    reported_cost double precision,
    task text,
    project text,
    origin text,
    dedupe_key text
) PARTITION BY RANGE (ts);

-- Month partitions are created on demand by the inserting server; this one
-- only catches rows written by hand for a month without its partition.
CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_ts ON events (ts);
