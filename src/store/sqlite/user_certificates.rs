//! Certificates of the SSL Certificates Service, per account.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::connection::Cached;
use super::{SqliteStore, json_list, unique};
use crate::audit::AuditLine;
use crate::crypto::Sealed;
use crate::store::{
    CertificateMaterial, StoreError, UserCertificate, UserCertificateFilter, UserCertificateStore,
    tags_from_json, tags_json,
};

const COLUMNS: &str = "cert_id, account_id, name, resource_group_id, fingerprint, common_name, \
    subject_alternative_names, issuer, serial_number, algorithm, not_before_ms, not_after_ms, \
    created_ms, tags, client_token";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserCertificate> {
    let names: String = row.get(6)?;
    let tags: String = row.get(13)?;
    Ok(UserCertificate {
        cert_id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        resource_group_id: row.get(3)?,
        fingerprint: row.get(4)?,
        common_name: row.get(5)?,
        subject_alternative_names: serde_json::from_str(&names).unwrap_or_default(),
        issuer: row.get(7)?,
        serial_number: row.get(8)?,
        algorithm: row.get(9)?,
        not_before_ms: row.get(10)?,
        not_after_ms: row.get(11)?,
        created_ms: row.get(12)?,
        tags: tags_from_json(&tags),
        client_token: row.get(14)?,
    })
}

pub(super) fn insert(
    db: &Connection,
    certificate: &UserCertificate,
    material: &CertificateMaterial,
) -> Result<(), StoreError> {
    // A retry that lost a race with its twin gets the twin's result, not NameRepeat.
    if let Some(token) = &certificate.client_token
        && by_client_token(db, &certificate.account_id, token)?.is_some()
    {
        return Err(StoreError::Conflict("client token"));
    }
    let taken: bool = db
        .prepare_cached("SELECT 1 FROM user_certificates WHERE account_id = ?1 AND name = ?2")?
        .exists(params![certificate.account_id, certificate.name])?;
    if taken {
        return Err(StoreError::Conflict("certificate name"));
    }
    let names = json_list(&certificate.subject_alternative_names);
    let tags = tags_json(&certificate.tags);
    let key = material
        .private_key
        .as_ref()
        .ok_or_else(|| StoreError::Database("a user certificate needs its key".into()))?;
    db.execute_cached(
        &format!(
            "INSERT INTO user_certificates ({COLUMNS}, certificate_pem, sealed_key, kek_version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ),
        params![
            certificate.cert_id,
            certificate.account_id,
            certificate.name,
            certificate.resource_group_id,
            certificate.fingerprint,
            certificate.common_name,
            names,
            certificate.issuer,
            certificate.serial_number,
            certificate.algorithm,
            certificate.not_before_ms,
            certificate.not_after_ms,
            certificate.created_ms,
            tags,
            certificate.client_token,
            material.certificate_pem,
            key.as_stored(),
            key.kek_version(),
        ],
    )
    .map_err(|error| {
        let taken_by = if error.to_string().contains("client_token") {
            "client token"
        } else {
            "certificate id"
        };
        unique(taken_by)(error)
    })?;
    Ok(())
}

/// The certificate the account's upload with `client_token` made, if any.
pub(super) fn by_client_token(
    db: &Connection,
    account_id: &str,
    client_token: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT cert_id FROM user_certificates WHERE account_id = ?1 AND client_token = ?2",
        )?
        .query_row(params![account_id, client_token], |row| row.get(0))
        .optional()?)
}

pub(super) fn get(
    db: &Connection,
    account_id: &str,
    cert_id: i64,
) -> Result<Option<(UserCertificate, CertificateMaterial)>, StoreError> {
    let found = db
        .query_row(
            &format!(
                "SELECT {COLUMNS}, certificate_pem, sealed_key FROM user_certificates \
                 WHERE account_id = ?1 AND cert_id = ?2"
            ),
            params![account_id, cert_id],
            |row| {
                let material = CertificateMaterial {
                    certificate_pem: row.get(15)?,
                    private_key: Some(Sealed::from_stored(row.get(16)?)),
                };
                Ok((from_row(row)?, material))
            },
        )
        .optional()?;
    Ok(found)
}

pub(super) fn list(
    db: &Connection,
    account_id: &str,
    filter: &UserCertificateFilter,
) -> Result<(Vec<UserCertificate>, u64), StoreError> {
    let mut values = vec![Value::Text(account_id.to_owned())];
    let mut condition = String::from("account_id = ?1");
    if let Some(keyword) = &filter.keyword {
        let escaped = keyword
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        values.push(Value::Text(format!("%{escaped}%")));
        let n = values.len();
        condition.push_str(&format!(
            " AND (name LIKE ?{n} ESCAPE '\\' OR common_name LIKE ?{n} ESCAPE '\\' \
             OR subject_alternative_names LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(group) = &filter.resource_group_id {
        values.push(Value::Text(group.clone()));
        condition.push_str(&format!(" AND resource_group_id = ?{}", values.len()));
    }
    if let Some(from) = filter.not_after_from {
        values.push(Value::Integer(from));
        condition.push_str(&format!(" AND not_after_ms >= ?{}", values.len()));
    }
    if let Some(until) = filter.not_after_until {
        values.push(Value::Integer(until));
        condition.push_str(&format!(" AND not_after_ms < ?{}", values.len()));
    }
    let total: i64 = db.query_row_cached(
        &format!("SELECT COUNT(*) FROM user_certificates WHERE {condition}"),
        params_from_iter(values.iter()),
        |row| row.get(0),
    )?;
    values.push(Value::Integer(filter.page_size as i64));
    values.push(Value::Integer(
        (filter.page.saturating_sub(1) * filter.page_size) as i64,
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM user_certificates WHERE {condition} ORDER BY seq LIMIT ?{} OFFSET ?{}",
        values.len() - 1,
        values.len()
    );
    let mut statement = db.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), from_row)?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total as u64))
}

pub(super) fn delete(db: &Connection, account_id: &str, cert_id: i64) -> Result<(), StoreError> {
    let deleted = db.execute_cached(
        "DELETE FROM user_certificates WHERE account_id = ?1 AND cert_id = ?2",
        params![account_id, cert_id],
    )?;
    crate::store::changed_some(deleted as u64, cert_id)
}

#[async_trait]
impl UserCertificateStore for SqliteStore {
    async fn insert_user_certificate(
        &self,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| insert(db, &certificate, &material))
            .await
    }

    async fn user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
    ) -> Result<Option<(UserCertificate, CertificateMaterial)>, StoreError> {
        let account_id = account_id.to_owned();
        self.read(move |db| get(db, &account_id, cert_id)).await
    }

    async fn user_certificate_by_client_token(
        &self,
        account_id: &str,
        client_token: &str,
    ) -> Result<Option<i64>, StoreError> {
        let (account_id, client_token) = (account_id.to_owned(), client_token.to_owned());
        self.read(move |db| by_client_token(db, &account_id, &client_token))
            .await
    }

    async fn list_user_certificates(
        &self,
        account_id: &str,
        filter: &UserCertificateFilter,
    ) -> Result<(Vec<UserCertificate>, u64), StoreError> {
        let (account_id, filter) = (account_id.to_owned(), filter.clone());
        self.read(move |db| list(db, &account_id, &filter)).await
    }

    async fn delete_user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let account_id = account_id.to_owned();
        self.write(audit, move |db| delete(db, &account_id, cert_id))
            .await
    }
}
