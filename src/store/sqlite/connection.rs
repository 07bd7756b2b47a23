//! Opening the database: the file (owner-only), each connection's settings, migrations, and
//! which SQLite errors are faults of the storage rather than bugs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params, Row};

use super::certificates;
use crate::store::StoreError;

const MIGRATIONS: [&str; 10] = [
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_hardening.sql"),
    include_str!("migrations/0003_load_balancers.sql"),
    include_str!("migrations/0004_load_balancer_generation.sql"),
    include_str!("migrations/0005_audit_records.sql"),
    include_str!("migrations/0006_nonce_log.sql"),
    include_str!("migrations/0007_ram.sql"),
    include_str!("migrations/0008_expiry_index.sql"),
    include_str!("migrations/0009_region_resources.sql"),
    include_str!("migrations/0010_certificate_orders.sql"),
];
/// Other writers are our own short CLI commands (account create, keys rotate and rewrap): past
/// this wait the database counts as locked, and the request answers 503 well within the SDKs'
/// 10-second read timeout (a request may wait for two batches).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

impl From<rusqlite::Error> for StoreError {
    /// Faults of the storage under the database are `Unavailable`; the rest (constraints,
    /// SQL) are bugs or damage.
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        let fault = match &error {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                DiskFull => Some("the database disk is full"),
                SystemIoFailure => Some("the database disk cannot be read or written"),
                DatabaseBusy | DatabaseLocked => Some("the database is locked"),
                CannotOpen => Some("the database cannot be opened"),
                ReadOnly => Some("the database is read-only"),
                OutOfMemory => Some("the database is out of memory"),
                _ => None,
            },
            _ => None,
        };
        match fault {
            Some(what) => StoreError::Unavailable {
                what,
                detail: error.to_string(),
            },
            None => StoreError::Database(error.to_string()),
        }
    }
}

/// Creates the database file readable by its owner only (it holds private keys); SQLite gives
/// its -wal and -shm files the same permissions.
pub(super) fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Database(format!("{}: {error}", path.display()))),
    }
}

/// Statements each connection keeps prepared (all of ours fit).
const STATEMENT_CACHE: usize = 256;

/// `execute` and `query_row` through the connection's statement cache: the SQL text is parsed
/// once per connection, not once per call.
pub(super) trait Cached {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

const MAX_IDLE_READERS: usize = 8;

/// Read-only connections kept for reuse (at most [`MAX_IDLE_READERS`] idle), and the permits
/// that bound how many reads run at once: each holds a blocking thread and a connection, and
/// without a bound a burst of reads would take as many as tokio's blocking pool has (512).
pub(super) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    pub permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ReaderPool {
    pub fn new(path: PathBuf) -> ReaderPool {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ReaderPool {
            path,
            idle: Mutex::new(Vec::new()),
            // Reads are short and CPU-bound once the pages are cached: a few per core.
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new((4 * cores).max(8))),
        }
    }

    pub fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => connect(&self.path, true),
        }
    }

    pub fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(connection);
        }
    }
}

/// How often [`watch`] looks for commits of other processes.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Advances `epoch` whenever a commit not made through this connection lands (SQLite's
/// `data_version`): RAM caches then read again, so that a change another process made (the
/// CLI's `account keys`) holds here within [`WATCH_INTERVAL`]. Ends with the store.
pub(super) fn watch(
    path: &Path,
    epoch: std::sync::Weak<std::sync::atomic::AtomicU64>,
) -> Result<(), StoreError> {
    let connection = connect(path, true)?;
    let version = |db: &Connection| -> Option<i64> {
        db.query_row("PRAGMA data_version", [], |row| row.get(0))
            .ok()
    };
    let mut seen = version(&connection);
    std::thread::Builder::new()
        .name("sqlite-watch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(WATCH_INTERVAL);
                let Some(epoch) = epoch.upgrade() else {
                    return;
                };
                let now = version(&connection);
                if now != seen {
                    seen = now;
                    epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                }
            }
        })
        .map_err(|error| StoreError::Database(error.to_string()))?;
    Ok(())
}

pub(super) fn connect(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // FULL: in WAL mode, NORMAL would acknowledge commits that a power cut can still lose.
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(connection)
}

pub(super) fn migrate(connection: &Connection) -> Result<(), StoreError> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    loop {
        // Read again under the write lock: a process starting at the same time may have
        // applied this migration meanwhile.
        connection.execute_batch("BEGIN IMMEDIATE")?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let Some(migration) = MIGRATIONS.get(version as usize) else {
            connection.execute_batch("COMMIT")?;
            break;
        };
        let applied = connection.execute_batch(&format!(
            "{migration}; PRAGMA user_version = {};",
            version + 1
        ));
        match applied {
            Ok(()) => connection.execute_batch("COMMIT")?,
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(error.into());
            }
        }
    }
    if applied < 2 {
        connection.execute_batch("BEGIN IMMEDIATE")?;
        match certificates::backfill_encryption(connection) {
            Ok(()) => connection.execute_batch("COMMIT")?,
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(error);
            }
        }
    }
    Ok(())
}
