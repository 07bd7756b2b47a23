//! How many refusals each source address may add to the audit log: a token bucket per address
//! (a burst, then a steady rate), with a bounded number of addresses tracked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Refusals one address may log at once, then per second.
pub const BURST: u64 = 200;
const PER_SECOND: f64 = 20.0;
/// Addresses tracked at most; past that, untracked addresses share one bucket.
const MAX_SOURCES: usize = 16_384;

#[derive(Default)]
pub struct Budget {
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

pub enum Admission {
    /// Write the line, after a report of `dropped_before` earlier drops if that is not 0.
    Admitted {
        dropped_before: u64,
    },
    Dropped,
}

impl Budget {
    pub fn admit(&mut self, source: IpAddr, now: Instant) -> Admission {
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

    /// The line admitted for `source` could not be written: keep its drop count for later.
    pub fn give_back(&mut self, source: IpAddr, dropped_before: u64) {
        let bucket = match self.sources.get_mut(&source) {
            Some(bucket) => Some(bucket),
            None => self.overflow.as_mut(),
        };
        if let Some(bucket) = bucket {
            bucket.dropped += dropped_before;
            self.unreported += dropped_before;
        }
    }

    pub fn unreported(&self) -> u64 {
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
