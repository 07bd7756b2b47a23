//! The keyring of KEKs, and the sealed values `keys rewrap` moves to the newest one.

use super::connection::Cached;
use rusqlite::{Connection, params};

use super::unique;
use crate::clock;
use crate::crypto::{Binding, Sealed};
use crate::store::{SealedUpdate, SealedValue, StoreError};

pub(super) fn all(db: &Connection) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
    let mut statement =
        db.prepare("SELECT version, wrapped FROM key_encryption_keys ORDER BY version")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn newest(db: &Connection) -> Result<Option<u32>, StoreError> {
    Ok(
        db.query_row_cached("SELECT MAX(version) FROM key_encryption_keys", [], |row| {
            row.get(0)
        })?,
    )
}

pub(super) fn insert(db: &Connection, version: u32, wrapped: &[u8]) -> Result<(), StoreError> {
    db.execute_cached(
        "INSERT INTO key_encryption_keys (version, wrapped, created_ms) VALUES (?1, ?2, ?3)",
        params![version, wrapped, clock::unix_ms(clock::now())],
    )
    .map_err(unique("key encryption key"))?;
    Ok(())
}

pub(super) fn count_below(db: &Connection, version: u32) -> Result<u64, StoreError> {
    let count: i64 = db.query_row_cached(
        "SELECT (SELECT COUNT(*) FROM access_keys WHERE kek_version < ?1) \
              + (SELECT COUNT(*) FROM certificate_keys WHERE kek_version < ?1) \
              + (SELECT COUNT(*) FROM user_certificates WHERE kek_version < ?1) \
              + (SELECT COUNT(*) FROM certificate_orders \
                 WHERE sealed_key IS NOT NULL AND kek_version < ?1) \
              + (SELECT COUNT(*) FROM acme_accounts WHERE kek_version < ?1)",
        params![version],
        |row| row.get(0),
    )?;
    Ok(count as u64)
}

pub(super) fn sealed_below(
    db: &Connection,
    version: u32,
    limit: usize,
) -> Result<Vec<SealedValue>, StoreError> {
    let mut values = Vec::new();
    let mut access_keys = db.prepare_cached(
        "SELECT access_key_id, sealed_secret FROM access_keys WHERE kek_version < ?1 LIMIT ?2",
    )?;
    let rows = access_keys.query_map(params![version, limit as i64], |row| {
        Ok(SealedValue {
            binding: Binding::AccessKeySecret {
                access_key_id: row.get(0)?,
            },
            sealed: Sealed::from_stored(row.get(1)?),
        })
    })?;
    values.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    let mut keys = db.prepare_cached(
        "SELECT c.account_id, c.region_id, c.id, k.sealed_key FROM certificate_keys k \
         JOIN certificates c ON c.id = k.certificate_id WHERE k.kek_version < ?1 LIMIT ?2",
    )?;
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = keys.query_map(params![version, left], |row| {
        Ok(SealedValue {
            binding: Binding::CertificateKey {
                account_id: row.get(0)?,
                region_id: row.get(1)?,
                certificate_id: row.get(2)?,
            },
            sealed: Sealed::from_stored(row.get(3)?),
        })
    })?;
    values.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    let mut user = db.prepare_cached(
        "SELECT account_id, cert_id, sealed_key FROM user_certificates WHERE kek_version < ?1 LIMIT ?2",
    )?;
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = user.query_map(params![version, left], |row| {
        Ok(SealedValue {
            binding: Binding::UserCertificateKey {
                account_id: row.get(0)?,
                cert_id: row.get(1)?,
            },
            sealed: Sealed::from_stored(row.get(2)?),
        })
    })?;
    values.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    let mut orders = db.prepare_cached(
        "SELECT account_id, order_id, sealed_key FROM certificate_orders \
         WHERE sealed_key IS NOT NULL AND kek_version < ?1 LIMIT ?2",
    )?;
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = orders.query_map(params![version, left], |row| {
        Ok(SealedValue {
            binding: Binding::CertificateOrderKey {
                account_id: row.get(0)?,
                order_id: row.get(1)?,
            },
            sealed: Sealed::from_stored(row.get(2)?),
        })
    })?;
    values.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    let mut acme = db.prepare_cached(
        "SELECT account_id, directory_url, sealed_credentials FROM acme_accounts \
         WHERE kek_version < ?1 LIMIT ?2",
    )?;
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = acme.query_map(params![version, left], |row| {
        Ok(SealedValue {
            binding: Binding::AcmeAccount {
                account_id: row.get(0)?,
                directory_url: row.get(1)?,
            },
            sealed: Sealed::from_stored(row.get(2)?),
        })
    })?;
    values.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    Ok(values)
}

/// Compare-and-swap per value: one deleted or re-sealed meanwhile is left alone.
pub(super) fn replace(db: &Connection, updates: &[SealedUpdate]) -> Result<usize, StoreError> {
    let mut applied = 0;
    for update in updates {
        let (new, old, version) = (
            update.new.as_stored(),
            update.old.as_stored(),
            update.new.kek_version(),
        );
        applied += match &update.binding {
            Binding::AccessKeySecret { access_key_id } => db.execute_cached(
                "UPDATE access_keys SET sealed_secret = ?1, kek_version = ?2 \
                 WHERE access_key_id = ?3 AND sealed_secret = ?4",
                params![new, version, access_key_id, old],
            )?,
            Binding::CertificateKey { certificate_id, .. } => db.execute_cached(
                "UPDATE certificate_keys SET sealed_key = ?1, kek_version = ?2 \
                 WHERE certificate_id = ?3 AND sealed_key = ?4",
                params![new, version, certificate_id, old],
            )?,
            Binding::UserCertificateKey {
                account_id,
                cert_id,
            } => db.execute_cached(
                "UPDATE user_certificates SET sealed_key = ?1, kek_version = ?2 \
                 WHERE account_id = ?3 AND cert_id = ?4 AND sealed_key = ?5",
                params![new, version, account_id, cert_id, old],
            )?,
            Binding::CertificateOrderKey {
                account_id,
                order_id,
            } => db.execute_cached(
                "UPDATE certificate_orders SET sealed_key = ?1, kek_version = ?2 \
                 WHERE account_id = ?3 AND order_id = ?4 AND sealed_key = ?5",
                params![new, version, account_id, order_id, old],
            )?,
            Binding::AcmeAccount {
                account_id,
                directory_url,
            } => db.execute_cached(
                "UPDATE acme_accounts SET sealed_credentials = ?1, kek_version = ?2 \
                 WHERE account_id = ?3 AND directory_url = ?4 AND sealed_credentials = ?5",
                params![new, version, account_id, directory_url, old],
            )?,
        };
    }
    Ok(applied)
}
