//! Server and CA certificates: metadata, PEM, sealed keys.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

use super::sql::Write;
use super::{Params, check_quota, column, database, json_list, unique_violation};
use crate::audit::AuditLine;
use crate::crypto::Sealed;
use crate::store::write_nonce::PendingNonce;
use crate::store::{
    AliCloudSource, Certificate, CertificateCount, CertificateField, CertificateFilter,
    CertificateKind, CertificateMaterial, Quota, Scope, StoreError, Tag,
};

const COLUMNS: &str = "c.id, c.account_id, c.region_id, c.name, c.resource_group_id, \
    c.fingerprint, c.common_name, c.subject_alternative_names, c.expire_ms, c.created_ms, \
    c.ali_cloud_certificate_id, c.ali_cloud_certificate_name, c.ali_cloud_region_id, \
    c.encryption_algorithm, c.encryption_key_length";

fn from_row(kind: CertificateKind, row: &Row) -> Result<Certificate, StoreError> {
    let names: String = column(row, 7)?;
    let ali_cloud_id: Option<String> = column(row, 10)?;
    let key_length: i64 = column(row, 14)?;
    Ok(Certificate {
        id: column(row, 0)?,
        kind,
        scope: Scope {
            account_id: column(row, 1)?,
            region_id: column(row, 2)?,
        },
        name: column(row, 3)?,
        resource_group_id: column(row, 4)?,
        fingerprint: column(row, 5)?,
        common_name: column(row, 6)?,
        subject_alternative_names: serde_json::from_str(&names).unwrap_or_default(),
        encryption_algorithm: column(row, 13)?,
        encryption_key_length: key_length as u32,
        expire_ms: column(row, 8)?,
        created_ms: column(row, 9)?,
        ali_cloud: match ali_cloud_id {
            Some(certificate_id) => Some(AliCloudSource {
                certificate_id,
                certificate_name: column::<Option<String>>(row, 11)?.unwrap_or_default(),
                region_id: column::<Option<String>>(row, 12)?.unwrap_or_default(),
            }),
            None => None,
        },
        tags: Vec::new(),
    })
}

/// Waits for the turn of uploads to `certificate`'s scope (on every node, until the commit)
/// and refuses one over `quota`. The lock and the count go in one round trip, prepared first so
/// that the server runs them in the order sent.
pub(super) async fn check_quota_locked(
    db: &Transaction<'_>,
    certificate: &Certificate,
    quota: Quota,
) -> Result<(), StoreError> {
    if quota.is_none() {
        return Ok(());
    }
    let scope = &certificate.scope;
    let kind = certificate.kind.as_str();
    let key = format!(
        "quota certificates {} {} {kind}",
        scope.account_id, scope.region_id
    );
    let locking = db
        .prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .await
        .map_err(database)?;
    let counting = db
        .prepare_cached(
            "SELECT COUNT(*) FROM certificates \
             WHERE account_id = $1 AND region_id = $2 AND kind = $3",
        )
        .await
        .map_err(database)?;
    let locked: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&key];
    let counted: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&scope.account_id, &scope.region_id, &kind];
    let (locked, used) = tokio::join!(
        db.execute(&locking, &locked),
        db.query_one(&counting, &counted)
    );
    locked.map_err(database)?;
    check_quota(quota, column(&used.map_err(database)?, 0)?)
}

