//! The single writer: one thread owns the write connection and commits whatever jobs are
//! queued together, in one transaction (group commit), so that concurrent writes share one
//! fsync. Each job runs in its own savepoint: a job that fails leaves no trace and does not
//! disturb the others in its batch.
//!
//! Each successful job's audit record is inserted in its savepoint, and the queued refusals,
//! nonces and export cursor at the start of the batch: one transaction, one sync. A record that
//! cannot be stored fails the batch: no mutation without its audit record.
//!
//! The writer is supervised: a panic in a batch fails that batch's jobs and the loop goes on;
//! if the thread ends anyway, [`Health`] says so and every write answers `Unavailable`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::audit::{self, PendingCursor};
use super::nonces::Pending;
use crate::audit::{AuditLine, RefusalQueue};
use crate::store::StoreError;

/// Bounds the latency a batch adds to its first job.
const MAX_BATCH: usize = 256;

pub(super) trait Job: Send {
    /// Runs the job's statements; false if it failed (its savepoint is then rolled back).
    fn apply(&mut self, connection: &Connection) -> bool;
    /// The line to audit once the job succeeded (none for a probe).
    fn audit_line(&self) -> Option<&AuditLine>;
    /// Reports the job's result once its batch committed (or failed to).
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct WriteJob<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    audit: Option<AuditLine>,
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

    fn audit_line(&self) -> Option<&AuditLine> {
        self.audit.as_ref()
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
    audit: Option<AuditLine>,
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

/// Whether the writer can take writes: set by the writer after each batch.
pub(super) struct Health {
    alive: AtomicBool,
    /// The last batch failed on a storage fault, and none has committed since.
    failing: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            alive: AtomicBool::new(true),
            failing: AtomicBool::new(false),
        }
    }
}

impl Health {
    /// `Unavailable` if the writer thread is gone.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.alive.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(StoreError::Unavailable {
                what: "the database writer stopped",
                detail: "its thread ended".into(),
            })
        }
    }

    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    fn record(&self, result: &Result<(), StoreError>) {
        let failing = match result {
            Ok(()) => false,
            Err(StoreError::Unavailable { .. } | StoreError::Database(_)) => true,
            Err(_) => return,
        };
        self.failing.store(failing, Ordering::Release);
    }
}

/// Marks the writer gone when its thread ends, however it ends.
struct Alive<'a>(&'a Health);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::Release);
        tracing::error!("the database writer stopped: writes answer 503 from now on");
    }
}

/// A write that changes nothing, to learn whether the storage takes writes again.
pub(super) fn probe(connection: &Connection) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO write_probe (id, at) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        [crate::clock::unix_ms(crate::clock::now())],
    )?;
    Ok(())
}

/// What the writer shares with the store.
pub(super) struct Shared {
    pub health: Arc<Health>,
    pub nonces: Arc<Pending>,
    pub refusals: Arc<RefusalQueue>,
    pub cursor: Arc<PendingCursor>,
    /// Told after each commit that stored audit records.
    pub appended: Arc<tokio::sync::Notify>,
    pub stats: super::super::WriteStats,
}

/// The writer thread's loop; returns when every sender is gone and the queue is drained.
pub(super) fn run(connection: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>, shared: Shared) {
    let _alive = Alive(&shared.health);
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&connection, &shared, batch);
    }
    // Stopping: what rides with batches (nonces, refused requests' records) is stored now, or
    // a restart would forget nonces still in their window.
    if !shared.nonces.is_empty() || shared.refusals.pending() > 0 {
        commit_batch(&connection, &shared, Vec::new());
    }
    // Not a failure: every sender is gone.
    std::mem::forget(_alive);
}

fn commit_batch(connection: &Connection, shared: &Shared, mut batch: Vec<Box<dyn Job>>) {
    let refusals = shared.refusals.take();
    let started = std::time::Instant::now();
    let ran = catch_unwind(AssertUnwindSafe(|| {
        run_batch(connection, shared, &refusals, &mut batch)
    }));
    let result = ran.unwrap_or_else(|_| {
        tracing::error!(
            jobs = batch.len(),
            "a write batch panicked; its jobs failed"
        );
        Err(StoreError::Database("the write batch failed".into()))
    });
    match &result {
        Ok(Committed { records, cursor }) => {
            shared.refusals.stored(&refusals);
            if let Some(seq) = cursor {
                shared.cursor.committed(*seq);
            }
            if *records > 0 {
                shared.appended.notify_one();
            }
        }
        Err(_) => {
            let _ = connection.execute_batch("ROLLBACK");
            shared.refusals.give_back(refusals);
        }
    }
    let result = result.map(drop);
    shared.stats.committed(batch.len(), started.elapsed());
    shared.health.record(&result);
    for job in batch {
        job.finish(result.clone());
    }
}

