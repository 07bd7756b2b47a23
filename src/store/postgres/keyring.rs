//! The keyring of KEKs, and the sealed values `keys rewrap` moves to the newest one.

use deadpool_postgres::{GenericClient, Transaction};

use super::{column, database, unique_violation};
use crate::crypto::{Binding, Sealed};
use crate::store::{SealedUpdate, SealedValue, StoreError};

pub(super) async fn all(db: &impl GenericClient) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
    let rows = db
        .query(
            "SELECT version, wrapped FROM key_encryption_keys ORDER BY version",
            &[],
        )
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| Ok((column::<i64>(row, 0)? as u32, column(row, 1)?)))
        .collect()
}

pub(super) async fn newest(db: &impl GenericClient) -> Result<Option<u32>, StoreError> {
    let statement = db
        .prepare_cached("SELECT MAX(version) FROM key_encryption_keys")
        .await
        .map_err(database)?;
    let row = db.query_one(&statement, &[]).await.map_err(database)?;
    Ok(column::<Option<i64>>(&row, 0)?.map(|version| version as u32))
}

pub(super) async fn insert(
    db: &Transaction<'_>,
    version: u32,
    wrapped: &[u8],
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO key_encryption_keys (version, wrapped, created_ms) VALUES ($1, $2, $3)",
        &[
            &i64::from(version),
            &wrapped,
            &crate::clock::unix_ms(crate::clock::now()),
        ],
    )
    .await
    .map_err(|error| match unique_violation(&error) {
        Some(_) => StoreError::Conflict("key encryption key"),
        None => database(error),
    })?;
    Ok(())
}

pub(super) async fn count_below(db: &impl GenericClient, version: u32) -> Result<u64, StoreError> {
    let row = db
        .query_one(
            "SELECT (SELECT COUNT(*) FROM access_keys WHERE kek_version < $1) \
                  + (SELECT COUNT(*) FROM certificate_keys WHERE kek_version < $1) \
                  + (SELECT COUNT(*) FROM user_certificates WHERE kek_version < $1) \
                  + (SELECT COUNT(*) FROM certificate_orders \
                     WHERE sealed_key IS NOT NULL AND kek_version < $1) \
                  + (SELECT COUNT(*) FROM acme_accounts WHERE kek_version < $1)",
            &[&i64::from(version)],
        )
        .await
        .map_err(database)?;
    Ok(column::<i64>(&row, 0)? as u64)
}

pub(super) async fn sealed_below(
    db: &impl GenericClient,
    version: u32,
    limit: usize,
) -> Result<Vec<SealedValue>, StoreError> {
    let version = i64::from(version);
    let mut values = Vec::new();
    let rows = db
        .query(
            "SELECT access_key_id, sealed_secret FROM access_keys WHERE kek_version < $1 LIMIT $2",
            &[&version, &(limit as i64)],
        )
        .await
        .map_err(database)?;
    for row in rows {
        values.push(SealedValue {
            binding: Binding::AccessKeySecret {
                access_key_id: column(&row, 0)?,
            },
            sealed: Sealed::from_stored(column(&row, 1)?),
        });
    }
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = db
        .query(
            "SELECT c.account_id, c.region_id, c.id, k.sealed_key FROM certificate_keys k \
             JOIN certificates c ON c.id = k.certificate_id WHERE k.kek_version < $1 LIMIT $2",
            &[&version, &left],
        )
        .await
        .map_err(database)?;
    for row in rows {
        values.push(SealedValue {
            binding: Binding::CertificateKey {
                account_id: column(&row, 0)?,
                region_id: column(&row, 1)?,
                certificate_id: column(&row, 2)?,
            },
            sealed: Sealed::from_stored(column(&row, 3)?),
        });
    }
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = db
        .query(
            "SELECT account_id, cert_id, sealed_key FROM user_certificates \
             WHERE kek_version < $1 LIMIT $2",
            &[&version, &left],
        )
        .await
        .map_err(database)?;
    for row in rows {
        values.push(SealedValue {
            binding: Binding::UserCertificateKey {
                account_id: column(&row, 0)?,
                cert_id: column(&row, 1)?,
            },
            sealed: Sealed::from_stored(column(&row, 2)?),
        });
    }
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = db
        .query(
            "SELECT account_id, order_id, sealed_key FROM certificate_orders \
             WHERE sealed_key IS NOT NULL AND kek_version < $1 LIMIT $2",
            &[&version, &left],
        )
        .await
        .map_err(database)?;
    for row in rows {
        values.push(SealedValue {
            binding: Binding::CertificateOrderKey {
                account_id: column(&row, 0)?,
                order_id: column(&row, 1)?,
            },
            sealed: Sealed::from_stored(column(&row, 2)?),
        });
    }
    let left = limit.saturating_sub(values.len()) as i64;
    let rows = db
        .query(
            "SELECT account_id, directory_url, sealed_credentials FROM acme_accounts \
             WHERE kek_version < $1 LIMIT $2",
            &[&version, &left],
        )
        .await
        .map_err(database)?;
    for row in rows {
        values.push(SealedValue {
            binding: Binding::AcmeAccount {
                account_id: column(&row, 0)?,
                directory_url: column(&row, 1)?,
            },
            sealed: Sealed::from_stored(column(&row, 2)?),
        });
    }
    Ok(values)
}

/// Compare-and-swap per value: one deleted or re-sealed meanwhile is left alone.
pub(super) async fn replace(
    db: &Transaction<'_>,
    updates: &[SealedUpdate],
) -> Result<usize, StoreError> {
    let mut applied = 0;
    for update in updates {
        let (new, old, version) = (
            update.new.as_stored(),
            update.old.as_stored(),
            i64::from(update.new.kek_version()),
        );
        let changed = match &update.binding {
            Binding::AccessKeySecret { access_key_id } => {
                db.execute(
                    "UPDATE access_keys SET sealed_secret = $1, kek_version = $2 \
                     WHERE access_key_id = $3 AND sealed_secret = $4",
                    &[&new, &version, access_key_id, &old],
                )
                .await
            }
            Binding::CertificateKey { certificate_id, .. } => {
                db.execute(
                    "UPDATE certificate_keys SET sealed_key = $1, kek_version = $2 \
                     WHERE certificate_id = $3 AND sealed_key = $4",
                    &[&new, &version, certificate_id, &old],
                )
                .await
            }
            Binding::UserCertificateKey {
                account_id,
                cert_id,
            } => {
                db.execute(
                    "UPDATE user_certificates SET sealed_key = $1, kek_version = $2 \
                     WHERE account_id = $3 AND cert_id = $4 AND sealed_key = $5",
                    &[&new, &version, account_id, cert_id, &old],
                )
                .await
            }
            Binding::CertificateOrderKey {
                account_id,
                order_id,
            } => {
                db.execute(
                    "UPDATE certificate_orders SET sealed_key = $1, kek_version = $2 \
                     WHERE account_id = $3 AND order_id = $4 AND sealed_key = $5",
                    &[&new, &version, account_id, order_id, &old],
                )
                .await
            }
            Binding::AcmeAccount {
                account_id,
                directory_url,
            } => {
                db.execute(
                    "UPDATE acme_accounts SET sealed_credentials = $1, kek_version = $2 \
                     WHERE account_id = $3 AND directory_url = $4 AND sealed_credentials = $5",
                    &[&new, &version, account_id, directory_url, &old],
                )
                .await
            }
        }
        .map_err(database)?;
        applied += changed as usize;
    }
    Ok(applied)
}
