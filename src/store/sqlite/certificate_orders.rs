//! Certificate orders and ACME accounts: their SQL for SQLite.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::connection::Cached;
use super::{SqliteStore, writer};
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

fn from_document(text: String) -> rusqlite::Result<CertificateOrder> {
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, error.into())
    })
}

fn insert(
    db: &Connection,
    order: &CertificateOrder,
    key: Option<&Sealed>,
) -> Result<(), StoreError> {
    let inserted = db.execute_cached(
        "INSERT INTO certificate_orders (order_id, account_id, status, domain, created_ms, \
         next_attempt_ms, document, sealed_key, kek_version, challenge_token) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (order_id) DO NOTHING",
        params![
            order.order_id,
            order.account_id,
            order.status.as_str(),
            order.domain,
            order.created_ms,
            order.next_attempt_ms,
            document(order)?,
            key.map(Sealed::as_stored),
            key.map_or(0, Sealed::kek_version),
            order.challenge.as_ref().map(|challenge| &challenge.token),
        ],
    )?;
    match inserted {
        0 => Err(StoreError::Conflict("order id")),
        _ => Ok(()),
    }
}

fn get(
    db: &Connection,
    account_id: &str,
    order_id: i64,
) -> Result<Option<CertificateOrder>, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT document FROM certificate_orders WHERE account_id = ?1 AND order_id = ?2",
        )?
        .query_row(params![account_id, order_id], |row| {
            from_document(row.get(0)?)
        })
        .optional()?)
}

fn by_token(
    db: &Connection,
    account_id: &str,
    token: &str,
) -> Result<Option<CertificateOrder>, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT document FROM certificate_orders \
             WHERE account_id = ?1 AND challenge_token = ?2",
        )?
        .query_row(params![account_id, token], |row| from_document(row.get(0)?))
        .optional()?)
}

fn list(
    db: &Connection,
    account_id: &str,
    filter: &CertificateOrderFilter,
) -> Result<(Vec<CertificateOrder>, u64), StoreError> {
    let mut values: Vec<Value> = Vec::new();
    let condition = filters::certificate_orders(account_id, filter, &mut values);
    let total: i64 = db.query_row(
        &format!("SELECT COUNT(*) FROM certificate_orders WHERE {condition}"),
        params_from_iter(values.iter()),
        |row| row.get(0),
    )?;
    let sql = format!(
        "SELECT document FROM certificate_orders WHERE {condition} \
         ORDER BY created_ms DESC, order_id{}",
        filters::page(filter.page, filter.page_size)
    );
    let mut statement = db.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), |row| from_document(row.get(0)?))?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total as u64))
}

fn delete(
    db: &Connection,
    account_id: &str,
    order_id: i64,
    statuses: &[OrderStatus],
) -> Result<(), StoreError> {
    let Some(order) = get(db, account_id, order_id)? else {
        return Err(StoreError::NotFound(order_id.to_string()));
    };
    if !statuses.contains(&order.status) {
        return Err(StoreError::Stale);
    }
    db.execute_cached(
        "DELETE FROM certificate_orders WHERE account_id = ?1 AND order_id = ?2",
        params![account_id, order_id],
    )?;
    Ok(())
}

fn claim(
    db: &Connection,
    now_ms: i64,
    holder: &str,
    until_ms: i64,
) -> Result<Option<(CertificateOrder, Option<Sealed>)>, StoreError> {
    Ok(db
        .prepare_cached(
            "UPDATE certificate_orders SET lease_holder = ?2, lease_until_ms = ?3 \
             WHERE order_id = (SELECT order_id FROM certificate_orders \
                 WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?1 \
                 AND lease_until_ms < ?1 ORDER BY next_attempt_ms LIMIT 1) \
             RETURNING document, sealed_key",
        )?
        .query_row(params![now_ms, holder, until_ms], |row| {
            let key: Option<Vec<u8>> = row.get(1)?;
            Ok((from_document(row.get(0)?)?, key.map(Sealed::from_stored)))
        })
        .optional()?)
}

/// Writes what the lease holder did and releases the lease; `drop_key` forgets the order's key.
fn save(
    db: &Connection,
    order: &CertificateOrder,
    holder: &str,
    drop_key: bool,
) -> Result<(), StoreError> {
    let saved = db.execute_cached(
        "UPDATE certificate_orders SET status = ?3, next_attempt_ms = ?4, document = ?5, \
         lease_holder = NULL, lease_until_ms = 0, \
         sealed_key = CASE WHEN ?6 THEN NULL ELSE sealed_key END, not_after_ms = ?7 \
         WHERE order_id = ?1 AND lease_holder = ?2",
        params![
            order.order_id,
            holder,
            order.status.as_str(),
            order.next_attempt_ms,
            document(order)?,
            drop_key,
            order.issued.as_ref().map(|issued| issued.not_after_ms),
        ],
    )?;
    match saved {
        0 => Err(StoreError::Stale),
        _ => Ok(()),
    }
}

impl SqliteStore {
    /// A write without an audit line of its own (the issuance loop's steps).
    async fn write_unaudited<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, result) = writer::job(work, None);
        self.send(job, result).await
    }
}