/// What a batch committed besides its jobs' work.
struct Committed {
    records: usize,
    cursor: Option<i64>,
}

fn run_batch(
    connection: &Connection,
    shared: &Shared,
    refusals: &[AuditLine],
    batch: &mut [Box<dyn Job>],
) -> Result<Committed, StoreError> {
    let run = |sql: &str| -> Result<(), StoreError> {
        connection.prepare_cached(sql)?.execute([])?;
        Ok(())
    };
    run("BEGIN IMMEDIATE")?;
    // Nonces first: those of this batch's mutations were queued before their jobs.
    shared
        .nonces
        .write(connection, crate::clock::unix_ms(crate::clock::now()))?;
    for line in refusals {
        audit::insert(connection, line)?;
    }
    let cursor = shared.cursor.write(connection)?;
    let mut records = refusals.len();
    for job in batch.iter_mut() {
        run("SAVEPOINT job")?;
        if job.apply(connection) {
            if let Some(line) = job.audit_line() {
                audit::insert(connection, line)?;
                records += 1;
            }
        } else {
            run("ROLLBACK TO job")?;
        }
        run("RELEASE job")?;
    }
    // With synchronous=FULL this returns once the WAL is on disk.
    run("COMMIT")?;
    Ok(Committed { records, cursor })
}

/// Starts a batch for what is queued for the writer (nonces, refusals, the export cursor) once
/// no write has taken it within [`super::nonces::FLUSH_AFTER`] (under reads only, say). Under
/// writes it never has to: every batch takes them first. It stops with the store.
pub(super) fn start_flusher(
    writer: mpsc::WeakSender<Box<dyn Job>>,
    overdue: impl Fn() -> bool + Send + 'static,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("write-flusher".into())
        .spawn(move || {
            loop {
                std::thread::sleep(super::nonces::FLUSH_AFTER);
                let Some(writer) = writer.upgrade() else {
                    return;
                };
                if overdue() {
                    let (job, _) = job(|_: &Connection| Ok(()), None);
                    // A full queue will take the nonces with its next batch anyway.
                    let _ = writer.try_send(job);
                }
            }
        })
        .map(drop)
        .map_err(|error| StoreError::Database(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(connection: &Connection) -> Result<i64, StoreError> {
        Ok(connection.query_row("SELECT count(*) FROM t", [], |row| row.get(0))?)
    }

    /// A job that panics fails its batch; the writer goes on and later jobs commit.
    #[test]
    fn a_panicking_batch_does_not_stop_the_writer() {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let (sender, queue) = mpsc::channel(8);
        let health = Arc::new(Health::default());
        let thread_health = health.clone();
        super::super::connection::migrate(&connection).unwrap();
        let shared = Shared {
            health: thread_health,
            nonces: Arc::new(Pending::default()),
            refusals: Arc::new(RefusalQueue::default()),
            cursor: Arc::new(PendingCursor::default()),
            appended: Arc::new(tokio::sync::Notify::new()),
            stats: Default::default(),
        };
        let thread = std::thread::spawn(move || run(connection, queue, shared));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (bad, bad_result) = job(
                |_: &Connection| -> Result<(), StoreError> { panic!("a bug in a job") },
                Some("{}".into()),
            );
            sender.send(bad).await.ok().unwrap();
            assert!(bad_result.await.unwrap().is_err());
            assert!(health.failing());
            let (good, good_result) = job(
                |db: &Connection| {
                    db.execute("INSERT INTO t VALUES (1)", [])?;
                    count(db)
                },
                Some("{}".into()),
            );
            sender.send(good).await.ok().unwrap();
            assert_eq!(good_result.await.unwrap().unwrap(), 1);
            assert!(!health.failing());
            assert!(health.check().is_ok());
        });
        drop(sender);
        thread.join().unwrap();
        // A writer that ended because its queue closed is not reported as failed... but one
        // whose thread dies is:
        let dead = Health::default();
        drop(Alive(&dead));
        assert!(dead.check().is_err());
    }
}
