//! Refused requests' audit lines, queued for the writer's next batch (no commit, so no fsync, of
//! their own), within a budget per source address: a token bucket per address (a burst, then a
//! steady rate), a bounded number of addresses tracked, and a bounded queue. What a source had
//! dropped is reported in a line before its next admitted one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::AuditLine;
use crate::clock;

/// Queued refusals wait at most about this long for a batch; then one is started for them.
pub const FLUSH_AFTER: Duration = Duration::from_millis(250);
/// Lines queued at most, whatever their sources (the writer takes them every [`FLUSH_AFTER`]).
const MAX_QUEUED: usize = 20_000;

/// What became of a refusal handed to [`RefusalQueue::admit`].
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Queued,
    /// Its source used up its budget (or the queue is full): counted, and reported later.
    Dropped,
}

/// The refusals waiting for the writer.
#[derive(Default)]
pub struct RefusalQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    budget: Budget,
    lines: Vec<AuditLine>,
    /// When the oldest queued line was queued.
    oldest: Option<Instant>,
    /// Lines a batch took and has neither stored nor given back yet.
    in_flight: usize,
}

impl RefusalQueue {
    /// Queues `line`, refused for `source`, if its source's budget and the queue allow.
    pub fn admit(&self, line: AuditLine, source: IpAddr) -> Recorded {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if state.lines.len() >= MAX_QUEUED {
            state.budget.count_drop(source, now);
            return Recorded::Dropped;
        }
        let dropped_before = match state.budget.admit(source, now) {
            Admission::Dropped => return Recorded::Dropped,
            Admission::Admitted { dropped_before } => dropped_before,
        };
        if dropped_before > 0 {
            state.lines.push(dropped_line(source, dropped_before));
        }
        state.lines.push(line);
        state.oldest.get_or_insert(now);
        Recorded::Queued
    }

    /// Takes every queued line, for the writer's open transaction.
    /// The batch tells [`Self::stored`] or [`Self::give_back`] how it ended.
    pub fn take(&self) -> Vec<AuditLine> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.oldest = None;
        let lines = std::mem::take(&mut state.lines);
        state.in_flight += lines.len();
        lines
    }

    /// The batch that took `lines` committed them.
    pub fn stored(&self, lines: &[AuditLine]) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.in_flight = state.in_flight.saturating_sub(lines.len());
    }

    /// The batch that took `lines` failed: they go back to the front of the queue.
    pub fn give_back(&self, mut lines: Vec<AuditLine>) {
        if lines.is_empty() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.in_flight = state.in_flight.saturating_sub(lines.len());
        lines.truncate(MAX_QUEUED);
        let room = MAX_QUEUED - lines.len();
        lines.extend(state.lines.drain(..).take(room));
        state.lines = lines;
        state.oldest.get_or_insert_with(Instant::now);
    }

    /// Whether lines have waited [`FLUSH_AFTER`] for a batch to take them.
    pub fn overdue(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .oldest
            .is_some_and(|oldest| oldest.elapsed() >= FLUSH_AFTER)
    }

    /// Lines not stored yet: queued, or taken by a batch that has not committed.
    pub fn pending(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.lines.len() + state.in_flight
    }

    /// Refusals dropped so far, by all sources, not yet reported.
    pub fn dropped(&self) -> u64 {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.budget.unreported()
    }
}

fn dropped_line(source: IpAddr, dropped: u64) -> AuditLine {
    #[derive(Serialize)]
    struct Dropped {
        time: String,
        action: &'static str,
        source: String,
        outcome: &'static str,
        dropped: u64,
    }
    serde_json::to_string(&Dropped {
        time: clock::now().format(&Rfc3339).unwrap_or_default(),
        action: "AuditRefusalsDropped",
        source: source.to_string(),
        outcome: "failure",
        dropped,
    })
    .expect("an audit record serializes")
}

/// Refusals one address may log at once, then per second.
pub const BURST: u64 = 200;
const PER_SECOND: f64 = 20.0;
/// Addresses tracked at most; past that, untracked addresses share one bucket.
const MAX_SOURCES: usize = 16_384;

#[derive(Default)]
struct Budget {
    sources: HashMap<IpAddr, Bucket>,
    /// For addresses that find the table full.
    overflow: Option<Bucket>,
    /// Dropped and not yet reported, over all sources.
    unreported: u64,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
    dropped: u64,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            tokens: BURST as f64,
            refilled: now,
            dropped: 0,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST as f64);
        self.refilled = now;
    }
}

