//! Edits of one resource (a load balancer) queue behind each other in this process, instead of
//! racing: Terraform creates a load balancer's listeners ten at a time, and every edit rewrites
//! the whole load balancer, so racing edits would mostly be thrown away and tried again. The
//! store's compare-and-swap still guards against writers in other processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct EditLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl EditLocks {
    /// Waits until no other edit of `key` runs in this process; the edit runs while the guard
    /// lives.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // Keys nobody holds or waits for are dropped, so the map stays as small as the
            // number of resources being edited right now.
            locks.retain(|_, lock| lock.strong_count() > 0);
            match locks.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(key.to_owned(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn edits_of_one_key_queue_and_others_do_not_wait() {
        let locks = Arc::new(EditLocks::default());
        let held = locks.lock("lb-a").await;
        // Another key is free at once.
        let other = tokio::time::timeout(Duration::from_millis(100), locks.lock("lb-b")).await;
        assert!(other.is_ok());
        // The same key waits until the holder is done.
        let mut waiter = {
            let locks = locks.clone();
            tokio::spawn(async move { locks.lock("lb-a").await })
        };
        let early = tokio::time::timeout(Duration::from_millis(50), &mut waiter).await;
        assert!(
            early.is_err(),
            "the second holder got the lock while the first held it"
        );
        drop(held);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        drop(other);
        // Nothing is kept for keys no one holds.
        let _next = locks.lock("lb-c").await;
        assert_eq!(locks.locks.lock().unwrap().len(), 1);
    }
}
