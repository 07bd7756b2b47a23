//! `SignatureNonce` replay protection: a nonce is accepted once per AccessKey for as long as a
//! request carrying it could still pass the timestamp check.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use time::OffsetDateTime;

const SHARDS: usize = 16;
/// How often a shard drops nonces whose requests can no longer pass the timestamp check.
const SWEEP_EVERY_SECONDS: i64 = 60;

pub struct NonceCache {
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    /// "AccessKeyId\nnonce" -> unix time after which the nonce may be forgotten.
    seen: HashMap<String, i64>,
    last_sweep: i64,
}

impl Default for NonceCache {
    fn default() -> Self {
        NonceCache {
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl NonceCache {
    /// Records the nonce; false if it was already used and is still remembered.
    pub fn remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        forget_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> bool {
        let key = format!("{access_key_id}\n{nonce}");
        let shard = &self.shards[self.hasher.hash_one(&key) as usize % SHARDS];
        let mut shard = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = now.unix_timestamp();
        if now - shard.last_sweep >= SWEEP_EVERY_SECONDS {
            shard.seen.retain(|_, expiry| *expiry > now);
            shard.last_sweep = now;
        }
        match shard.seen.get(&key) {
            Some(expiry) if *expiry > now => false,
            _ => {
                shard.seen.insert(key, forget_after.unix_timestamp());
                true
            }
        }
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
        assert!(cache.remember("ak1", "n", later, now));
        assert!(!cache.remember("ak1", "n", later, now));
        assert!(cache.remember("ak2", "n", later, now));
        // Once its request could no longer pass the timestamp check it is forgotten.
        let after = datetime!(2024-01-01 12:16 UTC);
        assert!(cache.remember("ak1", "n", after, after));
    }
}
