//! Load balancers as JSON documents, with the rows that index them: their children's IDs and
//! the certificates they name.

use std::net::Ipv4Addr;

use super::connection::Cached;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, check_quota};
use crate::audit::AuditLine;
use crate::store::load_balancers::{AddressPool, LoadBalancer, LoadBalancerStore, Owner};
use crate::store::{Quota, Scope, StoreError};

fn insert(
    db: &Connection,
    mut load_balancer: LoadBalancer,
    quota: Quota,
    pool: AddressPool,
) -> Result<LoadBalancer, StoreError> {
    if let Some(token) = &load_balancer.client_token {
        let earlier: Option<String> = db
            .query_row_cached(
                "SELECT document FROM load_balancers WHERE account_id = ?1 AND client_token = ?2",
                params![load_balancer.account_id, token],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(document) = earlier {
            return LoadBalancer::from_document(&document);
        }
    }
    check_quota(
        db,
        quota,
        "SELECT COUNT(*) FROM load_balancers WHERE account_id = ?1 AND region_id = ?2",
        params![load_balancer.account_id, load_balancer.region_id],
    )?;
    let address = if load_balancer.address.is_unspecified() {
        free_address(db, pool)?
    } else {
        wanted_address(db, pool, load_balancer.address)?
    };
    load_balancer.address = address;
    load_balancer.revision = 1;
    db.execute_cached(
        "INSERT INTO load_balancers (id, account_id, region_id, address_number, client_token, \
         revision, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            load_balancer.id,
            load_balancer.account_id,
            load_balancer.region_id,
            u32::from(address),
            load_balancer.client_token,
            load_balancer.revision,
            load_balancer.to_document(),
        ],
    )?;
    index(db, &load_balancer)?;
    advance_generation(db)?;
    Ok(load_balancer)
}

