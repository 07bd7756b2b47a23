//! Load balancers as JSON documents, with the rows that index them: their children's IDs and
//! the certificates they name. Every change announces itself to the other nodes' data planes.

use std::net::Ipv4Addr;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::error::SqlState;

use super::{PostgresStore, announce, check_quota, column, database, lock, violated};
use crate::audit::AuditLine;
use crate::store::load_balancers::{AddressPool, LoadBalancer, LoadBalancerStore, Owner};
use crate::store::{Quota, Scope, StoreError};

fn documents(rows: Vec<tokio_postgres::Row>) -> Result<Vec<LoadBalancer>, StoreError> {
    rows.iter()
        .map(|row| LoadBalancer::from_document(&column::<String>(row, 0)?))
        .collect()
}

async fn insert(
    db: &Transaction<'_>,
    mut load_balancer: LoadBalancer,
    quota: Quota,
    pool: AddressPool,
) -> Result<LoadBalancer, StoreError> {
    // One creation at a time on every node: the quota, the client token and the lowest free
    // address are decided together.
    lock(db, "load balancer creation").await?;
    if let Some(token) = &load_balancer.client_token {
        let earlier = db
            .query_opt(
                "SELECT document FROM load_balancers WHERE account_id = $1 AND client_token = $2",
                &[&load_balancer.account_id, token],
            )
            .await
            .map_err(database)?;
        if let Some(row) = earlier {
            return LoadBalancer::from_document(&column::<String>(&row, 0)?);
        }
    }
    let used = db
        .query_one(
            "SELECT COUNT(*) FROM load_balancers WHERE account_id = $1 AND region_id = $2",
            &[&load_balancer.account_id, &load_balancer.region_id],
        )
        .await
        .map_err(database)?;
    check_quota(quota, column(&used, 0)?)?;
    let address = if load_balancer.address.is_unspecified() {
        free_address(db, pool).await?
    } else {
        wanted_address(db, pool, load_balancer.address).await?
    };
    load_balancer.address = address;
    load_balancer.revision = 1;
    db.execute(
        "INSERT INTO load_balancers (id, account_id, region_id, address_number, client_token, \
         revision, document) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &load_balancer.id,
            &load_balancer.account_id,
            &load_balancer.region_id,
            &i64::from(u32::from(address)),
            &load_balancer.client_token,
            &load_balancer.revision,
            &load_balancer.to_document(),
        ],
    )
    .await
    .map_err(database)?;
    index(db, &load_balancer).await?;
    advance_generation(db).await?;
    Ok(load_balancer)
}

pub(super) async fn advance_generation(db: &Transaction<'_>) -> Result<(), StoreError> {
    db.execute(
        "UPDATE load_balancer_generation SET value = value + 1 WHERE id = 1",
        &[],
    )
    .await
    .map_err(database)?;
    announce(db, "load_balancers").await
}

/// The lowest address of the pool that no load balancer holds ([`AddressPool::lowest_free`]).
async fn free_address(db: &Transaction<'_>, pool: AddressPool) -> Result<Ipv4Addr, StoreError> {
    let rows = db
        .query(
            "SELECT address_number FROM load_balancers \
             WHERE address_number BETWEEN $1 AND $2 ORDER BY address_number",
            &[
                &i64::from(u32::from(pool.first)),
                &i64::from(u32::from(pool.last)),
            ],
        )
        .await
        .map_err(database)?;
    let taken = rows
        .iter()
        .map(|row| column::<i64>(row, 0).map(|number| number as u32))
        .collect::<Result<Vec<_>, _>>()?;
    pool.lowest_free(taken)
}

/// An address the client asked for ([`AddressPool::grant`]).
async fn wanted_address(
    db: &Transaction<'_>,
    pool: AddressPool,
    wanted: Ipv4Addr,
) -> Result<Ipv4Addr, StoreError> {
    let taken = db
        .query_opt(
            "SELECT 1 FROM load_balancers WHERE address_number = $1",
            &[&i64::from(u32::from(wanted))],
        )
        .await
        .map_err(database)?;
    pool.grant(wanted, taken.is_some())
}

