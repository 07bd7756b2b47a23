//! Request rates per AccessKey and per account (off unless the operator sets them): token
//! buckets that hold one second's worth of requests. Only callers whose signature verified
//! get a bucket, so unknown keys cannot fill the table; it is bounded all the same.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept at once; past it idle ones go, then (if all are busy) all.
const MAX_BUCKETS: usize = 100_000;

/// Requests per second, for each AccessKey and each account; `None` is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    pub per_access_key: Option<f64>,
    pub per_account: Option<f64>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One rate over many keys.
struct Limiter {
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    fn new(rate: f64) -> Limiter {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn burst(&self) -> f64 {
        self.rate.max(1.0)
    }

    /// Takes a token for `key`; if none is left, how long until one is (milliseconds).
    fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst());
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate < burst
            });
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let burst = self.burst();
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refilled).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate;
            Err((wait * 1000.0).ceil().max(1.0) as u64)
        }
    }
}

pub struct Throttle {
    per_access_key: Option<Limiter>,
    per_account: Option<Limiter>,
}

impl Throttle {
    pub fn new(rates: Rates) -> Throttle {
        Throttle {
            per_access_key: rates.per_access_key.map(Limiter::new),
            per_account: rates.per_account.map(Limiter::new),
        }
    }

    /// Admits one request of `access_key_id` in `account_id`, or says how long to wait (ms).
    pub fn admit(&self, access_key_id: &str, account_id: &str) -> Result<(), u64> {
        let now = Instant::now();
        if let Some(limiter) = &self.per_access_key {
            limiter.take(access_key_id, now)?;
        }
        if let Some(limiter) = &self.per_account {
            limiter.take(account_id, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_holds_one_second_and_refills_at_its_rate() {
        let limiter = Limiter::new(5.0);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limiter.take("k", start).is_ok());
        }
        let wait = limiter.take("k", start).unwrap_err();
        assert!((1..=200).contains(&wait), "{wait}");
        // Other keys have their own bucket.
        assert!(limiter.take("other", start).is_ok());
        assert!(
            limiter
                .take("k", start + Duration::from_millis(210))
                .is_ok()
        );
    }

    #[test]
    fn unlimited_by_default() {
        let throttle = Throttle::new(Rates::default());
        for _ in 0..1000 {
            assert!(throttle.admit("k", "a").is_ok());
        }
    }
}
