//! `SignatureNonce` replay protection in memory: a nonce is accepted once per AccessKey for as
//! long as a request carrying it could still pass the timestamp check. Bounded: entries are
//! 64-bit keyed hashes of "AccessKeyId, nonce" (a collision, at odds of about one in 2^40 at
//! the cap, refuses one fresh request as a replay), and at most [`MAX_ENTRIES`] are kept.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

const SHARDS: usize = 16;
/// How often a shard drops nonces whose requests can no longer pass the timestamp check.
const SWEEP_EVERY_SECONDS: i64 = 60;
/// At most about 150 MB (16 bytes an entry, in tables that double as they grow). A full cache
/// means about 4,400 signed requests a second for the whole 15-minute window: the server's own
/// capacity on small machines.
pub const MAX_ENTRIES: usize = 4_000_000;

/// What remembering a nonce found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remembered {
    /// Not seen within its window: now remembered.
    Fresh,
    /// Used already within its window.
    Replayed,
    /// Not seen, but the cache is full: it cannot be remembered here.
    Full,
}

pub struct NonceCache {
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    full: AtomicU64,
}

#[derive(Default)]
struct Shard {
    /// Keyed hash of the AccessKeyId and nonce -> unix time after which it may be forgotten.
    seen: HashMap<u64, i64>,
    last_sweep: i64,
}

impl Default for NonceCache {
    fn default() -> Self {
        NonceCache::with_capacity(MAX_ENTRIES)
    }
}

impl NonceCache {
    pub fn with_capacity(entries: usize) -> NonceCache {
        NonceCache {
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: entries.div_ceil(SHARDS).max(1),
            full: AtomicU64::new(0),
        }
    }

    /// Records the nonce unless it was used already and is still remembered, or there is no
    /// room for it.
    pub fn remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        forget_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Remembered {
        let key = self.hasher.hash_one((access_key_id, nonce));
        let shard = &self.shards[(key >> 60) as usize % SHARDS];
        let mut shard = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = now.unix_timestamp();
        // When full, expired entries go at once to make room (at most once a second).
        let full = shard.seen.len() >= self.per_shard;
        if now - shard.last_sweep >= SWEEP_EVERY_SECONDS || (full && now > shard.last_sweep) {
            shard.seen.retain(|_, expiry| *expiry > now);
            shard.last_sweep = now;
        }
        match shard.seen.get(&key) {
            Some(expiry) if *expiry > now => Remembered::Replayed,
            _ if shard.seen.len() >= self.per_shard => {
                self.full.fetch_add(1, Ordering::Relaxed);
                Remembered::Full
            }
            _ => {
                shard.seen.insert(key, forget_after.unix_timestamp());
                Remembered::Fresh
            }
        }
    }

    /// Nonces remembered now.
    pub fn len(&self) -> usize {
        let shards = self.shards.iter();
        shards
            .map(|shard| shard.lock().unwrap_or_else(|p| p.into_inner()).seen.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Nonces that found the cache full, since start.
    pub fn full_count(&self) -> u64 {
        self.full.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_nonce_is_accepted_once_per_access_key() {
        let cache = NonceCache::default();
        let now = datetime!(2024-01-01 12:00 UTC);
        let later = datetime!(2024-01-01 12:15 UTC);
        assert_eq!(cache.remember("ak1", "n", later, now), Remembered::Fresh);
        assert_eq!(cache.remember("ak1", "n", later, now), Remembered::Replayed);
        assert_eq!(cache.remember("ak2", "n", later, now), Remembered::Fresh);
        // The pair is hashed as a pair: no "ak1\nn" ambiguity.
        assert_eq!(cache.remember("ak1\nn", "", later, now), Remembered::Fresh);
        // Once its request could no longer pass the timestamp check it is forgotten.
        let after = datetime!(2024-01-01 12:16 UTC);
        assert_eq!(cache.remember("ak1", "n", after, after), Remembered::Fresh);
    }

    #[test]
    fn a_full_cache_says_so_and_makes_room_as_nonces_expire() {
        let cache = NonceCache::with_capacity(SHARDS * 4);
        let now = datetime!(2024-01-01 12:00 UTC);
        let later = datetime!(2024-01-01 12:15 UTC);
        let answers: Vec<Remembered> = (0..SHARDS * 8)
            .map(|n| cache.remember("ak", &n.to_string(), later, now))
            .collect();
        let fresh = answers.iter().filter(|a| **a == Remembered::Fresh).count();
        assert!(fresh <= SHARDS * 4, "{fresh} remembered past the cap");
        assert!(answers.contains(&Remembered::Full));
        assert_eq!(cache.len(), fresh);
        assert_eq!(cache.full_count() as usize, SHARDS * 8 - fresh);
        // What was remembered is still a replay when the cache is full.
        let first = answers
            .iter()
            .position(|a| *a == Remembered::Fresh)
            .unwrap();
        let again = cache.remember("ak", &first.to_string(), later, now);
        assert_eq!(again, Remembered::Replayed);
        // Expired entries go when room is needed, without waiting for the minute's sweep: a
        // nonce that found its shard full finds room once the shard's entries expired.
        let refused = answers.iter().position(|a| *a == Remembered::Full).unwrap();
        let after = datetime!(2024-01-01 12:15:01 UTC);
        let expiry = datetime!(2024-01-01 12:30 UTC);
        let retried = cache.remember("ak", &refused.to_string(), expiry, after);
        assert_eq!(retried, Remembered::Fresh);
        assert!(cache.len() <= fresh, "the full shard was not swept");
    }
}
