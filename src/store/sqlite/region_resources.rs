//! Region resources as JSON documents (see [`crate::store::region_resources`]).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::connection::Cached;
use super::load_balancers::advance_generation;
use super::{SqliteStore, check_quota};
use crate::audit::AuditLine;
use crate::store::region_resources::{Record, RegionResourceStore, ResourceKind};
use crate::store::{Quota, Scope, StoreError};

/// `Conflict("name")` if another resource of its kind and scope has its name.
fn check_name(db: &Connection, record: &Record) -> Result<(), StoreError> {
    let taken = db
        .prepare_cached(
            "SELECT 1 FROM region_resources WHERE account_id = ?1 AND region_id = ?2 \
             AND kind = ?3 AND name = ?4 AND id <> ?5",
        )?
        .exists(params![
            record.scope.account_id,
            record.scope.region_id,
            record.kind.as_str(),
            record.name,
            record.id
        ])?;
    if taken {
        return Err(StoreError::Conflict("name"));
    }
    Ok(())
}

fn insert(db: &Connection, record: Record, quota: Quota) -> Result<(), StoreError> {
    check_quota(
        db,
        quota,
        "SELECT COUNT(*) FROM region_resources WHERE account_id = ?1 AND region_id = ?2 \
         AND kind = ?3",
        params![
            record.scope.account_id,
            record.scope.region_id,
            record.kind.as_str()
        ],
    )?;
    check_name(db, &record)?;
    db.execute_cached(
        "INSERT INTO region_resources (kind, id, account_id, region_id, name, revision, document) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            record.kind.as_str(),
            record.id,
            record.scope.account_id,
            record.scope.region_id,
            record.name,
            record.revision,
            record.document
        ],
    )?;
    Ok(())
}

fn documents(
    db: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<String>, StoreError> {
    let mut statement = db.prepare_cached(sql)?;
    let rows = statement
        .query_map(params, |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn get(
    db: &Connection,
    kind: ResourceKind,
    scope: &Scope,
    id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT document FROM region_resources WHERE id = ?1 AND kind = ?2 \
             AND account_id = ?3 AND region_id = ?4",
        )?
        .query_row(
            params![id, kind.as_str(), scope.account_id, scope.region_id],
            |row| row.get(0),
        )
        .optional()?)
}

fn check_unchanged(
    db: &Connection,
    kind: ResourceKind,
    id: &str,
    read: i64,
) -> Result<(), StoreError> {
    let stored: Option<i64> = db
        .prepare_cached("SELECT revision FROM region_resources WHERE id = ?1 AND kind = ?2")?
        .query_row(params![id, kind.as_str()], |row| row.get(0))
        .optional()?;
    match stored {
        None => Err(StoreError::NotFound(id.to_owned())),
        Some(revision) if revision != read => Err(StoreError::Stale),
        Some(_) => Ok(()),
    }
}

fn replace(db: &Connection, record: Record, read: i64) -> Result<(), StoreError> {
    check_unchanged(db, record.kind, &record.id, read)?;
    check_name(db, &record)?;
    db.execute_cached(
        "UPDATE region_resources SET name = ?1, revision = ?2, document = ?3 WHERE id = ?4",
        params![record.name, record.revision, record.document, record.id],
    )?;
    advance_generation(db)
}

fn delete(db: &Connection, kind: ResourceKind, id: &str, read: i64) -> Result<(), StoreError> {
    check_unchanged(db, kind, id, read)?;
    if !users(db, id)?.is_empty() {
        return Err(StoreError::InUse(id.to_owned()));
    }
    db.execute_cached("DELETE FROM region_resources WHERE id = ?1", params![id])?;
    Ok(())
}

fn users(db: &Connection, id: &str) -> Result<Vec<String>, StoreError> {
    documents(
        db,
        "SELECT load_balancer_id FROM region_resource_references WHERE resource_id = ?1 \
         ORDER BY load_balancer_id",
        params![id],
    )
}

#[async_trait]
impl RegionResourceStore for SqliteStore {
    async fn insert_resource(
        &self,
        record: Record,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| insert(db, record, quota)).await
    }

    async fn resource(
        &self,
        kind: ResourceKind,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |db| get(db, kind, &scope, &id)).await
    }

    async fn list_resources(
        &self,
        kind: ResourceKind,
        scope: &Scope,
    ) -> Result<Vec<String>, StoreError> {
        let scope = scope.clone();
        self.read(move |db| {
            documents(
                db,
                "SELECT document FROM region_resources WHERE kind = ?1 AND account_id = ?2 \
                 AND region_id = ?3 ORDER BY seq",
                params![kind.as_str(), scope.account_id, scope.region_id],
            )
        })
        .await
    }

    async fn replace_resource(
        &self,
        record: Record,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| replace(db, record, read_revision))
            .await?;
        self.load_balancers_changed.notify_one();
        Ok(())
    }

    async fn delete_resource(
        &self,
        kind: ResourceKind,
        id: &str,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(audit, move |db| delete(db, kind, &id, read_revision))
            .await
    }

    async fn resource_users(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let id = id.to_owned();
        self.read(move |db| users(db, &id)).await
    }

    async fn all_resources(&self, kind: ResourceKind) -> Result<Vec<String>, StoreError> {
        self.read(move |db| {
            documents(
                db,
                "SELECT document FROM region_resources WHERE kind = ?1 ORDER BY seq",
                params![kind.as_str()],
            )
        })
        .await
    }
}
