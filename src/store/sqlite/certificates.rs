//! Server and CA certificates: metadata, PEM, sealed keys.

use super::connection::Cached;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{check_quota, json_list, tags, unique};
use crate::crypto::Sealed;
use crate::store::filters;
use crate::store::{
    AliCloudSource, Certificate, CertificateCount, CertificateField, CertificateFilter,
    CertificateKind, CertificateMaterial, Quota, Scope, StoreError,
};

const COLUMNS: &str = "c.id, c.account_id, c.region_id, c.name, c.resource_group_id, \
    c.fingerprint, c.common_name, c.subject_alternative_names, c.expire_ms, c.created_ms, \
    c.ali_cloud_certificate_id, c.ali_cloud_certificate_name, c.ali_cloud_region_id, \
    c.encryption_algorithm, c.encryption_key_length";

fn from_row(kind: CertificateKind, row: &rusqlite::Row<'_>) -> rusqlite::Result<Certificate> {
    let names: String = row.get(7)?;
    let ali_cloud_id: Option<String> = row.get(10)?;
    Ok(Certificate {
        id: row.get(0)?,
        kind,
        scope: Scope {
            account_id: row.get(1)?,
            region_id: row.get(2)?,
        },
        name: row.get(3)?,
        resource_group_id: row.get(4)?,
        fingerprint: row.get(5)?,
        common_name: row.get(6)?,
        subject_alternative_names: serde_json::from_str(&names).unwrap_or_default(),
        encryption_algorithm: row.get(13)?,
        encryption_key_length: row.get(14)?,
        expire_ms: row.get(8)?,
        created_ms: row.get(9)?,
        ali_cloud: match ali_cloud_id {
            Some(certificate_id) => Some(AliCloudSource {
                certificate_id,
                certificate_name: row.get::<_, Option<String>>(11)?.unwrap_or_default(),
                region_id: row.get::<_, Option<String>>(12)?.unwrap_or_default(),
            }),
            None => None,
        },
        tags: Vec::new(),
    })
}

pub(super) fn insert(
    db: &Connection,
    certificate: &Certificate,
    material: &CertificateMaterial,
    quota: Quota,
) -> Result<(), StoreError> {
    let scope = &certificate.scope;
    let kind = certificate.kind.as_str();
    check_quota(
        db,
        quota,
        "SELECT COUNT(*) FROM certificates WHERE account_id = ?1 AND region_id = ?2 AND kind = ?3",
        params![scope.account_id, scope.region_id, kind],
    )?;
    let names = json_list(&certificate.subject_alternative_names);
    let source = certificate.ali_cloud.as_ref();
    db.execute_cached(
        "INSERT INTO certificates (id, kind, account_id, region_id, name, resource_group_id, \
         fingerprint, common_name, subject_alternative_names, expire_ms, created_ms, \
         ali_cloud_certificate_id, ali_cloud_certificate_name, ali_cloud_region_id, certificate_pem, \
         encryption_algorithm, encryption_key_length) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            certificate.id,
            kind,
            scope.account_id,
            scope.region_id,
            certificate.name,
            certificate.resource_group_id,
            certificate.fingerprint,
            certificate.common_name,
            names,
            certificate.expire_ms,
            certificate.created_ms,
            source.map(|s| &s.certificate_id),
            source.map(|s| &s.certificate_name),
            source.map(|s| &s.region_id),
            material.certificate_pem,
            certificate.encryption_algorithm,
            certificate.encryption_key_length,
        ],
    )
    .map_err(unique("certificate"))?;
    for tag in &certificate.tags {
        db.execute_cached(
            "INSERT INTO certificate_tags (certificate_id, tag_key, tag_value) VALUES (?1, ?2, ?3)",
            params![certificate.id, tag.key, tag.value],
        )?;
    }
    if let Some(key) = &material.private_key {
        db.execute_cached(
            "INSERT INTO certificate_keys (certificate_id, sealed_key, kek_version) \
             VALUES (?1, ?2, ?3)",
            params![certificate.id, key.as_stored(), key.kek_version()],
        )?;
    }
    Ok(())
}

pub(super) fn list(
    db: &Connection,
    scope: &Scope,
    kind: CertificateKind,
    filter: &CertificateFilter,
) -> Result<Vec<Certificate>, StoreError> {
    let mut values = vec![
        Value::Text(scope.account_id.clone()),
        Value::Text(scope.region_id.clone()),
        Value::Text(kind.as_str().into()),
    ];
    let mut sql = format!(
        "SELECT {COLUMNS} FROM certificates c \
         WHERE c.account_id = ?1 AND c.region_id = ?2 AND c.kind = ?3"
    );
    if !filter.ids.is_empty() {
        sql.push_str(&format!(
            " AND c.id IN ({})",
            filters::placeholders(&filter.ids, &mut values)
        ));
    }
    if let Some(group) = &filter.resource_group_id {
        values.push(Value::Text(group.clone()));
        sql.push_str(&format!(" AND c.resource_group_id = ?{}", values.len()));
    }
    sql.push_str(&filters::carries_all(&filter.tags, &mut values));
    sql.push_str(" ORDER BY c.seq");
    let mut statement = db.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values), |row| from_row(kind, row))?;
    let mut certificates = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let ids: Vec<String> = certificates.iter().map(|c| c.id.clone()).collect();
    let mut tags = tags::of(db, &ids)?;
    for certificate in &mut certificates {
        certificate.tags = tags.remove(&certificate.id).unwrap_or_default();
    }
    Ok(certificates)
}