pub(super) fn advance_generation(db: &Connection) -> Result<(), StoreError> {
    db.prepare_cached("UPDATE load_balancer_generation SET value = value + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

fn generation(db: &Connection) -> Result<i64, StoreError> {
    Ok(db
        .prepare_cached("SELECT value FROM load_balancer_generation WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

fn all(db: &Connection) -> Result<Vec<LoadBalancer>, StoreError> {
    let mut statement = db.prepare_cached("SELECT document FROM load_balancers ORDER BY seq")?;
    let documents = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    documents
        .into_iter()
        .map(|document| LoadBalancer::from_document(&document))
        .collect()
}

/// The lowest address of the pool that no load balancer holds ([`AddressPool::lowest_free`]).
fn free_address(db: &Connection, pool: AddressPool) -> Result<Ipv4Addr, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT address_number FROM load_balancers \
         WHERE address_number BETWEEN ?1 AND ?2 ORDER BY address_number",
    )?;
    let taken = statement
        .query_map(
            params![u32::from(pool.first), u32::from(pool.last)],
            |row| row.get::<_, u32>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    pool.lowest_free(taken)
}

/// An address the client asked for ([`AddressPool::grant`]).
fn wanted_address(
    db: &Connection,
    pool: AddressPool,
    wanted: Ipv4Addr,
) -> Result<Ipv4Addr, StoreError> {
    let taken = db
        .prepare_cached("SELECT 1 FROM load_balancers WHERE address_number = ?1")?
        .exists(params![u32::from(wanted)])?;
    pool.grant(wanted, taken)
}

/// Rewrites the rows that point at this load balancer from its document.
fn index(db: &Connection, load_balancer: &LoadBalancer) -> Result<(), StoreError> {
    let id = &load_balancer.id;
    db.execute_cached(
        "DELETE FROM load_balancer_children WHERE load_balancer_id = ?1",
        params![id],
    )?;
    db.execute_cached(
        "DELETE FROM certificate_references WHERE load_balancer_id = ?1",
        params![id],
    )?;
    db.execute_cached(
        "DELETE FROM region_resource_references WHERE load_balancer_id = ?1",
        params![id],
    )?;
    let mut child = db.prepare_cached(
        "INSERT INTO load_balancer_children (child_id, load_balancer_id) VALUES (?1, ?2)",
    )?;
    for child_id in load_balancer.child_ids() {
        child.execute(params![child_id, id])?;
    }
    let mut certificate = db.prepare_cached(
        "SELECT 1 FROM certificates WHERE id = ?1 AND account_id = ?2 AND region_id = ?3 AND kind = ?4",
    )?;
    let mut reference = db.prepare_cached(
        "INSERT OR IGNORE INTO certificate_references (certificate_id, load_balancer_id) \
         VALUES (?1, ?2)",
    )?;
    for (kind, certificate_id) in load_balancer.certificate_references() {
        let scope = (&load_balancer.account_id, &load_balancer.region_id);
        if !certificate.exists(params![certificate_id, scope.0, scope.1, kind.as_str()])? {
            return Err(StoreError::MissingCertificate {
                kind,
                id: certificate_id.to_owned(),
            });
        }
        reference.execute(params![certificate_id, id])?;
    }
    let mut resource = db.prepare_cached(
        "SELECT 1 FROM region_resources WHERE id = ?1 AND kind = ?2 AND account_id = ?3 \
         AND region_id = ?4",
    )?;
    let mut resource_reference = db.prepare_cached(
        "INSERT OR IGNORE INTO region_resource_references (resource_id, load_balancer_id) \
         VALUES (?1, ?2)",
    )?;
    for (kind, resource_id) in load_balancer.resource_references() {
        let scope = (&load_balancer.account_id, &load_balancer.region_id);
        if !resource.exists(params![resource_id, kind.as_str(), scope.0, scope.1])? {
            return Err(StoreError::MissingResource {
                kind,
                id: resource_id.to_owned(),
            });
        }
        resource_reference.execute(params![resource_id, id])?;
    }
    Ok(())
}

fn get(db: &Connection, owner: &Owner, id: &str) -> Result<Option<LoadBalancer>, StoreError> {
    let document: Option<String> = db
        .prepare_cached(
            "SELECT document FROM load_balancers WHERE id = ?1 AND account_id = ?2 \
             AND (?3 IS NULL OR region_id = ?3)",
        )?
        .query_row(params![id, owner.account_id, owner.region_id], |row| {
            row.get(0)
        })
        .optional()?;
    document
        .map(|document| LoadBalancer::from_document(&document))
        .transpose()
}

fn holding(
    db: &Connection,
    owner: &Owner,
    child_id: &str,
) -> Result<Option<LoadBalancer>, StoreError> {
    let parent: Option<String> = db
        .prepare_cached("SELECT load_balancer_id FROM load_balancer_children WHERE child_id = ?1")?
        .query_row(params![child_id], |row| row.get(0))
        .optional()?;
    match parent {
        Some(id) => get(db, owner, &id),
        None => Ok(None),
    }
}

fn list(db: &Connection, scope: &Scope) -> Result<Vec<LoadBalancer>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT document FROM load_balancers WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq",
    )?;
    let documents = statement
        .query_map(params![scope.account_id, scope.region_id], |row| {
            row.get::<_, String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    documents
        .into_iter()
        .map(|document| LoadBalancer::from_document(&document))
        .collect()
}

/// The stored revision of a load balancer of this account, if it exists.
fn revision(db: &Connection, account_id: &str, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(db
        .prepare_cached("SELECT revision FROM load_balancers WHERE id = ?1 AND account_id = ?2")?
        .query_row(params![id, account_id], |row| row.get(0))
        .optional()?)
}

fn check_unchanged(db: &Connection, read: &LoadBalancer) -> Result<(), StoreError> {
    match revision(db, &read.account_id, &read.id)? {
        None => Err(StoreError::NotFound(read.id.clone())),
        Some(stored) if stored != read.revision => Err(StoreError::Stale),
        Some(_) => Ok(()),
    }
}

fn replace(db: &Connection, edited: Vec<LoadBalancer>) -> Result<Vec<LoadBalancer>, StoreError> {
    let mut written = Vec::with_capacity(edited.len());
    for mut load_balancer in edited {
        check_unchanged(db, &load_balancer)?;
        load_balancer.revision += 1;
        db.execute_cached(
            "UPDATE load_balancers SET revision = ?1, document = ?2 WHERE id = ?3",
            params![
                load_balancer.revision,
                load_balancer.to_document(),
                load_balancer.id
            ],
        )?;
        index(db, &load_balancer)?;
        written.push(load_balancer);
    }
    advance_generation(db)?;
    Ok(written)
}

fn delete(db: &Connection, read: &LoadBalancer) -> Result<(), StoreError> {
    check_unchanged(db, read)?;
    // Its children's IDs and its certificate references go with it (ON DELETE CASCADE).
    db.execute_cached("DELETE FROM load_balancers WHERE id = ?1", params![read.id])?;
    advance_generation(db)
}

#[async_trait]
impl LoadBalancerStore for SqliteStore {
    async fn insert_load_balancer(
        &self,
        load_balancer: LoadBalancer,
        quota: Quota,
        pool: AddressPool,
        audit: AuditLine,
    ) -> Result<LoadBalancer, StoreError> {
        let stored = self
            .write(audit, move |db| insert(db, load_balancer, quota, pool))
            .await?;
        self.load_balancers_changed.notify_one();
        Ok(stored)
    }

    async fn load_balancer(
        &self,
        owner: &Owner,
        id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError> {
        let (owner, id) = (owner.clone(), id.to_owned());
        self.read(move |db| get(db, &owner, &id)).await
    }

    async fn load_balancer_holding(
        &self,
        owner: &Owner,
        child_id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError> {
        let (owner, child_id) = (owner.clone(), child_id.to_owned());
        self.read(move |db| holding(db, &owner, &child_id)).await
    }

    async fn list_load_balancers(&self, scope: &Scope) -> Result<Vec<LoadBalancer>, StoreError> {
        let scope = scope.clone();
        self.read(move |db| list(db, &scope)).await
    }

    async fn replace_load_balancers(
        &self,
        edited: Vec<LoadBalancer>,
        audit: AuditLine,
    ) -> Result<Vec<LoadBalancer>, StoreError> {
        let written = self.write(audit, move |db| replace(db, edited)).await?;
        self.load_balancers_changed.notify_one();
        Ok(written)
    }

    async fn all_load_balancers(&self) -> Result<Vec<LoadBalancer>, StoreError> {
        self.read(all).await
    }

    async fn load_balancer_generation(&self) -> Result<i64, StoreError> {
        self.read(generation).await
    }

    fn load_balancers_changed(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.load_balancers_changed.clone()
    }

    async fn delete_load_balancer(
        &self,
        read: &LoadBalancer,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let read = read.clone();
        self.write(audit, move |db| delete(db, &read)).await?;
        self.load_balancers_changed.notify_one();
        Ok(())
    }
}
