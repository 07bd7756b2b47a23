//! Certificate orders and ACME accounts: their SQL for PostgreSQL. A claim skips rows another
//! node holds locked, so that nodes never wait on each other's orders.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::{Params, PostgresStore, column, database, lock};
use crate::audit::AuditLine;
use crate::crypto::Sealed;
use crate::store::certificate_orders::OPEN_STATUSES;
use crate::store::certificate_orders::{
    CertificateOrder, CertificateOrderFilter, CertificateOrderStore, OrderCounts, OrderStatus,
};
use crate::store::{CertificateMaterial, Quota, StoreError, UserCertificate, check_quota, filters};

fn document(order: &CertificateOrder) -> Result<String, StoreError> {
    serde_json::to_string(order).map_err(|error| StoreError::Database(error.to_string()))
}

fn from_document(text: &str) -> Result<CertificateOrder, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Database(error.to_string()))
}

async fn get(
    db: &impl GenericClient,
    account_id: &str,
    order_id: i64,
) -> Result<Option<CertificateOrder>, StoreError> {
    let row = db
        .query_opt(
            "SELECT document FROM certificate_orders WHERE account_id = $1 AND order_id = $2",
            &[&account_id, &order_id],
        )
        .await
        .map_err(database)?;
    match row {
        Some(row) => Ok(Some(from_document(&column::<String>(&row, 0)?)?)),
        None => Ok(None),
    }
}

/// Writes what the lease holder did and releases the lease; `drop_key` forgets the order's key.
async fn save(
    db: &Transaction<'_>,
    order: &CertificateOrder,
    holder: &str,
    drop_key: bool,
) -> Result<(), StoreError> {
    let saved = db
        .execute(
            "UPDATE certificate_orders SET status = $3, next_attempt_ms = $4, document = $5, \
             lease_holder = NULL, lease_until_ms = 0, \
             sealed_key = CASE WHEN $6 THEN NULL ELSE sealed_key END, not_after_ms = $7 \
             WHERE order_id = $1 AND lease_holder = $2",
            &[
                &order.order_id,
                &holder,
                &order.status.as_str(),
                &order.next_attempt_ms,
                &document(order)?,
                &drop_key,
                &order.issued.as_ref().map(|issued| issued.not_after_ms),
            ],
        )
        .await
        .map_err(database)?;
    match saved {
        0 => Err(StoreError::Stale),
        _ => Ok(()),
    }
}

async fn insert(
    transaction: &Transaction<'_>,
    order: &CertificateOrder,
    key: Option<&Sealed>,
) -> Result<(), StoreError> {
    let inserted = transaction
        .execute(
            "INSERT INTO certificate_orders (order_id, account_id, status, domain, \
                 created_ms, next_attempt_ms, document, sealed_key, kek_version, \
                 challenge_token) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (order_id) DO NOTHING",
            &[
                &order.order_id,
                &order.account_id,
                &order.status.as_str(),
                &order.domain,
                &order.created_ms,
                &order.next_attempt_ms,
                &document(order)?,
                &key.map(Sealed::as_stored),
                &i64::from(key.map_or(0, Sealed::kek_version)),
                &order
                    .challenge
                    .as_ref()
                    .map(|challenge| challenge.token.as_str()),
            ],
        )
        .await
        .map_err(database)?;
    match inserted {
        0 => Err(StoreError::Conflict("order id")),
        _ => Ok(()),
    }
}