#[async_trait]
impl CertificateOrderStore for SqliteStore {
    async fn insert_certificate_order(
        &self,
        order: CertificateOrder,
        key: Option<Sealed>,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| {
            if quota.is_some() {
                let open: i64 = db.query_row_cached(
                    &format!(
                        "SELECT COUNT(*) FROM certificate_orders \
                         WHERE account_id = ?1 AND status IN {OPEN_STATUSES}"
                    ),
                    params![order.account_id],
                    |row| row.get(0),
                )?;
                check_quota(quota, open)?;
            }
            insert(db, &order, key.as_ref())
        })
        .await
    }

    async fn certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
    ) -> Result<Option<CertificateOrder>, StoreError> {
        let account_id = account_id.to_owned();
        self.read(move |db| get(db, &account_id, order_id)).await
    }

    async fn certificate_order_by_token(
        &self,
        account_id: &str,
        token: &str,
    ) -> Result<Option<CertificateOrder>, StoreError> {
        let (account_id, token) = (account_id.to_owned(), token.to_owned());
        self.read(move |db| by_token(db, &account_id, &token)).await
    }

    async fn list_certificate_orders(
        &self,
        account_id: &str,
        filter: &CertificateOrderFilter,
    ) -> Result<(Vec<CertificateOrder>, u64), StoreError> {
        let (account_id, filter) = (account_id.to_owned(), filter.clone());
        self.read(move |db| list(db, &account_id, &filter)).await
    }

    async fn delete_certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
        statuses: &[OrderStatus],
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let (account_id, statuses) = (account_id.to_owned(), statuses.to_vec());
        self.write(audit, move |db| {
            delete(db, &account_id, order_id, &statuses)
        })
        .await
    }

    async fn cancel_certificate_order(
        &self,
        cancelled: CertificateOrder,
        now_ms: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| {
            let changed = db.execute_cached(
                "UPDATE certificate_orders SET status = ?4, document = ?5, \
                 next_attempt_ms = NULL, challenge_token = NULL, \
                 lease_holder = NULL, lease_until_ms = ?3 \
                 WHERE account_id = ?1 AND order_id = ?2 \
                 AND status IN ('domain_verify', 'process')",
                params![
                    cancelled.account_id,
                    cancelled.order_id,
                    now_ms,
                    cancelled.status.as_str(),
                    document(&cancelled)?
                ],
            )?;
            match changed {
                0 => Err(StoreError::Stale),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn claim_certificate_order(
        &self,
        now_ms: i64,
        holder: &str,
        until_ms: i64,
    ) -> Result<Option<(CertificateOrder, Option<Sealed>)>, StoreError> {
        let holder = holder.to_owned();
        self.write_unaudited(move |db| claim(db, now_ms, &holder, until_ms))
            .await
    }

    async fn save_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
    ) -> Result<(), StoreError> {
        let holder = holder.to_owned();
        self.write_unaudited(move |db| save(db, &order, &holder, false))
            .await
    }

    async fn issue_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let holder = holder.to_owned();
        self.write(audit, move |db| {
            save(db, &order, &holder, true)?;
            super::user_certificates::insert(db, &certificate, &material)
        })
        .await
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
        let holder = holder.map(str::to_owned);
        self.write(audit, move |db| {
            let marked = db.execute_cached(
                "UPDATE certificate_orders SET document = ?2, next_attempt_ms = ?3 \
                 WHERE order_id = ?1 AND status = 'certificate' \
                 AND (lease_until_ms < ?4 OR lease_holder = ?5)",
                params![
                    renewed.order_id,
                    document(&renewed)?,
                    renewed.next_attempt_ms,
                    now_ms,
                    holder
                ],
            )?;
            if marked == 0 {
                return Err(StoreError::Stale);
            }
            insert(db, &renewal, key.as_ref())
        })
        .await
    }

    async fn count_certificate_orders(&self) -> Result<OrderCounts, StoreError> {
        self.read(|db| {
            let mut statement = db.prepare_cached(
                "SELECT status, COUNT(*), MIN(next_attempt_ms) FROM certificate_orders GROUP BY status",
            )?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            Ok(OrderCounts::from_rows(
                rows.collect::<rusqlite::Result<Vec<_>>>()?,
            ))
        })
        .await
    }

    async fn acme_account(
        &self,
        account_id: &str,
        directory: &str,
    ) -> Result<Option<Sealed>, StoreError> {
        let (account_id, directory) = (account_id.to_owned(), directory.to_owned());
        self.read(move |db| {
            Ok(db
                .prepare_cached(
                    "SELECT sealed_credentials FROM acme_accounts \
                     WHERE account_id = ?1 AND directory_url = ?2",
                )?
                .query_row(params![account_id, directory], |row| {
                    Ok(Sealed::from_stored(row.get(0)?))
                })
                .optional()?)
        })
        .await
    }

    async fn insert_acme_account(
        &self,
        account_id: &str,
        directory: &str,
        credentials: Sealed,
        created_ms: i64,
    ) -> Result<(), StoreError> {
        let (account_id, directory) = (account_id.to_owned(), directory.to_owned());
        self.write_unaudited(move |db| {
            let inserted = db.execute_cached(
                "INSERT INTO acme_accounts (account_id, directory_url, sealed_credentials, \
                 kek_version, created_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account_id, directory_url) DO NOTHING",
                params![
                    account_id,
                    directory,
                    credentials.as_stored(),
                    credentials.kek_version(),
                    created_ms
                ],
            )?;
            match inserted {
                0 => Err(StoreError::Conflict("ACME account")),
                _ => Ok(()),
            }
        })
        .await
    }
}
