//! The single writer: one thread owns the write connection and commits whatever jobs are
//! queued together, in one transaction (group commit), so that concurrent writes share one
//! fsync. Each job runs in its own savepoint: a job that fails leaves no trace and does not
//! disturb the others in its batch.

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

/// Bounds the latency a batch adds to its first job.
const MAX_BATCH: usize = 256;

pub(super) trait Job: Send {
    /// Runs the job's statements; false if it failed (its savepoint is then rolled back).
    fn apply(&mut self, connection: &Connection) -> bool;
    /// Reports the job's result once its batch committed (or failed to).
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct WriteJob<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for WriteJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, connection: &Connection) -> bool {
        let result = (self.work.take().expect("a job runs once"))(connection);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let outcome = match (self.result, committed) {
            (Some(Err(job_error)), _) => Err(job_error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(commit_error)) => Err(commit_error),
            (None, Ok(())) => Err(StoreError::Database("the job did not run".into())),
        };
        let _ = self.reply.send(outcome);
    }
}

/// Queues `work` for the writer and returns a receiver for its committed result.
pub(super) fn job<T, F>(work: F) -> (Box<dyn Job>, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, receiver) = oneshot::channel();
    let job = WriteJob {
        work: Some(work),
        result: None,
        reply,
    };
    (Box::new(job), receiver)
}

/// The writer thread's loop; returns when every sender is gone and the queue is drained.
pub(super) fn run(connection: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&connection, batch);
    }
}

fn commit_batch(connection: &Connection, mut batch: Vec<Box<dyn Job>>) {
    let result = run_batch(connection, &mut batch).map_err(|error| error.to_string());
    if result.is_err() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    for job in batch {
        job.finish(result.clone().map_err(StoreError::Database));
    }
}

fn run_batch(connection: &Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        connection.execute_batch("SAVEPOINT job")?;
        if !job.apply(connection) {
            connection.execute_batch("ROLLBACK TO job")?;
        }
        connection.execute_batch("RELEASE job")?;
    }
    // With synchronous=FULL this returns once the WAL is on disk.
    connection.execute_batch("COMMIT")
}