/// Rewrites the rows that point at this load balancer from its document.
async fn index(db: &Transaction<'_>, load_balancer: &LoadBalancer) -> Result<(), StoreError> {
    let id = &load_balancer.id;
    db.execute(
        "DELETE FROM load_balancer_children WHERE load_balancer_id = $1",
        &[id],
    )
    .await
    .map_err(database)?;
    db.execute(
        "DELETE FROM certificate_references WHERE load_balancer_id = $1",
        &[id],
    )
    .await
    .map_err(database)?;
    db.execute(
        "DELETE FROM region_resource_references WHERE load_balancer_id = $1",
        &[id],
    )
    .await
    .map_err(database)?;
    let children: Vec<&str> = load_balancer.child_ids();
    if !children.is_empty() {
        db.execute(
            "INSERT INTO load_balancer_children (child_id, load_balancer_id) \
             SELECT UNNEST($1::TEXT[]), $2",
            &[&children, id],
        )
        .await
        .map_err(database)?;
    }
    for (kind, certificate_id) in load_balancer.certificate_references() {
        let missing = || StoreError::MissingCertificate {
            kind,
            id: certificate_id.to_owned(),
        };
        // KEY SHARE: a delete of the certificate on another node waits for this commit (and
        // then sees the reference), or went first (and this finds no row).
        let found = db
            .query_opt(
                "SELECT 1 FROM certificates WHERE id = $1 AND account_id = $2 \
                 AND region_id = $3 AND kind = $4 FOR KEY SHARE",
                &[
                    &certificate_id,
                    &load_balancer.account_id,
                    &load_balancer.region_id,
                    &kind.as_str(),
                ],
            )
            .await
            .map_err(database)?;
        if found.is_none() {
            return Err(missing());
        }
        db.execute(
            "INSERT INTO certificate_references (certificate_id, load_balancer_id) \
             VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&certificate_id, id],
        )
        .await
        .map_err(
            |error| match violated(&error, &SqlState::FOREIGN_KEY_VIOLATION) {
                Some(_) => missing(),
                None => database(error),
            },
        )?;
    }
    for (kind, resource_id) in load_balancer.resource_references() {
        let missing = || StoreError::MissingResource {
            kind,
            id: resource_id.to_owned(),
        };
        // KEY SHARE, as for certificates: a delete of the resource on another node either
        // waits for this commit and sees the reference, or went first and this finds no row.
        let found = db
            .query_opt(
                "SELECT 1 FROM region_resources WHERE id = $1 AND kind = $2 AND account_id = $3 \
                 AND region_id = $4 FOR KEY SHARE",
                &[
                    &resource_id,
                    &kind.as_str(),
                    &load_balancer.account_id,
                    &load_balancer.region_id,
                ],
            )
            .await
            .map_err(database)?;
        if found.is_none() {
            return Err(missing());
        }
        db.execute(
            "INSERT INTO region_resource_references (resource_id, load_balancer_id) \
             VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&resource_id, id],
        )
        .await
        .map_err(
            |error| match violated(&error, &SqlState::FOREIGN_KEY_VIOLATION) {
                Some(_) => missing(),
                None => database(error),
            },
        )?;
    }
    Ok(())
}

async fn get(
    db: &impl GenericClient,
    owner: &Owner,
    id: &str,
) -> Result<Option<LoadBalancer>, StoreError> {
    let statement = db
        .prepare_cached(
            "SELECT document FROM load_balancers WHERE id = $1 AND account_id = $2 \
             AND ($3::TEXT IS NULL OR region_id = $3)",
        )
        .await
        .map_err(database)?;
    let row = db
        .query_opt(&statement, &[&id, &owner.account_id, &owner.region_id])
        .await
        .map_err(database)?;
    row.map(|row| LoadBalancer::from_document(&column::<String>(&row, 0)?))
        .transpose()
}