pub(super) fn expiring_before(
    db: &Connection,
    before_ms: i64,
    limit: usize,
) -> Result<Vec<Certificate>, StoreError> {
    let mut statement = db.prepare_cached(&format!(
        "SELECT {COLUMNS}, c.kind FROM certificates c WHERE c.expire_ms < ?1 \
         ORDER BY c.expire_ms, c.id LIMIT ?2"
    ))?;
    let rows = statement.query_map(params![before_ms, limit as i64], |row| {
        let kind: String = row.get(15)?;
        from_row(
            CertificateKind::from_stored(&kind).unwrap_or(CertificateKind::Server),
            row,
        )
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn count(
    db: &Connection,
    before_ms: [i64; 2],
) -> Result<Vec<CertificateCount>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT account_id, region_id, kind, COUNT(*), \
         COUNT(*) FILTER (WHERE expire_ms < ?1), COUNT(*) FILTER (WHERE expire_ms < ?2) \
         FROM certificates GROUP BY account_id, region_id, kind",
    )?;
    let rows = statement.query_map(params![before_ms[0], before_ms[1]], |row| {
        let kind: String = row.get(2)?;
        let counts = [row.get(3)?, row.get(4)?, row.get(5)?];
        Ok(CertificateCount::from_row(
            row.get(0)?,
            row.get(1)?,
            &kind,
            counts,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn delete(
    db: &Connection,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
) -> Result<(), StoreError> {
    // A certificate that is not in the scope is missing, even if named elsewhere.
    let referenced = db
        .prepare_cached(
            "SELECT 1 FROM certificates c JOIN certificate_references r ON r.certificate_id = c.id \
             WHERE c.id = ?1 AND c.account_id = ?2 AND c.region_id = ?3 AND c.kind = ?4",
        )?
        .exists(params![
            id,
            scope.account_id,
            scope.region_id,
            kind.as_str()
        ])?;
    if referenced {
        return Err(StoreError::InUse(id.to_owned()));
    }
    // Tags and the key go with it (ON DELETE CASCADE).
    let deleted = db.execute_cached(
        "DELETE FROM certificates WHERE id = ?1 AND account_id = ?2 AND region_id = ?3 AND kind = ?4",
        params![id, scope.account_id, scope.region_id, kind.as_str()],
    )?;
    crate::store::changed_some(deleted as u64, id)
}

pub(super) fn set_field(
    db: &Connection,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
    field: CertificateField,
    value: &str,
) -> Result<(), StoreError> {
    let sql = match field {
        CertificateField::Name => {
            "UPDATE certificates SET name = ?1 \
             WHERE id = ?2 AND account_id = ?3 AND region_id = ?4 AND kind = ?5"
        }
        CertificateField::ResourceGroup => {
            "UPDATE certificates SET resource_group_id = ?1 \
             WHERE id = ?2 AND account_id = ?3 AND region_id = ?4 AND kind = ?5"
        }
    };
    let changed = db.execute_cached(
        sql,
        params![value, id, scope.account_id, scope.region_id, kind.as_str()],
    )?;
    crate::store::changed_some(changed as u64, id)
}

pub(super) fn material(
    db: &Connection,
    scope: &Scope,
    kind: CertificateKind,
    id: &str,
) -> Result<Option<CertificateMaterial>, StoreError> {
    let material = db
        .query_row_cached(
            "SELECT c.certificate_pem, k.sealed_key FROM certificates c \
             LEFT JOIN certificate_keys k ON k.certificate_id = c.id \
             WHERE c.id = ?1 AND c.account_id = ?2 AND c.region_id = ?3 AND c.kind = ?4",
            params![id, scope.account_id, scope.region_id, kind.as_str()],
            |row| {
                Ok(CertificateMaterial {
                    certificate_pem: row.get(0)?,
                    private_key: row.get::<_, Option<Vec<u8>>>(1)?.map(Sealed::from_stored),
                })
            },
        )
        .optional()?;
    Ok(material)
}

/// Fills the key algorithm and size of certificates stored before they were kept, from their
/// PEM (migration 2 added the columns empty).
pub(super) fn backfill_encryption(db: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(String, String)> = db
        .prepare("SELECT id, certificate_pem FROM certificates WHERE encryption_algorithm = ''")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, pem) in rows {
        let Some((algorithm, bits)) = crate::pki::leaf_encryption(&pem) else {
            continue;
        };
        db.execute_cached(
            "UPDATE certificates SET encryption_algorithm = ?1, encryption_key_length = ?2 \
             WHERE id = ?3",
            params![algorithm, bits, id],
        )?;
    }
    Ok(())
}
