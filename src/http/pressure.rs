//! Connection slots, and shedding when they run out: a full server asks its idle connections
//! (and requests that have been arriving for too long) to close, so that a crowd of idle or
//! slow clients cannot lock a new client out.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// A connection idle at least this long closes when asked to shed.
pub const SHED_IDLE_AFTER: Duration = Duration::from_millis(250);
/// A request still arriving after this long is dropped when asked to shed.
pub const SHED_ARRIVING_AFTER: Duration = Duration::from_secs(1);
/// While no slot frees up, shedding is asked again this often.
const SHED_EVERY: Duration = Duration::from_millis(200);

pub struct Slots {
    semaphore: Arc<Semaphore>,
    shed: watch::Sender<u64>,
    /// Below this many free slots, every new connection asks for shedding.
    low_water: usize,
}

impl Slots {
    pub fn new(max_connections: usize) -> Slots {
        Slots {
            semaphore: Arc::new(Semaphore::new(max_connections)),
            shed: watch::channel(0).0,
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
