//! The embedded default store: SQLite in WAL mode in the data directory.
//!
//! Writes go through one writer thread ([`writer`]) that group-commits with `synchronous=FULL`,
//! so an acknowledged write is on disk. Reads use a small pool of their own connections and,
//! thanks to WAL, never wait for the writer.

mod accounts;
mod audit;
mod certificate_orders;
mod certificates;
mod connection;
mod keyring;
mod load_balancers;
mod nonces;
mod ram;
mod region_resources;
mod tags;
mod user_certificates;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::mpsc;

use super::{
    AccessKey, AccessKeyOwner, Account, AccountStore, AuditEntry, AuditStore, Certificate,
    CertificateCount, CertificateField, CertificateFilter, CertificateKind, CertificateMaterial,
    CertificateStore, KeyringStore, NonceStore, Quota, Scope, SealedUpdate, SealedValue, Store,
    StoreError, Tag, TagQuery, TagStore, TaggedResource, UsedNonce,
};
use crate::audit::{AuditLine, RefusalQueue};
use crate::store::{WriteStats, json_list};
use connection::{Cached, connect, create_owner_only, migrate};

pub const DATABASE_FILE: &str = "slbcert.db";
const WRITE_QUEUE: usize = 4096;

pub struct SqliteStore {
    readers: Arc<connection::ReaderPool>,
    writer: mpsc::Sender<Box<dyn writer::Job>>,
    health: Arc<writer::Health>,
    nonces: Arc<nonces::Pending>,
    cursor: Arc<audit::PendingCursor>,
    appended: Arc<tokio::sync::Notify>,
    load_balancers_changed: Arc<tokio::sync::Notify>,
    write_stats: WriteStats,
    /// Moves after each RAM change: this process's, and (seen by [`connection::watch`])
    /// another process's, such as `account keys` run beside the server.
    ram_epoch: Arc<std::sync::atomic::AtomicU64>,
    /// The live nonces an earlier process stored (this process's are in the signature layer's
    /// memory cache).
    earlier_nonces: nonces::Earlier,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and starts its writer thread,
    /// which also stores the refusals queued in `refusals`.
    pub fn open(data_dir: &Path, refusals: Arc<RefusalQueue>) -> Result<SqliteStore, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        create_owner_only(&path)?;
        let connection = connect(&path, false)?;
        migrate(&connection)?;
        let earlier_nonces =
            nonces::Earlier::load(&connection, crate::clock::unix_ms(crate::clock::now()))?;
        let (sender, queue) = mpsc::channel(WRITE_QUEUE);
        let health = Arc::new(writer::Health::default());
        let nonces = Arc::new(nonces::Pending::default());
        let cursor = Arc::new(audit::PendingCursor::default());
        let appended = Arc::new(tokio::sync::Notify::new());
        let writer_state = writer::Shared {
            health: health.clone(),
            nonces: nonces.clone(),
            refusals: refusals.clone(),
            cursor: cursor.clone(),
            appended: appended.clone(),
            stats: WriteStats::default(),
        };
        let write_stats = writer_state.stats.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(connection, queue, writer_state))
            .map_err(|error| StoreError::Database(error.to_string()))?;
        let overdue = {
            let (nonces, cursor) = (nonces.clone(), cursor.clone());
            move || nonces.overdue() || refusals.overdue() || cursor.overdue()
        };
        writer::start_flusher(sender.downgrade(), overdue)?;
        let ram_epoch = Arc::new(std::sync::atomic::AtomicU64::default());
        connection::watch(&path, Arc::downgrade(&ram_epoch))?;
        Ok(SqliteStore {
            readers: Arc::new(connection::ReaderPool::new(path)),
            writer: sender,
            health,
            nonces,
            cursor,
            appended,
            load_balancers_changed: Arc::new(tokio::sync::Notify::new()),
            write_stats,
            ram_epoch,
            earlier_nonces,
        })
    }

    /// Runs `work` in the writer; `audit` is appended before it commits.
    async fn write<T, F>(&self, audit: AuditLine, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, result) = writer::job(work, Some(audit));
        self.send(job, result).await
    }

    async fn send<T>(
        &self,
        job: Box<dyn writer::Job>,
        result: tokio::sync::oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        result.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        // Waiting for a permit holds no thread.
        let permit = pool
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let connection = pool.take()?;
            let result = work(&connection);
            pool.give_back(connection);
            drop(permit);
            result
        })
        .await
        .map_err(|error| StoreError::Database(error.to_string()))?
    }
}

