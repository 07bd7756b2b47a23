//! Certificates of the SSL Certificates Service, per account.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

use super::{Params, PostgresStore, column, database, json_list, unique_violation};
use crate::audit::AuditLine;
use crate::crypto::Sealed;
use crate::store::{
    CertificateMaterial, StoreError, UserCertificate, UserCertificateFilter, UserCertificateStore,
    tags_from_json, tags_json,
};

const COLUMNS: &str = "cert_id, account_id, name, resource_group_id, fingerprint, common_name, \
    subject_alternative_names, issuer, serial_number, algorithm, not_before_ms, not_after_ms, \
    created_ms, tags, client_token";

fn from_row(row: &Row) -> Result<UserCertificate, StoreError> {
    let names: String = column(row, 6)?;
    let tags: String = column(row, 13)?;
    Ok(UserCertificate {
        cert_id: column(row, 0)?,
        account_id: column(row, 1)?,
        name: column(row, 2)?,
        resource_group_id: column(row, 3)?,
        fingerprint: column(row, 4)?,
        common_name: column(row, 5)?,
        subject_alternative_names: serde_json::from_str(&names).unwrap_or_default(),
        issuer: column(row, 7)?,
        serial_number: column(row, 8)?,
        algorithm: column(row, 9)?,
        not_before_ms: column(row, 10)?,
        not_after_ms: column(row, 11)?,
        created_ms: column(row, 12)?,
        tags: tags_from_json(&tags),
        client_token: column(row, 14)?,
    })
}

pub(super) async fn insert(
    db: &Transaction<'_>,
    certificate: &UserCertificate,
    material: &CertificateMaterial,
) -> Result<(), StoreError> {
    // A retry after its twin committed gets the twin's result, not NameRepeat.
    if let Some(token) = &certificate.client_token
        && by_client_token(db, &certificate.account_id, token)
            .await?
            .is_some()
    {
        return Err(StoreError::Conflict("client token"));
    }
    let names = json_list(&certificate.subject_alternative_names);
    let tags = tags_json(&certificate.tags);
    let key = material
        .private_key
        .as_ref()
        .ok_or_else(|| StoreError::Database("a user certificate needs its key".into()))?;
    // The unique constraints decide races between nodes: a name or client token taken by a
    // concurrent upload fails this insert, and the constraint says which.
    db.execute(
        &format!(
            "INSERT INTO user_certificates ({COLUMNS}, certificate_pem, sealed_key, kek_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ),
        &[
            &certificate.cert_id,
            &certificate.account_id,
            &certificate.name,
            &certificate.resource_group_id,
            &certificate.fingerprint,
            &certificate.common_name,
            &names,
            &certificate.issuer,
            &certificate.serial_number,
            &certificate.algorithm,
            &certificate.not_before_ms,
            &certificate.not_after_ms,
            &certificate.created_ms,
            &tags,
            &certificate.client_token,
            &material.certificate_pem,
            &key.as_stored(),
            &i64::from(key.kek_version()),
        ],
    )
    .await
    .map_err(|error| match unique_violation(&error).as_deref() {
        Some("user_certificates_by_client_token") => StoreError::Conflict("client token"),
        Some("user_certificates_name") => StoreError::Conflict("certificate name"),
        Some(_) => StoreError::Conflict("certificate id"),
        None => database(error),
    })?;
    Ok(())
}

/// The certificate the account's upload with `client_token` made, if any.
pub(super) async fn by_client_token(
    db: &impl GenericClient,
    account_id: &str,
    client_token: &str,
) -> Result<Option<i64>, StoreError> {
    let row = db
        .query_opt(
            "SELECT cert_id FROM user_certificates WHERE account_id = $1 AND client_token = $2",
            &[&account_id, &client_token],
        )
        .await
        .map_err(database)?;
    row.map(|row| column(&row, 0)).transpose()
}

pub(super) async fn get(
    db: &impl GenericClient,
    account_id: &str,
    cert_id: i64,
) -> Result<Option<(UserCertificate, CertificateMaterial)>, StoreError> {
    let row = db
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, certificate_pem, sealed_key FROM user_certificates \
                 WHERE account_id = $1 AND cert_id = $2"
            ),
            &[&account_id, &cert_id],
        )
        .await
        .map_err(database)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let material = CertificateMaterial {
        certificate_pem: column(&row, 15)?,
        private_key: Some(Sealed::from_stored(column(&row, 16)?)),
    };
    Ok(Some((from_row(&row)?, material)))
}

