//! PostgreSQL: the store that many nodes share (`serve --database-url postgres://…`).
//!
//! Each call is one transaction on a pooled connection; PostgreSQL's own group commit makes
//! concurrent commits share a WAL flush, so there is no writer thread here. What a single
//! writer gave SQLite for free is asked of the database instead: quotas and address
//! allocation take a transaction-scoped advisory lock per scope, certificate references are
//! foreign keys, load balancers are compare-and-swap on their revision, and a used nonce is
//! claimed by an insert that another node's identical insert cannot pass. Changes other
//! nodes must follow (load balancers, the keyring) are announced with NOTIFY at commit.

mod accounts;
mod audit;
mod background;
mod certificate_orders;
mod certificates;
mod feed;
mod keyring;
mod load_balancers;
mod migrations;
mod nonces;
mod ram;
mod region_resources;
mod sql;
mod tags;
pub mod tls;
mod user_certificates;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool, Transaction};

use super::{
    AccessKey, AccessKeyOwner, Account, AccountStore, Certificate, CertificateCount,
    CertificateField, CertificateFilter, CertificateKind, CertificateMaterial, CertificateStore,
    KeyringStore, Quota, Scope, SealedUpdate, SealedValue, Store, StoreError, Tag, TagQuery,
    TagStore, TaggedResource,
};
use crate::audit::{AuditLine, RefusalQueue};
use crate::store::write_nonce;
use crate::store::{WriteStats, check_quota, json_list};

pub use migrations::migrate;
/// A client error as the store reports it (PostgreSQL's own message kept), for the copier.
pub(crate) use sql::database as database_error;
use sql::{Params, announce, column, database, lock, pool, target, unique_violation, violated};
pub use sql::{connect, connection};

/// Connections per node for requests; PostgreSQL's default allows 100 in all.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (all busy, or the database away) before 503.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The channel of NOTIFY: the payload says what changed (`load_balancers`, `keyring`).
const CHANNEL: &str = "slbcert";

/// Whether `url` names a PostgreSQL database (else it is not for this store).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub struct PostgresStore {
    pool: Pool,
    feed: Arc<feed::Feed>,
    /// Used nonces, claimed in batches on connections with `synchronous_commit = off` (what
    /// may be lost in a crash of the database itself but must be seen by every node at once;
    /// refusals use them too).
    nonces: nonces::Claims,
    appended: Arc<tokio::sync::Notify>,
    background: Arc<background::Queues>,
    refusals: Arc<RefusalQueue>,
    /// This node's audit.log, as the export cursor table names it.
    exporter: String,
    /// The place of the last record this node's export read: the next read starts there.
    exported: std::sync::Mutex<audit::Place>,
    write_stats: WriteStats,
}