/// An upload as one statement: the certificate, its tags, its sealed key and `audit`
/// (data-modifying CTEs), all stored or none. Alone it is its own transaction, and claims the
/// request's `nonce` too: on a replay it stores nothing and changes no row (else one).
pub(super) async fn upload(
    db: &impl GenericClient,
    certificate: &Certificate,
    material: &CertificateMaterial,
    audit: &AuditLine,
    nonce: Option<&PendingNonce>,
) -> Result<Write, StoreError> {
    let statement = db
        .prepare_cached(
            "WITH n AS (INSERT INTO used_nonces (access_key_id, nonce, expires_ms) \
                 SELECT $23, $24, $25 WHERE $23::text IS NOT NULL \
                 ON CONFLICT (access_key_id, nonce) DO UPDATE \
                 SET expires_ms = EXCLUDED.expires_ms WHERE used_nonces.expires_ms <= $26 \
                 RETURNING 1), \
             c AS (INSERT INTO certificates (id, kind, account_id, region_id, name, \
                 resource_group_id, fingerprint, common_name, subject_alternative_names, \
                 expire_ms, created_ms, ali_cloud_certificate_id, ali_cloud_certificate_name, \
                 ali_cloud_region_id, certificate_pem, encryption_algorithm, \
                 encryption_key_length) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17 WHERE $23::text IS NULL OR EXISTS (SELECT 1 FROM n) RETURNING id), \
             k AS (INSERT INTO certificate_keys (certificate_id, sealed_key, kek_version) \
                 SELECT id, $18, $19 FROM c WHERE $18::bytea IS NOT NULL), \
             t AS (INSERT INTO certificate_tags (certificate_id, tag_key, tag_value) \
                 SELECT c.id, x.k, x.v FROM c, unnest($20::text[], $21::text[]) AS x(k, v)), \
             a AS (INSERT INTO audit_records (line) SELECT $22 FROM c) \
             SELECT 1 FROM c",
        )
        .await
        .map_err(database)?;
    let scope = &certificate.scope;
    let source = certificate.ali_cloud.as_ref();
    let key = material.private_key.as_ref();
    let mut params = Params::default();
    for text in [
        &certificate.id,
        certificate.kind.as_str(),
        &scope.account_id,
        &scope.region_id,
        &certificate.name,
        &certificate.resource_group_id,
        &certificate.fingerprint,
        &certificate.common_name,
        &json_list(&certificate.subject_alternative_names),
    ] {
        params.push(text.to_owned());
    }
    params.push(certificate.expire_ms);
    params.push(certificate.created_ms);
    params.push(source.map(|s| s.certificate_id.clone()));
    params.push(source.map(|s| s.certificate_name.clone()));
    params.push(source.map(|s| s.region_id.clone()));
    params.push(material.certificate_pem.clone());
    params.push(certificate.encryption_algorithm.clone());
    params.push(i64::from(certificate.encryption_key_length));
    params.push(key.map(|key| key.as_stored().to_vec()));
    params.push(key.map(|key| i64::from(key.kek_version())));
    params.push(
        certificate
            .tags
            .iter()
            .map(|t| t.key.clone())
            .collect::<Vec<_>>(),
    );
    params.push(
        certificate
            .tags
            .iter()
            .map(|t| t.value.clone())
            .collect::<Vec<_>>(),
    );
    params.push(audit.clone());
    params.push(nonce.map(|n| n.nonce.access_key_id.clone()));
    params.push(nonce.map(|n| n.nonce.nonce.clone()));
    params.push(nonce.map(|n| n.nonce.expires_ms));
    params.push(nonce.map(|n| n.now_ms));
    Ok(Write {
        statement,
        params,
        failure: |error| match unique_violation(&error) {
            Some(_) => StoreError::Conflict("certificate"),
            None => database(error),
        },
    })
}

pub(super) async fn list(
    db: &impl GenericClient,
    scope: &Scope,
    kind: CertificateKind,
    filter: &CertificateFilter,
) -> Result<Vec<Certificate>, StoreError> {
    let mut params = Params::default();
    // Named certificates are looked up by ID first (a materialised CTE), whatever the
    // planner believes of the scope: before the first ANALYZE of a table filled quickly it
    // would walk the whole scope in upload order and filter by ID.
    let source = if filter.ids.is_empty() {
        "certificates".to_owned()
    } else {
        let ids = params.push(filter.ids.clone());
        format!(
            "(WITH named AS MATERIALIZED (SELECT * FROM certificates WHERE id = ANY({ids})) \
                 SELECT * FROM named)"
        )
    };
    // Each certificate's tags come with it, as [[key, value], ...] in key order.
    let mut sql = format!(
        "SELECT {COLUMNS}, (SELECT COALESCE(json_agg(json_build_array(t.tag_key, t.tag_value) \
         ORDER BY t.tag_key), '[]')::TEXT FROM certificate_tags t WHERE t.certificate_id = c.id) \
         FROM {source} c \
         WHERE c.account_id = {} AND c.region_id = {} AND c.kind = {}",
        params.push(scope.account_id.clone()),
        params.push(scope.region_id.clone()),
        params.push(kind.as_str().to_owned()),
    );
    if let Some(group) = &filter.resource_group_id {
        sql.push_str(&format!(
            " AND c.resource_group_id = {}",
            params.push(group.clone())
        ));
    }
    sql.push_str(&crate::store::filters::carries_all(
        &filter.tags,
        &mut params,
    ));
    sql.push_str(" ORDER BY c.seq");
    // The shapes of this query are few (a tag filter per tag, at most 20): each is prepared
    // once per connection.
    let statement = db.prepare_cached(&sql).await.map_err(database)?;
    let rows = db
        .query(&statement, &params.refs())
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            let mut certificate = from_row(kind, row)?;
            let tags: String = column(row, 15)?;
            let tags: Vec<(String, String)> = serde_json::from_str(&tags)
                .map_err(|error| StoreError::Database(format!("tags do not decode: {error}")))?;
            certificate.tags = tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect();
            Ok(certificate)
        })
        .collect()
}

