//! Access control lists as JSON documents (see [`crate::store::acls`]).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::connection::Cached;
use super::load_balancers::advance_generation;
use super::{SqliteStore, check_quota};
use crate::audit::AuditLine;
use crate::store::acls::{Acl, AclStore};
use crate::store::{Quota, Scope, StoreError};

/// `Conflict("name")` if another list of its scope has its name.
fn check_name(db: &Connection, acl: &Acl) -> Result<(), StoreError> {
    let taken = db
        .prepare_cached(
            "SELECT 1 FROM acls WHERE account_id = ?1 AND region_id = ?2 AND name = ?3 AND id <> ?4",
        )?
        .exists(params![acl.account_id, acl.region_id, acl.name, acl.id])?;
    if taken {
        return Err(StoreError::Conflict("name"));
    }
    Ok(())
}

fn insert(db: &Connection, mut acl: Acl, quota: Quota) -> Result<Acl, StoreError> {
    check_quota(
        db,
        quota,
        "SELECT COUNT(*) FROM acls WHERE account_id = ?1 AND region_id = ?2",
        params![acl.account_id, acl.region_id],
    )?;
    check_name(db, &acl)?;
    acl.revision = 1;
    db.execute_cached(
        "INSERT INTO acls (id, account_id, region_id, name, revision, document) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            acl.id,
            acl.account_id,
            acl.region_id,
            acl.name,
            acl.revision,
            acl.to_document()
        ],
    )?;
    Ok(acl)
}

fn documents(db: &Connection, sql: &str, scope: Option<&Scope>) -> Result<Vec<Acl>, StoreError> {
    let mut statement = db.prepare_cached(sql)?;
    let rows = match scope {
        Some(scope) => statement
            .query_map(params![scope.account_id, scope.region_id], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?,
        None => statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?,
    };
    rows.iter()
        .map(|document| Acl::from_document(document))
        .collect()
}

fn get(db: &Connection, scope: &Scope, id: &str) -> Result<Option<Acl>, StoreError> {
    let document: Option<String> = db
        .prepare_cached(
            "SELECT document FROM acls WHERE id = ?1 AND account_id = ?2 AND region_id = ?3",
        )?
        .query_row(params![id, scope.account_id, scope.region_id], |row| {
            row.get(0)
        })
        .optional()?;
    document.map(|d| Acl::from_document(&d)).transpose()
}

fn check_unchanged(db: &Connection, read: &Acl) -> Result<(), StoreError> {
    let stored: Option<i64> = db
        .prepare_cached("SELECT revision FROM acls WHERE id = ?1 AND account_id = ?2")?
        .query_row(params![read.id, read.account_id], |row| row.get(0))
        .optional()?;
    match stored {
        None => Err(StoreError::NotFound(read.id.clone())),
        Some(revision) if revision != read.revision => Err(StoreError::Stale),
        Some(_) => Ok(()),
    }
}

fn replace(db: &Connection, mut acl: Acl) -> Result<Acl, StoreError> {
    check_unchanged(db, &acl)?;
    check_name(db, &acl)?;
    acl.revision += 1;
    db.execute_cached(
        "UPDATE acls SET name = ?1, revision = ?2, document = ?3 WHERE id = ?4",
        params![acl.name, acl.revision, acl.to_document(), acl.id],
    )?;
    advance_generation(db)?;
    Ok(acl)
}

fn delete(db: &Connection, read: &Acl) -> Result<(), StoreError> {
    check_unchanged(db, read)?;
    if !users(db, &read.id)?.is_empty() {
        return Err(StoreError::InUse(read.id.clone()));
    }
    db.execute_cached("DELETE FROM acls WHERE id = ?1", params![read.id])?;
    Ok(())
}

fn users(db: &Connection, id: &str) -> Result<Vec<String>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT load_balancer_id FROM acl_references WHERE acl_id = ?1 ORDER BY load_balancer_id",
    )?;
    let ids = statement
        .query_map(params![id], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

#[async_trait]
impl AclStore for SqliteStore {
    async fn insert_acl(
        &self,
        acl: Acl,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<Acl, StoreError> {
        self.write(audit, move |db| insert(db, acl, quota)).await
    }

    async fn acl(&self, scope: &Scope, id: &str) -> Result<Option<Acl>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |db| get(db, &scope, &id)).await
    }

    async fn list_acls(&self, scope: &Scope) -> Result<Vec<Acl>, StoreError> {
        let scope = scope.clone();
        self.read(move |db| {
            documents(
                db,
                "SELECT document FROM acls WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq",
                Some(&scope),
            )
        })
        .await
    }

    async fn replace_acl(&self, edited: Acl, audit: AuditLine) -> Result<Acl, StoreError> {
        let written = self.write(audit, move |db| replace(db, edited)).await?;
        self.load_balancers_changed.notify_one();
        Ok(written)
    }

    async fn delete_acl(&self, read: &Acl, audit: AuditLine) -> Result<(), StoreError> {
        let read = read.clone();
        self.write(audit, move |db| delete(db, &read)).await
    }

    async fn acl_users(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let id = id.to_owned();
        self.read(move |db| users(db, &id)).await
    }

    async fn all_acls(&self) -> Result<Vec<Acl>, StoreError> {
        self.read(|db| documents(db, "SELECT document FROM acls ORDER BY seq", None))
            .await
    }
}
