//! Forks and spawned subagents: their rollout opens with a replay of the
//! parent's history, `token_count` snapshots included, before the child's
//! first own turn. Those requests were billed once, to the parent, and its
//! own rollout counts them; counting the copy again would double them (and
//! date them to the fork, since the copies are often re-stamped).
//!
//! The replay ends at the first sign of the child's own work:
//!
//! - a `turn_context` or `task_started` whose turn id is a UUIDv7 minted at
//!   or after the child thread's own id (also a UUIDv7): the replayed
//!   parent turns all began earlier;
//! - without such ids, a `token_count` stamped more than [`BURST`] after the
//!   child's `session_meta`: the replay is written in one burst when the
//!   child is created, with the parent's old times or the creation time,
//!   while an own request needs a model round trip first.
//!
//! Replayed snapshots still advance the running total, so the child's own
//! turns are measured from the inherited total, never from zero.

use jiff::{SignedDuration, Timestamp};

/// How long after its creation a child's rollout may still be replaying.
pub(crate) const BURST: SignedDuration = SignedDuration::from_secs(2);

#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// Inside a child's replayed prefix.
    active: bool,
    /// The child's creation, in the milliseconds of its UUIDv7 id.
    child_ms: Option<u64>,
    /// The child's `session_meta` time (else the first time seen after it).
    anchor: Option<Timestamp>,
}

impl Replay {
    /// At the rollout's first `session_meta`: a child starts replaying.
    pub fn start(&mut self, child: bool, id: Option<&str>, at: Option<Timestamp>) {
        *self = Replay {
            active: child,
            child_ms: id.and_then(uuid7_millis),
            anchor: at,
        };
    }

    /// At a `turn_context` or `task_started`.
    pub fn turn(&mut self, turn_id: Option<&str>) {
        if let (true, Some(child), Some(turn)) =
            (self.active, self.child_ms, turn_id.and_then(uuid7_millis))
            && turn >= child
        {
            self.active = false;
        }
    }

    /// Whether a `token_count` stamped `at` is part of the replay.
    pub fn replays(&mut self, at: Option<Timestamp>) -> bool {
        if !self.active {
            return false;
        }
        let Some(at) = at else {
            return true;
        };
        let anchor = *self.anchor.get_or_insert(at);
        if anchor.checked_add(BURST).is_ok_and(|end| at > end) {
            self.active = false;
        }
        self.active
    }
}

/// The creation time of a UUIDv7 (its first 48 bits), `None` for any other id.
pub(crate) fn uuid7_millis(id: &str) -> Option<u64> {
    let bytes = id.as_bytes();
    let hex = |range: std::ops::Range<usize>| -> Option<&str> {
        let part = id.get(range)?;
        part.bytes().all(|b| b.is_ascii_hexdigit()).then_some(part)
    };
    if bytes.len() != 36 || bytes[8] != b'-' || bytes[13] != b'-' || bytes[14] != b'7' {
        return None;
    }
    let high = u64::from_str_radix(hex(0..8)?, 16).ok()?;
    let low = u64::from_str_radix(hex(9..13)?, 16).ok()?;
    Some(high << 16 | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Option<Timestamp> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn uuid7_times() {
        assert_eq!(
            uuid7_millis("0196c7a0-0000-7000-8000-000000000001"),
            Some(0x0196_c7a0_0000)
        );
        assert_eq!(uuid7_millis("0196c7a0-0000-4000-8000-000000000001"), None);
        assert_eq!(uuid7_millis("child"), None);
        assert_eq!(uuid7_millis("0196c7a0-00g0-7000-8000-000000000001"), None);
    }

    #[test]
    fn an_own_turn_id_ends_the_replay() {
        let mut r = Replay::default();
        r.start(
            true,
            Some("0196c7a0-1000-7000-8000-000000000001"),
            ts("2026-06-01T10:00:00Z"),
        );
        r.turn(Some("0196c7a0-0fff-7000-8000-00000000aaaa"));
        assert!(r.replays(ts("2026-05-01T00:00:00Z")));
        r.turn(Some("0196c7a0-1000-7000-8000-00000000bbbb"));
        assert!(!r.replays(ts("2026-06-01T10:00:00.500Z")));
    }

    #[test]
    fn without_turn_ids_the_burst_ends_it() {
        let mut r = Replay::default();
        r.start(true, Some("child"), ts("2026-06-01T10:00:00Z"));
        r.turn(None);
        assert!(r.replays(ts("2026-05-01T00:00:00Z")));
        assert!(r.replays(ts("2026-06-01T10:00:02Z")));
        assert!(!r.replays(ts("2026-06-01T10:00:02.001Z")));
        assert!(!r.replays(ts("2026-06-01T10:00:00Z")), "once over, over");
    }

    #[test]
    fn a_root_thread_replays_nothing() {
        let mut r = Replay::default();
        r.start(false, Some("0196c7a0-1000-7000-8000-000000000001"), None);
        assert!(!r.replays(ts("2020-01-01T00:00:00Z")));
    }

    #[test]
    fn without_a_creation_time_the_first_snapshot_anchors_the_burst() {
        let mut r = Replay::default();
        r.start(true, None, None);
        assert!(r.replays(ts("2026-08-12T15:57:06Z")));
        assert!(r.replays(ts("2026-08-12T15:57:06Z")));
        assert!(!r.replays(ts("2026-08-12T15:58:00Z")));
    }
}