pub(super) async fn expiring_before(
    db: &impl GenericClient,
    before_ms: i64,
    limit: usize,
) -> Result<Vec<Certificate>, StoreError> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS}, c.kind FROM certificates c WHERE c.expire_ms < $1 \
                 ORDER BY c.expire_ms, c.id LIMIT $2"
            ),
            &[&before_ms, &(limit as i64)],
        )
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            let kind: String = column(row, 15)?;
            from_row(
                CertificateKind::from_stored(&kind).unwrap_or(CertificateKind::Server),
                row,
            )
        })
        .collect()
}

pub(super) async fn count(
    db: &impl GenericClient,
    before_ms: [i64; 2],
) -> Result<Vec<CertificateCount>, StoreError> {
    let rows = db
        .query(
            "SELECT account_id, region_id, kind, COUNT(*), \
             COUNT(*) FILTER (WHERE expire_ms < $1), COUNT(*) FILTER (WHERE expire_ms < $2) \
             FROM certificates GROUP BY account_id, region_id, kind",
            &[&before_ms[0], &before_ms[1]],
        )
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            let kind: String = column(row, 2)?;
            let counts = [column(row, 3)?, column(row, 4)?, column(row, 5)?];
            Ok(CertificateCount::from_row(
                column(row, 0)?,
                column(row, 1)?,
                &kind,
                counts,
            ))
        })
        .collect()
}

pub(super) async fn delete(
    db: &Transaction<'_>,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
) -> Result<(), StoreError> {
    // The row is locked first: a binding committing meanwhile on another node is then either
    // seen below or waits for this delete and finds the certificate gone.
    let mine = db
        .query_opt(
            "SELECT 1 FROM certificates WHERE id = $1 AND account_id = $2 AND region_id = $3 \
             AND kind = $4 FOR UPDATE",
            &[&id, &scope.account_id, &scope.region_id, &kind.as_str()],
        )
        .await
        .map_err(database)?;
    if mine.is_none() {
        return Err(StoreError::NotFound(id.to_owned()));
    }
    let referenced = db
        .query_opt(
            "SELECT 1 FROM certificate_references WHERE certificate_id = $1 LIMIT 1",
            &[&id],
        )
        .await
        .map_err(database)?;
    if referenced.is_some() {
        return Err(StoreError::InUse(id.to_owned()));
    }
    let deleted = db
        .execute("DELETE FROM certificates WHERE id = $1", &[&id])
        .await
        .map_err(|error| {
            match super::violated(
                &error,
                &tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION,
            ) {
                Some(_) => StoreError::InUse(id.to_owned()),
                None => database(error),
            }
        })?;
    crate::store::changed_some(deleted as u64, id)
}

pub(super) async fn set_field(
    db: &Transaction<'_>,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
    field: CertificateField,
    value: &str,
) -> Result<(), StoreError> {
    let sql = match field {
        CertificateField::Name => {
            "UPDATE certificates SET name = $1 \
             WHERE id = $2 AND account_id = $3 AND region_id = $4 AND kind = $5"
        }
        CertificateField::ResourceGroup => {
            "UPDATE certificates SET resource_group_id = $1 \
             WHERE id = $2 AND account_id = $3 AND region_id = $4 AND kind = $5"
        }
    };
    let changed = db
        .execute(
            sql,
            &[
                &value,
                &id,
                &scope.account_id,
                &scope.region_id,
                &kind.as_str(),
            ],
        )
        .await
        .map_err(database)?;
    crate::store::changed_some(changed as u64, id)
}

pub(super) async fn material(
    db: &impl GenericClient,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
) -> Result<Option<CertificateMaterial>, StoreError> {
    let statement = db
        .prepare_cached(
            "SELECT c.certificate_pem, k.sealed_key FROM certificates c \
             LEFT JOIN certificate_keys k ON k.certificate_id = c.id \
             WHERE c.id = $1 AND c.account_id = $2 AND c.region_id = $3 AND c.kind = $4",
        )
        .await
        .map_err(database)?;
    let row = db
        .query_opt(
            &statement,
            &[&id, &scope.account_id, &scope.region_id, &kind.as_str()],
        )
        .await
        .map_err(database)?;
    row.map(|row| {
        Ok(CertificateMaterial {
            certificate_pem: column(&row, 0)?,
            private_key: column::<Option<Vec<u8>>>(&row, 1)?.map(Sealed::from_stored),
        })
    })
    .transpose()
}