pub(super) async fn list(
    db: &impl GenericClient,
    account_id: &str,
    filter: &UserCertificateFilter,
) -> Result<(Vec<UserCertificate>, u64), StoreError> {
    let mut params = Params::default();
    let mut condition = format!("account_id = {}", params.push(account_id.to_owned()));
    if let Some(keyword) = &filter.keyword {
        let escaped = keyword
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let n = params.push(format!("%{escaped}%"));
        // ILIKE: SQLite's LIKE ignores (ASCII) case too.
        condition.push_str(&format!(
            " AND (name ILIKE {n} ESCAPE '\\' OR common_name ILIKE {n} ESCAPE '\\' \
             OR subject_alternative_names ILIKE {n} ESCAPE '\\')"
        ));
    }
    if let Some(group) = &filter.resource_group_id {
        condition.push_str(&format!(
            " AND resource_group_id = {}",
            params.push(group.clone())
        ));
    }
    if let Some(from) = filter.not_after_from {
        condition.push_str(&format!(" AND not_after_ms >= {}", params.push(from)));
    }
    if let Some(until) = filter.not_after_until {
        condition.push_str(&format!(" AND not_after_ms < {}", params.push(until)));
    }
    let total = db
        .query_one(
            &format!("SELECT COUNT(*) FROM user_certificates WHERE {condition}"),
            &params.refs(),
        )
        .await
        .map_err(database)?;
    let total: i64 = column(&total, 0)?;
    let limit = params.push(filter.page_size as i64);
    let offset = params.push((filter.page.saturating_sub(1) * filter.page_size) as i64);
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM user_certificates WHERE {condition} \
                 ORDER BY seq LIMIT {limit} OFFSET {offset}"
            ),
            &params.refs(),
        )
        .await
        .map_err(database)?;
    let certificates = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    Ok((certificates, total as u64))
}

pub(super) async fn delete(
    db: &Transaction<'_>,
    account_id: &str,
    cert_id: i64,
) -> Result<(), StoreError> {
    let deleted = db
        .execute(
            "DELETE FROM user_certificates WHERE account_id = $1 AND cert_id = $2",
            &[&account_id, &cert_id],
        )
        .await
        .map_err(database)?;
    crate::store::changed_some(deleted as u64, cert_id)
}

#[async_trait]
impl UserCertificateStore for PostgresStore {
    async fn insert_user_certificate(
        &self,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        insert(&transaction, &certificate, &material).await?;
        self.commit(transaction, &audit).await
    }

    async fn user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
    ) -> Result<Option<(UserCertificate, CertificateMaterial)>, StoreError> {
        get(&self.client().await?, account_id, cert_id).await
    }

    async fn user_certificate_by_client_token(
        &self,
        account_id: &str,
        client_token: &str,
    ) -> Result<Option<i64>, StoreError> {
        by_client_token(&self.client().await?, account_id, client_token).await
    }

    async fn list_user_certificates(
        &self,
        account_id: &str,
        filter: &UserCertificateFilter,
    ) -> Result<(Vec<UserCertificate>, u64), StoreError> {
        list(&self.client().await?, account_id, filter).await
    }

    async fn delete_user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        delete(&transaction, account_id, cert_id).await?;
        self.commit(transaction, &audit).await
    }
}