impl PostgresStore {
    /// Connects, migrates (under a lock, so that nodes starting together take turns), and
    /// starts listening for other nodes' changes. `exporter` names this node's audit.log.
    pub async fn open(
        url: &str,
        refusals: Arc<RefusalQueue>,
        exporter: String,
    ) -> Result<PostgresStore, StoreError> {
        let target = target(url)?;
        let requests = pool(target.clone(), POOL_SIZE)?;
        let relaxed = pool(sql::relaxed(&target), 4)?;
        {
            let mut client = connection(&requests).await?;
            migrations::apply(&mut client).await?;
        }
        let feed = feed::Feed::start(target);
        let background = Arc::new(background::Queues::default());
        background::start(
            relaxed.clone(),
            refusals.clone(),
            background.clone(),
            exporter.clone(),
        );
        Ok(PostgresStore {
            pool: requests,
            nonces: nonces::Claims::start(relaxed),
            feed,
            appended: Arc::new(tokio::sync::Notify::new()),
            background,
            refusals,
            exporter,
            exported: std::sync::Mutex::new(audit::Place::START),
            write_stats: WriteStats::default(),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        connection(&self.pool).await
    }

    /// Stores `audit` in `transaction` and commits it: the change and its record are durable
    /// together, or neither is. Refusals queued meanwhile go first, so that the trail keeps
    /// the order in which this node answered.
    async fn commit(
        &self,
        transaction: Transaction<'_>,
        audit: &AuditLine,
    ) -> Result<(), StoreError> {
        self.commit_with(transaction, Vec::new(), Some(audit)).await
    }

    /// [`commit`](Self::commit) of `writes` (which hold their audit record when `audit` is
    /// None): the queued refusals, the writes and the record go in one round trip, then the
    /// commit.
    async fn commit_with(
        &self,
        transaction: Transaction<'_>,
        writes: Vec<sql::Write>,
        audit: Option<&AuditLine>,
    ) -> Result<(), StoreError> {
        let refusals = self.refusals.take();
        let nonce = write_nonce::take();
        let started = std::time::Instant::now();
        let committed = async {
            let mut all = Vec::with_capacity(refusals.len() + writes.len() + 2);
            if let Some(nonce) = &nonce {
                all.push(nonces::claim_in(&transaction, nonce).await?);
            }
            for line in &refusals {
                all.push(audit::write(&transaction, line).await?);
            }
            all.extend(writes);
            if let Some(line) = audit {
                all.push(audit::write(&transaction, line).await?);
            }
            let changed = sql::pipelined(&transaction, &all).await?;
            if nonce.is_some() && changed.first() == Some(&0) {
                return Err(StoreError::NonceUsed); // rolled back as `transaction` drops
            }
            transaction.commit().await.map_err(database)
        }
        .await;
        self.write_stats.committed(1, started.elapsed());
        match committed {
            Ok(()) => {
                self.refusals.stored(&refusals);
                self.appended.notify_one();
                Ok(())
            }
            Err(error) => {
                self.refusals.give_back(refusals);
                if let Some(nonce) = nonce.filter(|_| !matches!(error, StoreError::NonceUsed)) {
                    write_nonce::give_back(nonce);
                }
                Err(error)
            }
        }
    }
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn insert_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        accounts::insert(&transaction, &account, &key).await?;
        self.commit(transaction, &audit).await
    }

    async fn insert_first_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        lock(&transaction, "first account").await?;
        if accounts::count(&transaction).await? > 0 {
            return Ok(false);
        }
        accounts::insert(&transaction, &account, &key).await?;
        self.commit(transaction, &audit).await?;
        Ok(true)
    }

    async fn count_accounts(&self) -> Result<u64, StoreError> {
        accounts::count(&self.client().await?).await
    }

    async fn reset(&self, keep_account_id: &str, audit: AuditLine) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        for statement in super::RESET_STATEMENTS {
            let keep: &(dyn tokio_postgres::types::ToSql + Sync) = &keep_account_id;
            let parameters: &[&(dyn tokio_postgres::types::ToSql + Sync)] =
                if statement.contains("$1") {
                    &[keep]
                } else {
                    &[]
                };
            transaction
                .execute(statement, parameters)
                .await
                .map_err(database)?;
        }
        announce(&transaction, "load_balancers").await?;
        announce(&transaction, "ram").await?;
        self.commit(transaction, &audit).await?;
        self.feed.ram_changed();
        Ok(())
    }

    async fn accounts(
        &self,
        account_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        accounts::accounts(&self.client().await?, account_id, limit).await
    }

    async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyOwner>, StoreError> {
        accounts::find_access_key(&self.client().await?, access_key_id).await
    }

    async fn root_access_keys(&self, account_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        accounts::root_access_keys(&self.client().await?, account_id).await
    }
}

#[async_trait]
impl CertificateStore for PostgresStore {
    async fn insert_certificate(
        &self,
        certificate: Certificate,
        material: CertificateMaterial,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        // Without a quota to keep under its lock (and no refusals to store first), the one
        // statement is the whole transaction.
        let refusals = self.refusals.take();
        if quota.is_none() && refusals.is_empty() {
            let started = std::time::Instant::now();
            let nonce = write_nonce::take();
            let stored = async {
                let write =
                    certificates::upload(&client, &certificate, &material, &audit, nonce.as_ref())
                        .await?;
                sql::alone(&client, &write).await
            }
            .await;
            self.write_stats.committed(1, started.elapsed());
            return match stored {
                Ok(0) => Err(StoreError::NonceUsed),
                Ok(_) => {
                    self.appended.notify_one();
                    Ok(())
                }
                Err(error) => {
                    if let Some(nonce) = nonce {
                        write_nonce::give_back(nonce);
                    }
                    Err(error)
                }
            };
        }
        self.refusals.give_back(refusals);
        let transaction = client.transaction().await.map_err(database)?;
        certificates::check_quota_locked(&transaction, &certificate, quota).await?;
        // The nonce, if any, is claimed by the commit.
        let write =
            certificates::upload(&transaction, &certificate, &material, &audit, None).await?;
        self.commit_with(transaction, vec![write], None).await
    }

