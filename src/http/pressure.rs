//! Connection slots, and shedding when they run out: a full server asks its idle connections
//! (and requests that have been arriving for too long) to close, so that a crowd of idle or
//! slow clients cannot lock a new client out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// A connection idle at least this long closes when asked to shed.
pub const SHED_IDLE_AFTER: Duration = Duration::from_millis(250);
/// A request still arriving after this long is dropped when asked to shed.
pub const SHED_ARRIVING_AFTER: Duration = Duration::from_secs(1);
/// Shedding is asked at most this often: each ask wakes every connection that waits, so a
/// client opening connections quickly must not make the server wake them all each time.
const SHED_EVERY: Duration = Duration::from_millis(200);

pub struct Slots {
    semaphore: Arc<Semaphore>,
    shed: watch::Sender<u64>,
    last_shed: Mutex<Option<Instant>>,
    /// At or below this many free slots, a new connection asks for shedding.
    low_water: usize,
}

impl Slots {
    pub fn new(max_connections: usize) -> Slots {
        Slots {
            semaphore: Arc::new(Semaphore::new(max_connections)),
            shed: watch::channel(0).0,
            last_shed: Mutex::new(None),
            low_water: max_connections / 10,
        }
    }

    /// A slot for the next connection. Near the cap, asks connections to shed first; at the
    /// cap, keeps asking until one frees up.
    pub async fn acquire(&self) -> OwnedSemaphorePermit {
        if self.semaphore.available_permits() <= self.low_water {
            self.ask_to_shed();
        }
        loop {
            let waiting = self.semaphore.clone().acquire_owned();
            match tokio::time::timeout(SHED_EVERY, waiting).await {
                Ok(permit) => return permit.expect("the semaphore is never closed"),
                Err(_) => self.ask_to_shed(),
            }
        }
    }

    fn ask_to_shed(&self) {
        let mut last = self.last_shed.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < SHED_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        self.shed.send_modify(|generation| *generation += 1);
    }

    pub fn shed_requests(&self) -> ShedRequests {
        ShedRequests(self.shed.subscribe())
    }
}

/// A connection's view of requests to shed.
pub struct ShedRequests(watch::Receiver<u64>);

impl ShedRequests {
    /// Resolves once shedding is asked for and the connection, in its state since `since`,
    /// should go: `after` is how long it must have been in that state.
    pub async fn until_shed(&mut self, since: Instant, after: Duration) {
        loop {
            if self.0.changed().await.is_err() {
                return std::future::pending().await;
            }
            if since.elapsed() >= after {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the cap, a new connection waits, asks the others to shed (once per SHED_EVERY, however
    /// often it is asked), and gets the slot one of them frees.
    #[tokio::test(start_paused = true)]
    async fn a_full_server_asks_idle_connections_to_go_and_takes_the_freed_slot() {
        let slots = Arc::new(Slots::new(2));
        let held = [slots.acquire().await, slots.acquire().await];
        let mut idle = slots.shed_requests();
        let idle_since = Instant::now();
        tokio::time::advance(SHED_IDLE_AFTER).await;
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire().await }
        });
        // The idle connection is asked to go, and goes.
        idle.until_shed(idle_since, SHED_IDLE_AFTER).await;
        let [first, _second] = held;
        drop(first);
        let permit = waiting.await.unwrap();
        drop(permit);
        // Asks closer together than SHED_EVERY are one.
        let before = *slots.shed.borrow();
        slots.ask_to_shed();
        slots.ask_to_shed();
        assert!(*slots.shed.borrow() - before <= 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_busy_for_less_than_its_threshold_is_not_shed() {
        let slots = Slots::new(1);
        let mut fresh = slots.shed_requests();
        let since = Instant::now();
        slots.ask_to_shed();
        let shed = tokio::time::timeout(
            Duration::from_millis(10),
            fresh.until_shed(since, SHED_ARRIVING_AFTER),
        )
        .await;
        assert!(shed.is_err(), "a request arriving for 0 s was shed");
    }
}