async fn holding(
    db: &impl GenericClient,
    owner: &Owner,
    child_id: &str,
) -> Result<Option<LoadBalancer>, StoreError> {
    let parent = db
        .query_opt(
            "SELECT load_balancer_id FROM load_balancer_children WHERE child_id = $1",
            &[&child_id],
        )
        .await
        .map_err(database)?;
    match parent {
        Some(row) => get(db, owner, &column::<String>(&row, 0)?).await,
        None => Ok(None),
    }
}

/// `NotFound` if the load balancer is gone, `Stale` if it changed since `read`; else it stays
/// locked until the transaction ends.
async fn check_unchanged(db: &Transaction<'_>, read: &LoadBalancer) -> Result<(), StoreError> {
    let row = db
        .query_opt(
            "SELECT revision FROM load_balancers WHERE id = $1 AND account_id = $2 FOR UPDATE",
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

async fn replace(
    db: &Transaction<'_>,
    edited: Vec<LoadBalancer>,
) -> Result<Vec<LoadBalancer>, StoreError> {
    let mut written = Vec::with_capacity(edited.len());
    for mut load_balancer in edited {
        check_unchanged(db, &load_balancer).await?;
        load_balancer.revision += 1;
        db.execute(
            "UPDATE load_balancers SET revision = $1, document = $2 WHERE id = $3",
            &[
                &load_balancer.revision,
                &load_balancer.to_document(),
                &load_balancer.id,
            ],
        )
        .await
        .map_err(database)?;
        index(db, &load_balancer).await?;
        written.push(load_balancer);
    }
    advance_generation(db).await?;
    Ok(written)
}

async fn delete(db: &Transaction<'_>, read: &LoadBalancer) -> Result<(), StoreError> {
    check_unchanged(db, read).await?;
    // Its children's IDs and its certificate references go with it (ON DELETE CASCADE).
    db.execute("DELETE FROM load_balancers WHERE id = $1", &[&read.id])
        .await
        .map_err(database)?;
    advance_generation(db).await
}

#[async_trait]
impl LoadBalancerStore for PostgresStore {
    async fn insert_load_balancer(
        &self,
        load_balancer: LoadBalancer,
        quota: Quota,
        pool: AddressPool,
        audit: AuditLine,
    ) -> Result<LoadBalancer, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let stored = insert(&transaction, load_balancer, quota, pool).await?;
        self.commit(transaction, &audit).await?;
        Ok(stored)
    }

    async fn load_balancer(
        &self,
        owner: &Owner,
        id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError> {
        get(&self.client().await?, owner, id).await
    }

    async fn load_balancer_holding(
        &self,
        owner: &Owner,
        child_id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError> {
        holding(&self.client().await?, owner, child_id).await
    }

    async fn list_load_balancers(&self, scope: &Scope) -> Result<Vec<LoadBalancer>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT document FROM load_balancers WHERE account_id = $1 AND region_id = $2 \
                 ORDER BY seq",
                &[&scope.account_id, &scope.region_id],
            )
            .await
            .map_err(database)?;
        documents(rows)
    }

    async fn replace_load_balancers(
        &self,
        edited: Vec<LoadBalancer>,
        audit: AuditLine,
    ) -> Result<Vec<LoadBalancer>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        let written = replace(&transaction, edited).await?;
        self.commit(transaction, &audit).await?;
        Ok(written)
    }

    async fn all_load_balancers(&self) -> Result<Vec<LoadBalancer>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT document FROM load_balancers ORDER BY seq", &[])
            .await
            .map_err(database)?;
        documents(rows)
    }

    async fn load_balancer_generation(&self) -> Result<i64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT value FROM load_balancer_generation WHERE id = 1",
                &[],
            )
            .await
            .map_err(database)?;
        column(&row, 0)
    }

    fn load_balancers_changed(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.feed.load_balancers_changed()
    }

    async fn delete_load_balancer(
        &self,
        read: &LoadBalancer,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        delete(&transaction, read).await?;
        self.commit(transaction, &audit).await
    }
}
