//! Access control lists as JSON documents (see [`crate::store::acls`]).

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::load_balancers::advance_generation;
use super::{PostgresStore, check_quota, column, database, lock, unique_violation};
use crate::audit::AuditLine;
use crate::store::acls::{Acl, AclStore};
use crate::store::{Quota, Scope, StoreError};

/// A duplicate name answers `Conflict("name")` (the unique index decides, on every node).
fn named(error: tokio_postgres::Error) -> StoreError {
    match unique_violation(&error) {
        Some(_) => StoreError::Conflict("name"),
        None => database(error),
    }
}

fn documents(rows: Vec<tokio_postgres::Row>) -> Result<Vec<Acl>, StoreError> {
    rows.iter()
        .map(|row| Acl::from_document(&column::<String>(row, 0)?))
        .collect()
}

async fn insert(db: &Transaction<'_>, mut acl: Acl, quota: Quota) -> Result<Acl, StoreError> {
    // One creation at a time on every node, so that the quota holds.
    lock(db, "acl creation").await?;
    let used = db
        .query_one(
            "SELECT COUNT(*) FROM acls WHERE account_id = $1 AND region_id = $2",
            &[&acl.account_id, &acl.region_id],
        )
        .await
        .map_err(database)?;
    check_quota(quota, column(&used, 0)?)?;
    acl.revision = 1;
    db.execute(
        "INSERT INTO acls (id, account_id, region_id, name, revision, document) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &acl.id,
            &acl.account_id,
            &acl.region_id,
            &acl.name,
            &acl.revision,
            &acl.to_document(),
        ],
    )
    .await
    .map_err(named)?;
    Ok(acl)
}

/// Locks the row and checks it is the one that was read.
async fn check_unchanged(db: &Transaction<'_>, read: &Acl) -> Result<(), StoreError> {
    let row = db
        .query_opt(
            "SELECT revision FROM acls WHERE id = $1 AND account_id = $2 FOR UPDATE",
            &[&read.id, &read.account_id],
        )
        .await
        .map_err(database)?;
    match row {
        None => Err(StoreError::NotFound(read.id.clone())),
        Some(row) if column::<i64>(&row, 0)? != read.revision => Err(StoreError::Stale),
        Some(_) => Ok(()),
    }
}

async fn replace(db: &Transaction<'_>, mut acl: Acl) -> Result<Acl, StoreError> {
    check_unchanged(db, &acl).await?;
    acl.revision += 1;
    db.execute(
        "UPDATE acls SET name = $1, revision = $2, document = $3 WHERE id = $4",
        &[&acl.name, &acl.revision, &acl.to_document(), &acl.id],
    )
    .await
    .map_err(named)?;
    advance_generation(db).await?;
    Ok(acl)
}

async fn users(db: &impl GenericClient, id: &str) -> Result<Vec<String>, StoreError> {
    let rows = db
        .query(
            "SELECT load_balancer_id FROM acl_references WHERE acl_id = $1 \
             ORDER BY load_balancer_id",
            &[&id],
        )
        .await
        .map_err(database)?;
    rows.iter().map(|row| column::<String>(row, 0)).collect()
}

async fn delete(db: &Transaction<'_>, read: &Acl) -> Result<(), StoreError> {
    // The row is locked first: a binding committing meanwhile on another node is then either
    // seen below or waits for this delete and finds the list gone.
    check_unchanged(db, read).await?;
    if !users(db, &read.id).await?.is_empty() {
        return Err(StoreError::InUse(read.id.clone()));
    }
    db.execute("DELETE FROM acls WHERE id = $1", &[&read.id])
        .await
        .map_err(database)?;
    Ok(())
}

#[async_trait]
impl AclStore for PostgresStore {
    async fn insert_acl(
        &self,
        acl: Acl,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<Acl, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let stored = insert(&transaction, acl, quota).await?;
        self.commit(transaction, &audit).await?;
        Ok(stored)
    }

    async fn acl(&self, scope: &Scope, id: &str) -> Result<Option<Acl>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT document FROM acls WHERE id = $1 AND account_id = $2 AND region_id = $3",
                &[&id, &scope.account_id, &scope.region_id],
            )
            .await
            .map_err(database)?;
        row.map(|row| Acl::from_document(&column::<String>(&row, 0)?))
            .transpose()
    }

    async fn list_acls(&self, scope: &Scope) -> Result<Vec<Acl>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT document FROM acls WHERE account_id = $1 AND region_id = $2 ORDER BY seq",
                &[&scope.account_id, &scope.region_id],
            )
            .await
            .map_err(database)?;
        documents(rows)
    }

    async fn replace_acl(&self, edited: Acl, audit: AuditLine) -> Result<Acl, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let written = replace(&transaction, edited).await?;
        self.commit(transaction, &audit).await?;
        Ok(written)
    }

    async fn delete_acl(&self, read: &Acl, audit: AuditLine) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        delete(&transaction, read).await?;
        self.commit(transaction, &audit).await
    }

    async fn acl_users(&self, id: &str) -> Result<Vec<String>, StoreError> {
        users(&self.client().await?, id).await
    }

    async fn all_acls(&self) -> Result<Vec<Acl>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT document FROM acls ORDER BY seq", &[])
            .await
            .map_err(database)?;
        documents(rows)
    }
}
