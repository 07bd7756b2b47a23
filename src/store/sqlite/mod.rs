//! The embedded default store: SQLite in WAL mode in the data directory.
//!
//! Writes go through one writer thread ([`writer`]) that group-commits with `synchronous=FULL`,
//! so an acknowledged write is on disk. Reads use a small pool of their own connections and,
//! thanks to WAL, never wait for the writer.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};
use tokio::sync::mpsc;

use super::{
    AccessKey, AccessKeyOwner, Account, CertificateMaterial, Quota, Scope, ServerCertificate,
    ServerCertificateFilter, Store, StoreError,
};
use crate::crypto::{SealedPrivateKey, Secret};

const DATABASE_FILE: &str = "slbcert.db";
const MIGRATIONS: [&str; 1] = [include_str!("migrations/0001_init.sql")];
const MAX_IDLE_READERS: usize = 8;
const WRITE_QUEUE: usize = 4096;

pub struct SqliteStore {
    readers: Arc<ReaderPool>,
    writer: mpsc::Sender<Box<dyn writer::Job>>,
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Database(error.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and starts its writer thread.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        create_owner_only(&path)?;
        let connection = connect(&path, false)?;
        migrate(&connection)?;
        let (sender, queue) = mpsc::channel(WRITE_QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(connection, queue))
            .map_err(|error| StoreError::Database(error.to_string()))?;
        Ok(SqliteStore {
            readers: Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            writer: sender,
        })
    }

    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, result) = writer::job(work);
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
        tokio::task::spawn_blocking(move || {
            let connection = pool.take()?;
            let result = work(&connection);
            pool.give_back(connection);
            result
        })
        .await
        .map_err(|error| StoreError::Database(error.to_string()))?
    }
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => connect(&self.path, true),
        }
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(connection);
        }
    }
}

/// Creates the database file readable by its owner only (it holds private keys); SQLite gives
/// its -wal and -shm files the same permissions.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
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

