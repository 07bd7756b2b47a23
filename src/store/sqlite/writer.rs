//! The single writer: one thread owns the write connection and commits whatever jobs are
//! queued together, in one transaction (group commit), so that concurrent writes share one
//! fsync. Each job runs in its own savepoint: a job that fails leaves no trace and does not
//! disturb the others in its batch.
//!
//! The audit lines of the batch's successful jobs are appended (and synced, once) before the
//! COMMIT; if they cannot be, the batch rolls back: no mutation without its audit record.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::audit::AuditLine;
use crate::store::{CommitLog, StoreError};

/// Bounds the latency a batch adds to its first job.
const MAX_BATCH: usize = 256;

pub(super) trait Job: Send {
    /// Runs the job's statements; false if it failed (its savepoint is then rolled back).
    fn apply(&mut self, connection: &Connection) -> bool;
    /// The line to audit once the job succeeded.
    fn audit_line(&self) -> &AuditLine;
    /// Reports the job's result once its batch committed (or failed to).
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct WriteJob<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    audit: AuditLine,
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

    fn audit_line(&self) -> &AuditLine {
        &self.audit
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

/// A job running `work`, auditing `audit` if it succeeds, and a receiver for its committed
/// result.
pub(super) fn job<T, F>(
    work: F,
    audit: AuditLine,
) -> (Box<dyn Job>, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, receiver) = oneshot::channel();
    let job = WriteJob {
        work: Some(work),
        result: None,
        audit,
        reply,
    };
    (Box::new(job), receiver)
}

/// The writer thread's loop; returns when every sender is gone and the queue is drained.
pub(super) fn run(
    connection: Connection,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    commit_log: Arc<dyn CommitLog>,
) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&connection, commit_log.as_ref(), batch);
    }
}

fn commit_batch(connection: &Connection, commit_log: &dyn CommitLog, mut batch: Vec<Box<dyn Job>>) {
    let result = run_batch(connection, commit_log, &mut batch);
    if result.is_err() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    for job in batch {
        job.finish(result.clone());
    }
}

fn run_batch(
    connection: &Connection,
    commit_log: &dyn CommitLog,
    batch: &mut [Box<dyn Job>],
) -> Result<(), StoreError> {
    let sql = |error: rusqlite::Error| StoreError::Database(error.to_string());
    connection.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
    let mut lines = Vec::new();
    for job in batch.iter_mut() {
        connection.execute_batch("SAVEPOINT job").map_err(sql)?;
        if job.apply(connection) {
            lines.push(job.audit_line().clone());
        } else {
            connection.execute_batch("ROLLBACK TO job").map_err(sql)?;
        }
        connection.execute_batch("RELEASE job").map_err(sql)?;
    }
    commit_log
        .append(&lines)
        .map_err(|error| StoreError::AuditUnavailable(error.to_string()))?;
    // With synchronous=FULL this returns once the WAL is on disk.
    connection.execute_batch("COMMIT").map_err(|error| {
        commit_log.retract(&lines);
        sql(error)
    })
}
