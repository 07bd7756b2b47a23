//! Accounts and access keys.

use deadpool_postgres::GenericClient;

use super::{column, database, unique_violation};
use crate::crypto::Sealed;
use crate::store::{AccessKey, AccessKeyOwner, Account, StoreError};

pub(super) async fn insert(
    db: &impl GenericClient,
    account: &Account,
    key: &AccessKey,
) -> Result<(), StoreError> {
    insert_account_row(db, account).await?;
    insert_key(db, key).await
}

async fn insert_account_row(db: &impl GenericClient, account: &Account) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO accounts (account_id, name, default_resource_group_id, created_ms) \
         VALUES ($1, $2, $3, $4)",
        &[
            &account.account_id,
            &account.name,
            &account.default_resource_group_id,
            &account.created_ms,
        ],
    )
    .await
    .map_err(|error| match unique_violation(&error) {
        Some(_) => StoreError::Conflict("account"),
        None => database(error),
    })?;
    Ok(())
}

/// Stores an AccessKey: the account's own, or a RAM user's (`key.user_id` set).
pub(super) async fn insert_key(db: &impl GenericClient, key: &AccessKey) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO access_keys (access_key_id, account_id, sealed_secret, kek_version, \
         created_ms, user_id) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &key.access_key_id,
            &key.account_id,
            &key.sealed_secret.as_stored(),
            &i64::from(key.sealed_secret.kek_version()),
            &key.created_ms,
            &key.user_id,
        ],
    )
    .await
    .map_err(|error| match unique_violation(&error) {
        Some(_) => StoreError::Conflict("access key"),
        None => database(error),
    })?;
    Ok(())
}

pub(super) async fn count(db: &impl GenericClient) -> Result<u64, StoreError> {
    let count = db
        .query_one("SELECT COUNT(*) FROM accounts", &[])
        .await
        .map_err(database)?;
    let count: i64 = column(&count, 0)?;
    Ok(count as u64)
}

pub(super) async fn accounts(
    db: &impl GenericClient,
    account_id: Option<&str>,
    limit: usize,
) -> Result<Vec<Account>, StoreError> {
    let rows = db
        .query(
            "SELECT account_id, name, default_resource_group_id, created_ms FROM accounts \
             WHERE $1::text IS NULL OR account_id = $1 ORDER BY created_ms, account_id LIMIT $2",
            &[&account_id, &(limit as i64)],
        )
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            Ok(Account {
                account_id: column(row, 0)?,
                name: column(row, 1)?,
                default_resource_group_id: column(row, 2)?,
                created_ms: column(row, 3)?,
            })
        })
        .collect()
}

pub(super) async fn root_access_keys(
    db: &impl GenericClient,
    account_id: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let statement = db
        .prepare_cached(
            "SELECT access_key_id, created_ms FROM access_keys \
             WHERE account_id = $1 AND user_id IS NULL ORDER BY created_ms, access_key_id",
        )
        .await
        .map_err(database)?;
    let rows = db
        .query(&statement, &[&account_id])
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| Ok((column(row, 0)?, column(row, 1)?)))
        .collect()
}

pub(super) async fn find_access_key(
    db: &impl GenericClient,
    access_key_id: &str,
) -> Result<Option<AccessKeyOwner>, StoreError> {
    let statement = db
        .prepare_cached(
            "SELECT k.account_id, k.sealed_secret, a.default_resource_group_id, k.user_id, \
             a.name \
             FROM access_keys k JOIN accounts a ON a.account_id = k.account_id \
             WHERE k.access_key_id = $1",
        )
        .await
        .map_err(database)?;
    let Some(row) = db
        .query_opt(&statement, &[&access_key_id])
        .await
        .map_err(database)?
    else {
        return Ok(None);
    };
    Ok(Some(AccessKeyOwner {
        account_id: column(&row, 0)?,
        sealed_secret: Sealed::from_stored(column(&row, 1)?),
        default_resource_group_id: column(&row, 2)?,
        user_id: column(&row, 3)?,
        account_name: column(&row, 4)?,
    }))
}
