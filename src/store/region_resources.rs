//! Resources of a region that are not part of a load balancer (access control lists, TLS
//! cipher policies): stored as one JSON document each under their kind, named uniquely per kind
//! in their scope, changed compare-and-swap like load balancers. Listeners name them; the store
//! keeps those references, so that a named resource cannot be deleted and a listener cannot
//! name a missing one. Every change advances the load balancer generation, so the data plane
//! applies it at once.
//!
//! The engines store documents ([`RegionResourceStore`]); the typed functions here ([`insert`],
//! [`get`], ...) turn them into the resource types, for every kind alike.

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Quota, Scope, StoreError};
use crate::audit::AuditLine;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Acl,
    TlsCipherPolicy,
    /// The region's high-definition monitoring settings (one per account and region).
    HdMonitor,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Acl => "acl",
            ResourceKind::TlsCipherPolicy => "tls",
            ResourceKind::HdMonitor => "hdmonitor",
        }
    }
}

/// A resource as the engines store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: ResourceKind,
    pub id: String,
    pub scope: Scope,
    pub name: String,
    pub revision: i64,
    pub document: String,
}

#[async_trait]
pub trait RegionResourceStore: Send + Sync {
    /// Stores it unless its scope holds `quota` of its kind already (`OverQuota`) or one of
    /// its kind and name (`Conflict("name")`).
    async fn insert_resource(
        &self,
        record: Record,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn resource(
        &self,
        kind: ResourceKind,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// In creation order.
    async fn list_resources(
        &self,
        kind: ResourceKind,
        scope: &Scope,
    ) -> Result<Vec<String>, StoreError>;
    /// Writes it if the stored revision is still `read_revision` (else `Stale`; `NotFound` if
    /// it is gone; `Conflict("name")` if another of its kind and scope has its name).
    async fn replace_resource(
        &self,
        record: Record,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Deletes it unless a listener names it (`InUse`) or it changed since it was read.
    async fn delete_resource(
        &self,
        kind: ResourceKind,
        id: &str,
        read_revision: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// The load balancers (by ID) whose listeners name it.
    async fn resource_users(&self, id: &str) -> Result<Vec<String>, StoreError>;
    /// Every account's resources of a kind, for the data plane.
    async fn all_resources(&self, kind: ResourceKind) -> Result<Vec<String>, StoreError>;
}

/// What a stored resource type tells the store about itself.
pub trait RegionResource: Serialize + DeserializeOwned + Clone + Send + Sync {
    const KIND: ResourceKind;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn scope(&self) -> Scope;
    fn revision(&self) -> i64;
    fn set_revision(&mut self, revision: i64);
}

/// Implements [`RegionResource`] for a type with `id`, `name`, `account_id`, `region_id` and
/// `revision` fields.
macro_rules! region_resource {
    ($type:ty, $kind:expr) => {
        impl $crate::store::region_resources::RegionResource for $type {
            const KIND: $crate::store::region_resources::ResourceKind = $kind;

            fn id(&self) -> &str {
                &self.id
            }

            fn name(&self) -> &str {
                &self.name
            }

            fn scope(&self) -> $crate::store::Scope {
                $crate::store::Scope {
                    account_id: self.account_id.clone(),
                    region_id: self.region_id.clone(),
                }
            }

            fn revision(&self) -> i64 {
                self.revision
            }

            fn set_revision(&mut self, revision: i64) {
                self.revision = revision;
            }
        }
    };
}
pub(crate) use region_resource;

fn record<T: RegionResource>(value: &T) -> Record {
    Record {
        kind: T::KIND,
        id: value.id().to_owned(),
        scope: value.scope(),
        name: value.name().to_owned(),
        revision: value.revision(),
        document: serde_json::to_string(value).expect("a resource encodes"),
    }
}

fn decode<T: RegionResource>(document: &str) -> Result<T, StoreError> {
    serde_json::from_str(document).map_err(|error| {
        StoreError::Database(format!(
            "a stored {} does not decode: {error}",
            T::KIND.as_str()
        ))
    })
}

pub async fn insert<T: RegionResource>(
    store: &dyn RegionResourceStore,
    mut value: T,
    quota: Quota,
    audit: AuditLine,
) -> Result<T, StoreError> {
    value.set_revision(1);
    store.insert_resource(record(&value), quota, audit).await?;
    Ok(value)
}

pub async fn get<T: RegionResource>(
    store: &dyn RegionResourceStore,
    scope: &Scope,
    id: &str,
) -> Result<Option<T>, StoreError> {
    match store.resource(T::KIND, scope, id).await? {
        Some(document) => decode(&document).map(Some),
        None => Ok(None),
    }
}

pub async fn list<T: RegionResource>(
    store: &dyn RegionResourceStore,
    scope: &Scope,
) -> Result<Vec<T>, StoreError> {
    let documents = store.list_resources(T::KIND, scope).await?;
    documents.iter().map(|d| decode(d)).collect()
}

pub async fn all<T: RegionResource>(store: &dyn RegionResourceStore) -> Result<Vec<T>, StoreError> {
    let documents = store.all_resources(T::KIND).await?;
    documents.iter().map(|d| decode(d)).collect()
}

/// Writes the edited `value` (read at its revision) with its revision advanced.
pub async fn replace<T: RegionResource>(
    store: &dyn RegionResourceStore,
    mut value: T,
    audit: AuditLine,
) -> Result<T, StoreError> {
    let read = value.revision();
    value.set_revision(read + 1);
    store.replace_resource(record(&value), read, audit).await?;
    Ok(value)
}

pub async fn delete<T: RegionResource>(
    store: &dyn RegionResourceStore,
    value: &T,
    audit: AuditLine,
) -> Result<(), StoreError> {
    store
        .delete_resource(T::KIND, value.id(), value.revision(), audit)
        .await
}