#[async_trait]
impl CertificateOrderStore for PostgresStore {
    async fn insert_certificate_order(
        &self,
        order: CertificateOrder,
        key: Option<Sealed>,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        if quota.is_some() {
            // One account's creations take turns on every node, so that the count holds.
            lock(
                &transaction,
                &format!("quota certificate orders {}", order.account_id),
            )
            .await?;
            let open = transaction
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FROM certificate_orders \
                         WHERE account_id = $1 AND status IN {OPEN_STATUSES}"
                    ),
                    &[&order.account_id],
                )
                .await
                .map_err(database)?;
            check_quota(quota, column(&open, 0)?)?;
        }
        insert(&transaction, &order, key.as_ref()).await?;
        self.commit(transaction, &audit).await
    }

    async fn certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
    ) -> Result<Option<CertificateOrder>, StoreError> {
        get(&self.client().await?, account_id, order_id).await
    }

    async fn certificate_order_by_token(
        &self,
        account_id: &str,
        token: &str,
    ) -> Result<Option<CertificateOrder>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT document FROM certificate_orders \
                 WHERE account_id = $1 AND challenge_token = $2",
                &[&account_id, &token],
            )
            .await
            .map_err(database)?;
        match row {
            Some(row) => Ok(Some(from_document(&column::<String>(&row, 0)?)?)),
            None => Ok(None),
        }
    }

    async fn list_certificate_orders(
        &self,
        account_id: &str,
        filter: &CertificateOrderFilter,
    ) -> Result<(Vec<CertificateOrder>, u64), StoreError> {
        let client = self.client().await?;
        let mut values = Params::default();
        let condition = filters::certificate_orders(account_id, filter, &mut values);
        let total: i64 = column(
            &client
                .query_one(
                    &format!("SELECT COUNT(*) FROM certificate_orders WHERE {condition}"),
                    &values.refs(),
                )
                .await
                .map_err(database)?,
            0,
        )?;
        let rows = client
            .query(
                &format!(
                    "SELECT document FROM certificate_orders WHERE {condition} \
                     ORDER BY created_ms DESC, order_id{}",
                    filters::page(filter.page, filter.page_size)
                ),
                &values.refs(),
            )
            .await
            .map_err(database)?;
        let orders = rows
            .iter()
            .map(|row| from_document(&column::<String>(row, 0)?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((orders, total as u64))
    }

    async fn delete_certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
        statuses: &[OrderStatus],
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let row = transaction
            .query_opt(
                "SELECT status FROM certificate_orders \
                 WHERE account_id = $1 AND order_id = $2 FOR UPDATE",
                &[&account_id, &order_id],
            )
            .await
            .map_err(database)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(order_id.to_string()));
        };
        let status = OrderStatus::from_stored(&column::<String>(&row, 0)?);
        if !status.is_some_and(|status| statuses.contains(&status)) {
            return Err(StoreError::Stale);
        }
        transaction
            .execute(
                "DELETE FROM certificate_orders WHERE account_id = $1 AND order_id = $2",
                &[&account_id, &order_id],
            )
            .await
            .map_err(database)?;
        self.commit(transaction, &audit).await
    }

    async fn cancel_certificate_order(
        &self,
        cancelled: CertificateOrder,
        now_ms: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let changed = transaction
            .execute(
                "UPDATE certificate_orders SET status = $4, document = $5, \
                 next_attempt_ms = NULL, challenge_token = NULL, \
                 lease_holder = NULL, lease_until_ms = $3 \
                 WHERE account_id = $1 AND order_id = $2 \
                 AND status IN ('domain_verify', 'process')",
                &[
                    &cancelled.account_id,
                    &cancelled.order_id,
                    &now_ms,
                    &cancelled.status.as_str(),
                    &document(&cancelled)?,
                ],
            )
            .await
            .map_err(database)?;
        if changed == 0 {
            return Err(StoreError::Stale);
        }
        self.commit(transaction, &audit).await
    }

    async fn claim_certificate_order(
        &self,
        now_ms: i64,
        holder: &str,
        until_ms: i64,
    ) -> Result<Option<(CertificateOrder, Option<Sealed>)>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "UPDATE certificate_orders SET lease_holder = $2, lease_until_ms = $3 \
                 WHERE order_id = (SELECT order_id FROM certificate_orders \
                     WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= $1 \
                     AND lease_until_ms < $1 ORDER BY next_attempt_ms LIMIT 1 \
                     FOR UPDATE SKIP LOCKED) \
                 RETURNING document, sealed_key",
                &[&now_ms, &holder, &until_ms],
            )
            .await
            .map_err(database)?;
        let Some(row) = row else { return Ok(None) };
        let key: Option<Vec<u8>> = column(&row, 1)?;
        Ok(Some((
            from_document(&column::<String>(&row, 0)?)?,
            key.map(Sealed::from_stored),
        )))
    }

    async fn save_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        save(&transaction, &order, holder, false).await?;
        transaction.commit().await.map_err(database)
    }

    async fn issue_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        save(&transaction, &order, holder, true).await?;
        super::user_certificates::insert(&transaction, &certificate, &material).await?;
        self.commit(transaction, &audit).await
    }

    async fn insert_renewal(
        &self,
        renewal: CertificateOrder,
        key: Option<Sealed>,
        renewed: CertificateOrder,
        holder: Option<&str>,
        now_ms: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let marked = transaction
            .execute(
                "UPDATE certificate_orders SET document = $2, next_attempt_ms = $3 \
                 WHERE order_id = $1 AND status = 'certificate' \
                 AND (lease_until_ms < $4 OR lease_holder = $5)",
                &[
                    &renewed.order_id,
                    &document(&renewed)?,
                    &renewed.next_attempt_ms,
                    &now_ms,
                    &holder,
                ],
            )
            .await
            .map_err(database)?;
        if marked == 0 {
            return Err(StoreError::Stale);
        }
        insert(&transaction, &renewal, key.as_ref()).await?;
        self.commit(transaction, &audit).await
    }

    async fn count_certificate_orders(&self) -> Result<OrderCounts, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT status, COUNT(*), MIN(next_attempt_ms) FROM certificate_orders GROUP BY status", &[])
            .await
            .map_err(database)?;
        let rows = rows
            .iter()
            .map(|row| Ok((column(row, 0)?, column(row, 1)?, column(row, 2)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(OrderCounts::from_rows(rows))
    }

    async fn acme_account(
        &self,
        account_id: &str,
        directory: &str,
    ) -> Result<Option<Sealed>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT sealed_credentials FROM acme_accounts \
                 WHERE account_id = $1 AND directory_url = $2",
                &[&account_id, &directory],
            )
            .await
            .map_err(database)?;
        row.map(|row| column::<Vec<u8>>(&row, 0).map(Sealed::from_stored))
            .transpose()
    }

    async fn insert_acme_account(
        &self,
        account_id: &str,
        directory: &str,
        credentials: Sealed,
        created_ms: i64,
    ) -> Result<(), StoreError> {
        let inserted = self
            .client()
            .await?
            .execute(
                "INSERT INTO acme_accounts (account_id, directory_url, sealed_credentials, \
                 kek_version, created_ms) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (account_id, directory_url) DO NOTHING",
                &[
                    &account_id,
                    &directory,
                    &credentials.as_stored(),
                    &i64::from(credentials.kek_version()),
                    &created_ms,
                ],
            )
            .await
            .map_err(database)?;
        match inserted {
            0 => Err(StoreError::Conflict("ACME account")),
            _ => Ok(()),
        }
    }
}
