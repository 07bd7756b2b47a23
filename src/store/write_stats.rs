//! What the writers do, for `/metrics`: how many writes each commit carries and how long the
//! commit takes. SQLite's writer groups concurrent writes into one transaction and one sync;
//! on PostgreSQL every write is its own transaction (the server groups the syncs), so its
//! batches are of one.

use std::time::Duration;

use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

/// Shared by the store's writer and the metrics registry (the histograms are handles).
#[derive(Clone, Debug)]
pub struct WriteStats {
    /// Writes committed together, per commit (failed commits too).
    pub batch_writes: Histogram,
    /// Until the commit is durable: SQLite's whole batch transaction; on PostgreSQL the audit
    /// record's insert and the COMMIT (the change itself was written before).
    pub commit_seconds: Histogram,
}

impl Default for WriteStats {
    fn default() -> WriteStats {
        WriteStats {
            // 1 to 512.
            batch_writes: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            // 50 µs to about 6.5 s.
            commit_seconds: Histogram::new(exponential_buckets(0.00005, 2.0, 18)),
        }
    }
}

impl WriteStats {
    pub fn committed(&self, writes: usize, took: Duration) {
        self.batch_writes.observe(writes as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }
}
