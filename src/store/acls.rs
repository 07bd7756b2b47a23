//! Access control lists: named sets of CIDR blocks that listeners filter client addresses by,
//! stored as [region resources](super::region_resources).

use serde::{Deserialize, Serialize};

use super::Tag;
use super::region_resources::{ResourceKind, region_resource};

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

region_resource!(Acl, ResourceKind::Acl);