fn connect(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    // FULL: in WAL mode, NORMAL would acknowledge commits that a power cut can still lose.
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(connection)
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        connection.execute_batch(&format!(
            "BEGIN IMMEDIATE; {migration}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
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

const CERTIFICATE_COLUMNS: &str = "id, account_id, region_id, name, resource_group_id, \
    fingerprint, common_name, subject_alternative_names, expire_ms, created_ms";

fn certificate_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ServerCertificate> {
    let names: String = row.get(7)?;
    Ok(ServerCertificate {
        id: row.get(0)?,
        scope: Scope {
            account_id: row.get(1)?,
            region_id: row.get(2)?,
        },
        name: row.get(3)?,
        resource_group_id: row.get(4)?,
        fingerprint: row.get(5)?,
        common_name: row.get(6)?,
        subject_alternative_names: serde_json::from_str(&names).unwrap_or_default(),
        expire_ms: row.get(8)?,
        created_ms: row.get(9)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_account(&self, account: Account, key: AccessKey) -> Result<(), StoreError> {
        self.write(move |db| {
            db.execute(
                "INSERT INTO accounts (account_id, name, default_resource_group_id, created_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    account.account_id,
                    account.name,
                    account.default_resource_group_id,
                    account.created_ms
                ],
            )
            .map_err(unique("account"))?;
            db.execute(
                "INSERT INTO access_keys (access_key_id, account_id, secret, created_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    key.access_key_id,
                    key.account_id,
                    key.secret.expose(),
                    key.created_ms
                ],
            )
            .map_err(unique("access key"))?;
            Ok(())
        })
        .await
    }

    async fn count_accounts(&self) -> Result<u64, StoreError> {
        self.read(|db| {
            let count: i64 = db.query_row("SELECT COUNT(*) FROM accounts", [], |row| row.get(0))?;
            Ok(count as u64)
        })
        .await
    }

    async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyOwner>, StoreError> {
        let access_key_id = access_key_id.to_owned();
        self.read(move |db| {
            let owner = db
                .query_row(
                    "SELECT k.account_id, k.secret, a.default_resource_group_id \
                     FROM access_keys k JOIN accounts a ON a.account_id = k.account_id \
                     WHERE k.access_key_id = ?1",
                    params![access_key_id],
                    |row| {
                        Ok(AccessKeyOwner {
                            account_id: row.get(0)?,
                            secret: Secret::new(row.get(1)?),
                            default_resource_group_id: row.get(2)?,
                        })
                    },
                )
                .optional()?;
            Ok(owner)
        })
        .await
    }

    async fn insert_server_certificate(
        &self,
        certificate: ServerCertificate,
        material: CertificateMaterial,
        quota: Quota,
    ) -> Result<(), StoreError> {
        self.write(move |db| {
            let scope = &certificate.scope;
            if let Some(limit) = quota {
                let used: i64 = db.query_row(
                    "SELECT COUNT(*) FROM server_certificates \
                     WHERE account_id = ?1 AND region_id = ?2",
                    params![scope.account_id, scope.region_id],
                    |row| row.get(0),
                )?;
                let used = used as u64;
                if used >= limit {
                    return Err(StoreError::OverQuota { used, limit });
                }
            }
            let names = serde_json::to_string(&certificate.subject_alternative_names)
                .map_err(|error| StoreError::Database(error.to_string()))?;
            db.execute(
                &format!(
                    "INSERT INTO server_certificates ({CERTIFICATE_COLUMNS}, certificate_pem) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    certificate.id,
                    scope.account_id,
                    scope.region_id,
                    certificate.name,
                    certificate.resource_group_id,
                    certificate.fingerprint,
                    certificate.common_name,
                    names,
                    certificate.expire_ms,
                    certificate.created_ms,
                    material.certificate_pem
                ],
            )
            .map_err(unique("server certificate"))?;
            db.execute(
                "INSERT INTO server_certificate_keys (certificate_id, sealed_key) VALUES (?1, ?2)",
                params![certificate.id, material.private_key.as_stored()],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_server_certificates(
        &self,
        scope: &Scope,
        filter: &ServerCertificateFilter,
    ) -> Result<Vec<ServerCertificate>, StoreError> {
        let mut sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM server_certificates \
             WHERE account_id = ?1 AND region_id = ?2"
        );
        let mut values = vec![scope.account_id.clone(), scope.region_id.clone()];
        if !filter.ids.is_empty() {
            let first = values.len() + 1;
            let slots: Vec<String> = (first..first + filter.ids.len())
                .map(|n| format!("?{n}"))
                .collect();
            sql.push_str(&format!(" AND id IN ({})", slots.join(", ")));
            values.extend(filter.ids.iter().cloned());
        }
        if let Some(group) = &filter.resource_group_id {
            values.push(group.clone());
            sql.push_str(&format!(" AND resource_group_id = ?{}", values.len()));
        }
        sql.push_str(" ORDER BY seq");
        self.read(move |db| {
            let mut statement = db.prepare_cached(&sql)?;
            let rows =
                statement.query_map(params_from_iter(values.iter()), certificate_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn delete_server_certificate(&self, scope: &Scope, id: &str) -> Result<bool, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.write(move |db| {
            let deleted = db.execute(
                "DELETE FROM server_certificates \
                 WHERE id = ?1 AND account_id = ?2 AND region_id = ?3",
                params![id, scope.account_id, scope.region_id],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn rename_server_certificate(
        &self,
        scope: &Scope,
        id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let (scope, id, name) = (scope.clone(), id.to_owned(), name.to_owned());
        self.write(move |db| {
            let renamed = db.execute(
                "UPDATE server_certificates SET name = ?1 \
                 WHERE id = ?2 AND account_id = ?3 AND region_id = ?4",
                params![name, id, scope.account_id, scope.region_id],
            )?;
            Ok(renamed > 0)
        })
        .await
    }

    async fn server_certificate_material(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<CertificateMaterial>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |db| {
            let material = db
                .query_row(
                    "SELECT c.certificate_pem, k.sealed_key FROM server_certificates c \
                     JOIN server_certificate_keys k ON k.certificate_id = c.id \
                     WHERE c.id = ?1 AND c.account_id = ?2 AND c.region_id = ?3",
                    params![id, scope.account_id, scope.region_id],
                    |row| {
                        Ok(CertificateMaterial {
                            certificate_pem: row.get(0)?,
                            private_key: SealedPrivateKey::from_stored(row.get(1)?),
                        })
                    },
                )
                .optional()?;
            Ok(material)
        })
        .await
    }
}