/// Brings the database at `path` to the current schema (as opening it would), and nothing else.
pub fn upgrade(path: &Path) -> Result<(), StoreError> {
    migrate(&connect(path, false)?)
}

/// `OverQuota` if `count` (a `SELECT COUNT(*)`, bound to `params`) already reaches `quota`.
fn check_quota(
    db: &Connection,
    quota: Quota,
    count: &str,
    params: impl rusqlite::Params,
) -> Result<(), StoreError> {
    let Some(limit) = quota else {
        return Ok(());
    };
    let used: i64 = db.query_row_cached(count, params, |row| row.get(0))?;
    crate::store::check_quota(Some(limit), used)
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn unique(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| {
        if is_unique_violation(&error) {
            StoreError::Conflict(what)
        } else {
            error.into()
        }
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn insert_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| accounts::insert(db, &account, &key))
            .await
    }

    async fn insert_first_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<bool, StoreError> {
        // The writer is the only one: counting in its job cannot race another insert. A
        // refusal rolls the job back, with its audit line.
        let inserted = self.write(audit, move |db| {
            if accounts::count(db)? > 0 {
                return Err(StoreError::Conflict("first account"));
            }
            accounts::insert(db, &account, &key)
        });
        match inserted.await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict("first account")) => Ok(false),
            Err(other) => Err(other),
        }
    }

    async fn count_accounts(&self) -> Result<u64, StoreError> {
        self.read(accounts::count).await
    }

    async fn reset(&self, keep_account_id: &str, audit: AuditLine) -> Result<(), StoreError> {
        let keep = keep_account_id.to_owned();
        self.write(audit, move |db| {
            for statement in super::RESET_STATEMENTS {
                // SQLite reads `$1` as a parameter named "$1": bound by position like `?1`.
                let parameters = statement.contains("$1").then_some(&keep);
                db.execute(statement, rusqlite::params_from_iter(parameters))?;
            }
            Ok(())
        })
        .await?;
        self.ram_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.load_balancers_changed.notify_one();
        Ok(())
    }

    async fn accounts(
        &self,
        account_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let account_id = account_id.map(str::to_owned);
        self.read(move |db| accounts::accounts(db, account_id.as_deref(), limit))
            .await
    }

    async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyOwner>, StoreError> {
        let access_key_id = access_key_id.to_owned();
        self.read(move |db| accounts::find_access_key(db, &access_key_id))
            .await
    }

    async fn root_access_keys(&self, account_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let account_id = account_id.to_owned();
        self.read(move |db| accounts::root_access_keys(db, &account_id))
            .await
    }
}

#[async_trait]
impl CertificateStore for SqliteStore {
    async fn insert_certificate(
        &self,
        certificate: Certificate,
        material: CertificateMaterial,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| {
            certificates::insert(db, &certificate, &material, quota)
        })
        .await
    }

    async fn list_certificates(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        filter: &CertificateFilter,
    ) -> Result<Vec<Certificate>, StoreError> {
        let (scope, filter) = (scope.clone(), filter.clone());
        self.read(move |db| certificates::list(db, &scope, kind, &filter))
            .await
    }

    async fn delete_certificate(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.write(audit, move |db| certificates::delete(db, &scope, kind, &id))
            .await
    }

    async fn set_certificate_field(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
        field: CertificateField,
        value: &str,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let (scope, id, value) = (scope.clone(), id.to_owned(), value.to_owned());
        self.write(audit, move |db| {
            certificates::set_field(db, &scope, kind, &id, field, &value)
        })
        .await
    }

    async fn certificate_material(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
    ) -> Result<Option<CertificateMaterial>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |db| certificates::material(db, &scope, kind, &id))
            .await
    }

    async fn count_certificates(
        &self,
        before_ms: [i64; 2],
    ) -> Result<Vec<CertificateCount>, StoreError> {
        self.read(move |db| certificates::count(db, before_ms))
            .await
    }

    async fn certificates_expiring_before(
        &self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<Certificate>, StoreError> {
        self.read(move |db| certificates::expiring_before(db, before_ms, limit))
            .await
    }
}