enum Admission {
    /// Write the line, after a report of `dropped_before` earlier drops if that is not 0.
    Admitted {
        dropped_before: u64,
    },
    Dropped,
}

impl Budget {
    fn admit(&mut self, source: IpAddr, now: Instant) -> Admission {
        let bucket = self.bucket(source, now);
        bucket.refill(now);
        if bucket.tokens < 1.0 {
            bucket.dropped += 1;
            self.unreported += 1;
            return Admission::Dropped;
        }
        bucket.tokens -= 1.0;
        let dropped_before = std::mem::take(&mut bucket.dropped);
        self.unreported -= dropped_before;
        Admission::Admitted { dropped_before }
    }

    /// A line of `source` that its budget admitted has no room in the queue: count it.
    fn count_drop(&mut self, source: IpAddr, now: Instant) {
        self.bucket(source, now).dropped += 1;
        self.unreported += 1;
    }

    fn unreported(&self) -> u64 {
        self.unreported
    }

    fn bucket(&mut self, source: IpAddr, now: Instant) -> &mut Bucket {
        if !self.sources.contains_key(&source) && self.sources.len() >= MAX_SOURCES {
            // Forget addresses whose bucket is full again and that owe no report.
            self.sources.retain(|_, bucket| {
                bucket.refill(now);
                bucket.tokens < BURST as f64 || bucket.dropped > 0
            });
            if self.sources.len() >= MAX_SOURCES {
                return self.overflow.get_or_insert_with(|| Bucket::new(now));
            }
        }
        self.sources
            .entry(source)
            .or_insert_with(|| Bucket::new(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_pending_until_their_batch_stores_them() {
        let queue = RefusalQueue::default();
        let source = "192.0.2.1".parse().unwrap();
        queue.admit("{}".into(), source);
        queue.admit("{}".into(), source);
        assert_eq!(queue.pending(), 2);
        let taken = queue.take();
        assert_eq!(queue.pending(), 2, "taken, not stored");
        queue.give_back(taken);
        assert_eq!(queue.pending(), 2, "given back, queued again");
        let taken = queue.take();
        queue.admit("{}".into(), source);
        queue.stored(&taken);
        assert_eq!(queue.pending(), 1);
    }

    #[test]
    fn refusals_past_a_sources_budget_are_counted_then_reported() {
        let queue = RefusalQueue::default();
        let noisy: IpAddr = "10.0.0.1".parse().unwrap();
        let quiet: IpAddr = "10.0.0.2".parse().unwrap();
        let outcomes: Vec<Recorded> = (0..BURST + 5)
            .map(|n| queue.admit(format!("{{\"n\":{n}}}"), noisy))
            .collect();
        assert!(
            outcomes[..BURST as usize]
                .iter()
                .all(|o| *o == Recorded::Queued)
        );
        assert!(
            outcomes[BURST as usize..]
                .iter()
                .all(|o| *o == Recorded::Dropped)
        );
        assert_eq!(queue.dropped(), 5);
        // Another source is not held back by the noisy one.
        assert_eq!(queue.admit("{}".into(), quiet), Recorded::Queued);
        assert_eq!(queue.take().len() as u64, BURST + 1);
        assert!(queue.take().is_empty());
        // Once the noisy source may log again, its drops are reported first.
        let later = Instant::now() + Duration::from_secs(1);
        let mut state = queue.state.lock().unwrap();
        let Admission::Admitted { dropped_before } = state.budget.admit(noisy, later) else {
            panic!("refilled");
        };
        assert_eq!(dropped_before, 5);
        assert_eq!(state.budget.unreported(), 0);
    }

    #[test]
    fn the_queue_is_bounded_whatever_the_sources() {
        let queue = RefusalQueue::default();
        let mut queued = 0;
        for n in 0..150u32 {
            let source = IpAddr::from(n.to_be_bytes());
            for _ in 0..BURST {
                if queue.admit("{}".into(), source) == Recorded::Queued {
                    queued += 1;
                }
            }
        }
        assert_eq!(queued, MAX_QUEUED);
        assert_eq!(queue.dropped(), 150 * BURST - MAX_QUEUED as u64);
        let lines = queue.take();
        queue.give_back(lines);
        assert_eq!(queue.take().len(), MAX_QUEUED);
    }
}
