//! Region resources as JSON documents (see [`crate::store::region_resources`]).

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::load_balancers::advance_generation;
use super::{PostgresStore, check_quota, column, database, lock, unique_violation};
use crate::audit::AuditLine;
use crate::store::region_resources::{Record, RegionResourceStore, ResourceKind};
use crate::store::{Quota, Scope, StoreError};

/// A duplicate name answers `Conflict("name")` (the unique index decides, on every node).
fn named(error: tokio_postgres::Error) -> StoreError {
    match unique_violation(&error) {
        Some(_) => StoreError::Conflict("name"),
        None => database(error),
    }
}

fn strings(rows: Vec<tokio_postgres::Row>) -> Result<Vec<String>, StoreError> {
    rows.iter().map(|row| column::<String>(row, 0)).collect()
}

async fn insert(db: &Transaction<'_>, record: Record, quota: Quota) -> Result<(), StoreError> {
    // One creation at a time on every node, so that the quota holds.
    lock(db, "region resource creation").await?;
    let used = db
        .query_one(
            "SELECT COUNT(*) FROM region_resources WHERE account_id = $1 AND region_id = $2 \
             AND kind = $3",
            &[
                &record.scope.account_id,
                &record.scope.region_id,
                &record.kind.as_str(),
            ],
        )
        .await
        .map_err(database)?;
    check_quota(quota, column(&used, 0)?)?;
    db.execute(
        "INSERT INTO region_resources (kind, id, account_id, region_id, name, revision, document) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &record.kind.as_str(),
            &record.id,
            &record.scope.account_id,
            &record.scope.region_id,
            &record.name,
            &record.revision,
            &record.document,
        ],
    )
    .await
    .map_err(named)?;
    Ok(())
}

/// Locks the row and checks it is the one that was read.
async fn check_unchanged(
    db: &Transaction<'_>,
    kind: ResourceKind,
    id: &str,
    read: i64,
) -> Result<(), StoreError> {
    let row = db
        .query_opt(
            "SELECT revision FROM region_resources WHERE id = $1 AND kind = $2 FOR UPDATE",
            &[&id, &kind.as_str()],
        )
        .await
        .map_err(database)?;
    match row {
        None => Err(StoreError::NotFound(id.to_owned())),
        Some(row) if column::<i64>(&row, 0)? != read => Err(StoreError::Stale),
        Some(_) => Ok(()),
    }
}

async fn users(db: &impl GenericClient, id: &str) -> Result<Vec<String>, StoreError> {
    let rows = db
        .query(
            "SELECT load_balancer_id FROM region_resource_references WHERE resource_id = $1 \
             ORDER BY load_balancer_id",
            &[&id],
        )
        .await
        .map_err(database)?;
    strings(rows)
}

#[async_trait]
impl RegionResourceStore for PostgresStore {
    async fn insert_resource(
        &self,
        record: Record,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        insert(&transaction, record, quota).await?;
        self.commit(transaction, &audit).await
    }

    async fn resource(
        &self,
        kind: ResourceKind,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT document FROM region_resources WHERE id = $1 AND kind = $2 \
                 AND account_id = $3 AND region_id = $4",
                &[&id, &kind.as_str(), &scope.account_id, &scope.region_id],
            )
            .await
            .map_err(database)?;
        row.map(|row| column::<String>(&row, 0)).transpose()
    }

    async fn list_resources(
        &self,
        kind: ResourceKind,
        scope: &Scope,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT document FROM region_resources WHERE kind = $1 AND account_id = $2 \
                 AND region_id = $3 ORDER BY seq",
                &[&kind.as_str(), &scope.account_id, &scope.region_id],
            )
            .await
            .map_err(database)?;
        strings(rows)
    }

    async fn replace_resource(
        &self,
        record: Record,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        check_unchanged(&transaction, record.kind, &record.id, read_revision).await?;
        transaction
            .execute(
                "UPDATE region_resources SET name = $1, revision = $2, document = $3 WHERE id = $4",
                &[&record.name, &record.revision, &record.document, &record.id],
            )
            .await
            .map_err(named)?;
        advance_generation(&transaction).await?;
        self.commit(transaction, &audit).await
    }

    async fn delete_resource(
        &self,
        kind: ResourceKind,
        id: &str,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        // The row is locked first: a binding committing meanwhile on another node is then
        // either seen below or waits for this delete and finds the resource gone.
        check_unchanged(&transaction, kind, id, read_revision).await?;
        if !users(&transaction, id).await?.is_empty() {
            return Err(StoreError::InUse(id.to_owned()));
        }
        transaction
            .execute("DELETE FROM region_resources WHERE id = $1", &[&id])
            .await
            .map_err(database)?;
        self.commit(transaction, &audit).await
    }

    async fn resource_users(&self, id: &str) -> Result<Vec<String>, StoreError> {
        users(&self.client().await?, id).await
    }

    async fn all_resources(&self, kind: ResourceKind) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT document FROM region_resources WHERE kind = $1 ORDER BY seq",
                &[&kind.as_str()],
            )
            .await
            .map_err(database)?;
        strings(rows)
    }
}
