//! AccessKeys that verified a signature lately, kept opened: the next request with the same key
//! costs no database read and no unsealing. Only keys whose signature verified are kept, so
//! unknown or forged IDs cannot fill it; at most [`MAX_KEYS`], each for [`TIME_TO_LIVE`], so a
//! key that leaves the store stops working within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::crypto::Secret;

const MAX_KEYS: usize = 10_000;
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct KnownKey {
    pub account_id: String,
    pub default_resource_group_id: String,
    pub account_name: String,
    pub secret: Secret,
    /// A RAM user's key: whether it is still active is asked of the account's RAM state.
    pub user_id: Option<String>,
    /// A role session's temporary key: the session its token carries, and the token, which a
    /// later request must present unchanged to use this entry.
    pub session: Option<Box<crate::access::Session>>,
    pub token: Option<String>,
}

#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, (KnownKey, Instant)>>,
}

impl KeyCache {
    pub fn get(&self, access_key_id: &str) -> Option<KnownKey> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let (key, at) = keys.get(access_key_id)?;
        (at.elapsed() < TIME_TO_LIVE).then(|| key.clone())
    }

    /// Keeps `key`, whose signature just verified.
    /// Forgets every key (after a reset of the store).
    pub fn clear(&self) {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn insert(&self, access_key_id: &str, key: KnownKey) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= MAX_KEYS && !keys.contains_key(access_key_id) {
            keys.retain(|_, (_, at)| at.elapsed() < TIME_TO_LIVE);
            if keys.len() >= MAX_KEYS {
                // Every entry is recent: start over rather than track ages (rare, and cheap).
                keys.clear();
            }
        }
        keys.insert(access_key_id.to_owned(), (key, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> KnownKey {
        KnownKey {
            account_id: "1".into(),
            default_resource_group_id: "rg".into(),
            account_name: String::new(),
            secret: Secret::new(secret.into()),
            user_id: None,
            session: None,
            token: None,
        }
    }

    #[test]
    fn keeps_verified_keys_within_a_bound() {
        let cache = KeyCache::default();
        assert!(cache.get("a").is_none());
        cache.insert("a", key("s"));
        assert_eq!(cache.get("a").unwrap().secret.expose(), "s");
        for n in 0..MAX_KEYS + 5 {
            cache.insert(&n.to_string(), key("x"));
        }
        assert!(cache.keys.lock().unwrap().len() <= MAX_KEYS);
    }

    #[test]
    fn forgets_a_key_after_its_time() {
        let cache = KeyCache::default();
        cache.insert("a", key("s"));
        cache.keys.lock().unwrap().get_mut("a").unwrap().1 -= TIME_TO_LIVE;
        assert!(cache.get("a").is_none());
    }
}