    async fn list_certificates(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        filter: &CertificateFilter,
    ) -> Result<Vec<Certificate>, StoreError> {
        certificates::list(&self.client().await?, scope, kind, filter).await
    }

    async fn delete_certificate(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        certificates::delete(&transaction, scope, kind, id).await?;
        self.commit(transaction, &audit).await
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
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        certificates::set_field(&transaction, scope, kind, id, field, value).await?;
        self.commit(transaction, &audit).await
    }

    async fn certificate_material(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
    ) -> Result<Option<CertificateMaterial>, StoreError> {
        certificates::material(&self.client().await?, scope, kind, id).await
    }

    async fn count_certificates(
        &self,
        before_ms: [i64; 2],
    ) -> Result<Vec<CertificateCount>, StoreError> {
        certificates::count(&self.client().await?, before_ms).await
    }

    async fn certificates_expiring_before(
        &self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<Certificate>, StoreError> {
        certificates::expiring_before(&self.client().await?, before_ms, limit).await
    }
}

#[async_trait]
impl TagStore for PostgresStore {
    async fn tag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        tags: Vec<Tag>,
        max_per_resource: u64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        tags::set(&transaction, scope, &ids, &tags, max_per_resource).await?;
        self.commit(transaction, &audit).await
    }

    async fn untag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        keys: Option<Vec<String>>,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        tags::remove(&transaction, scope, &ids, keys.as_deref()).await?;
        self.commit(transaction, &audit).await
    }

    async fn list_certificate_tags(
        &self,
        scope: &Scope,
        query: &TagQuery,
    ) -> Result<Vec<TaggedResource>, StoreError> {
        tags::list(&self.client().await?, scope, query).await
    }
}

#[async_trait]
impl KeyringStore for PostgresStore {
    async fn key_encryption_keys(&self) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
        keyring::all(&self.client().await?).await
    }

    async fn newest_key_encryption_key(&self) -> Result<Option<u32>, StoreError> {
        keyring::newest(&self.client().await?).await
    }

    async fn insert_key_encryption_key(
        &self,
        version: u32,
        wrapped: Vec<u8>,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        keyring::insert(&transaction, version, &wrapped).await?;
        announce(&transaction, "keyring").await?;
        self.commit(transaction, &audit).await
    }

    async fn sealed_values_below(
        &self,
        version: u32,
        limit: usize,
    ) -> Result<Vec<SealedValue>, StoreError> {
        keyring::sealed_below(&self.client().await?, version, limit).await
    }

    async fn count_sealed_values_below(&self, version: u32) -> Result<u64, StoreError> {
        keyring::count_below(&self.client().await?, version).await
    }

    async fn replace_sealed_values(
        &self,
        updates: Vec<SealedUpdate>,
        audit: AuditLine,
    ) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let applied = keyring::replace(&transaction, &updates).await?;
        self.commit(transaction, &audit).await?;
        Ok(applied)
    }

    fn keyring_epoch(&self) -> u64 {
        self.feed.keyring_epoch()
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn write_stats(&self) -> &WriteStats {
        &self.write_stats
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        // A fresh round trip on a pooled connection: unhealthy while the database is away.
        let client = self.client().await?;
        let probe = client.simple_query("SELECT 1");
        match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Ok(result) => result.map(|_| ()).map_err(database),
            Err(_) => Err(StoreError::Unavailable {
                what: "the database does not answer",
                detail: format!("no answer to a probe within {CONNECT_TIMEOUT:?}"),
            }),
        }
    }
}