#[async_trait]
impl TagStore for SqliteStore {
    async fn tag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        tags: Vec<Tag>,
        max_per_resource: u64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.write(audit, move |db| {
            tags::set(db, &scope, &ids, &tags, max_per_resource)
        })
        .await
    }

    async fn untag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        keys: Option<Vec<String>>,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.write(audit, move |db| {
            tags::remove(db, &scope, &ids, keys.as_deref())
        })
        .await
    }

    async fn list_certificate_tags(
        &self,
        scope: &Scope,
        query: &TagQuery,
    ) -> Result<Vec<TaggedResource>, StoreError> {
        let (scope, query) = (scope.clone(), query.clone());
        self.read(move |db| tags::list(db, &scope, &query)).await
    }
}

#[async_trait]
impl KeyringStore for SqliteStore {
    async fn key_encryption_keys(&self) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
        self.read(keyring::all).await
    }

    async fn newest_key_encryption_key(&self) -> Result<Option<u32>, StoreError> {
        self.read(keyring::newest).await
    }

    async fn insert_key_encryption_key(
        &self,
        version: u32,
        wrapped: Vec<u8>,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| keyring::insert(db, version, &wrapped))
            .await
    }

    async fn sealed_values_below(
        &self,
        version: u32,
        limit: usize,
    ) -> Result<Vec<SealedValue>, StoreError> {
        self.read(move |db| keyring::sealed_below(db, version, limit))
            .await
    }

    async fn count_sealed_values_below(&self, version: u32) -> Result<u64, StoreError> {
        self.read(move |db| keyring::count_below(db, version)).await
    }

    async fn replace_sealed_values(
        &self,
        updates: Vec<SealedUpdate>,
        audit: AuditLine,
    ) -> Result<usize, StoreError> {
        self.write(audit, move |db| keyring::replace(db, &updates))
            .await
    }
}

#[async_trait]
impl NonceStore for SqliteStore {
    async fn claim_nonce(&self, nonce: UsedNonce, now_ms: i64) -> Result<bool, StoreError> {
        // SQLite in one data directory has one serving process: nonces of another one can only
        // be those of an earlier process. This one's are stored with the next batch.
        if self
            .earlier_nonces
            .used(&nonce.access_key_id, &nonce.nonce, now_ms)
        {
            return Ok(false);
        }
        self.nonces.push(nonce);
        Ok(true)
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn record(&self, line: AuditLine) -> Result<(), StoreError> {
        self.write(line, |_| Ok(())).await
    }

    async fn audit_records_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(move |db| audit::after(db, seq, limit)).await
    }

    async fn audit_export_cursor(&self) -> Result<i64, StoreError> {
        self.read(audit::cursor).await
    }

    fn advance_audit_export_cursor(&self, seq: i64) {
        self.cursor.advance(seq);
    }

    fn audit_appended(&self) -> Arc<tokio::sync::Notify> {
        self.appended.clone()
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn write_stats(&self) -> &WriteStats {
        &self.write_stats
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.health.check()?;
        if self.health.failing() {
            // A probe write: it clears the failure once the storage takes writes again.
            let (job, result) = writer::job(writer::probe, None);
            self.send(job, result).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
