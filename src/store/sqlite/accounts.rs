//! Accounts and access keys.

use super::connection::Cached;
use rusqlite::{Connection, OptionalExtension, params};

use super::unique;
use crate::crypto::Sealed;
use crate::store::{AccessKey, AccessKeyOwner, Account, StoreError};

pub(super) fn insert(
    db: &Connection,
    account: &Account,
    key: &AccessKey,
) -> Result<(), StoreError> {
    db.execute_cached(
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
    db.execute_cached(
        "INSERT INTO access_keys (access_key_id, account_id, sealed_secret, kek_version, \
         created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            key.access_key_id,
            key.account_id,
            key.sealed_secret.as_stored(),
            key.sealed_secret.kek_version(),
            key.created_ms
        ],
    )
    .map_err(unique("access key"))?;
    Ok(())
}

/// Stores a RAM user's key (`key.user_id` set).
pub(super) fn insert_user_key(db: &Connection, key: &AccessKey) -> Result<(), StoreError> {
    db.execute_cached(
        "INSERT INTO access_keys (access_key_id, account_id, sealed_secret, kek_version, \
         created_ms, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.access_key_id,
            key.account_id,
            key.sealed_secret.as_stored(),
            key.sealed_secret.kek_version(),
            key.created_ms,
            key.user_id
        ],
    )
    .map_err(unique("access key"))?;
    Ok(())
}

pub(super) fn count(db: &Connection) -> Result<u64, StoreError> {
    let count: i64 = db.query_row_cached("SELECT COUNT(*) FROM accounts", [], |row| row.get(0))?;
    Ok(count as u64)
}

pub(super) fn accounts(
    db: &Connection,
    account_id: Option<&str>,
    limit: usize,
) -> Result<Vec<Account>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT account_id, name, default_resource_group_id, created_ms FROM accounts \
         WHERE ?1 IS NULL OR account_id = ?1 ORDER BY created_ms, account_id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![account_id, limit as i64], |row| {
        Ok(Account {
            account_id: row.get(0)?,
            name: row.get(1)?,
            default_resource_group_id: row.get(2)?,
            created_ms: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn root_access_keys(
    db: &Connection,
    account_id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut statement = db.prepare_cached(ROOT_ACCESS_KEYS)?;
    let rows = statement.query_map(params![account_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const ROOT_ACCESS_KEYS: &str = "SELECT access_key_id, created_ms FROM access_keys \
     WHERE account_id = ?1 AND user_id IS NULL ORDER BY created_ms, access_key_id";

pub(super) fn find_access_key(
    db: &Connection,
    access_key_id: &str,
) -> Result<Option<AccessKeyOwner>, StoreError> {
    let owner = db
        .query_row_cached(
            "SELECT k.account_id, k.sealed_secret, a.default_resource_group_id, k.user_id, \
             a.name \
             FROM access_keys k JOIN accounts a ON a.account_id = k.account_id \
             WHERE k.access_key_id = ?1",
            params![access_key_id],
            |row| {
                Ok(AccessKeyOwner {
                    account_id: row.get(0)?,
                    sealed_secret: Sealed::from_stored(row.get(1)?),
                    default_resource_group_id: row.get(2)?,
                    user_id: row.get(3)?,
                    account_name: row.get(4)?,
                })
            },
        )
        .optional()?;
    Ok(owner)
}
