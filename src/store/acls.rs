//! Access control lists: named sets of CIDR blocks that listeners filter client addresses by.
//! Stored as one JSON document each, changed compare-and-swap like load balancers; listeners
//! name them (`AclId`), and the store keeps those references so that a named list cannot be
//! deleted and a listener cannot name a missing one. Every change advances the load balancer
//! generation, so the data plane applies it at once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Quota, Scope, StoreError, Tag};
use crate::audit::AuditLine;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    /// `ipv4` or `ipv6`.
    pub ip_version: String,
    pub resource_group_id: String,
    pub created_ms: i64,
    pub tags: Vec<Tag>,
    /// In the order they were added.
    pub entries: Vec<AclEntry>,
    /// Advanced by every change.
    pub revision: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    /// A CIDR block in its canonical form (`10.0.0.0/8`).
    pub entry: String,
    pub comment: String,
}

impl Acl {
    pub fn to_document(&self) -> String {
        serde_json::to_string(self).expect("an access control list encodes")
    }

    pub fn from_document(document: &str) -> Result<Acl, StoreError> {
        serde_json::from_str(document).map_err(|error| {
            StoreError::Database(format!("an access control list does not decode: {error}"))
        })
    }

    pub fn scope(&self) -> Scope {
        Scope {
            account_id: self.account_id.clone(),
            region_id: self.region_id.clone(),
        }
    }
}

#[async_trait]
pub trait AclStore: Send + Sync {
    /// Stores a new list unless its scope holds `quota` of them already (`OverQuota`) or one
    /// of the same name (`Conflict("name")`).
    async fn insert_acl(&self, acl: Acl, quota: Quota, audit: AuditLine)
    -> Result<Acl, StoreError>;
    async fn acl(&self, scope: &Scope, id: &str) -> Result<Option<Acl>, StoreError>;
    /// In creation order.
    async fn list_acls(&self, scope: &Scope) -> Result<Vec<Acl>, StoreError>;
    /// Writes it with its revision advanced: `NotFound` if it is gone, `Stale` if it changed
    /// since it was read, `Conflict("name")` if another list of its scope has its name.
    async fn replace_acl(&self, edited: Acl, audit: AuditLine) -> Result<Acl, StoreError>;
    /// Deletes it unless a listener names it (`InUse`) or it changed since it was read.
    async fn delete_acl(&self, read: &Acl, audit: AuditLine) -> Result<(), StoreError>;
    /// The load balancers (by ID) whose listeners name it.
    async fn acl_users(&self, id: &str) -> Result<Vec<String>, StoreError>;
    /// Every account's lists, for the data plane.
    async fn all_acls(&self) -> Result<Vec<Acl>, StoreError>;
}
