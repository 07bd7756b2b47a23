//! Custom TLS cipher policies (`tls-…`): the versions and ciphers an HTTPS listener naming one
//! offers, stored as [region resources](super::region_resources).

use serde::{Deserialize, Serialize};

use super::Scope;
use super::region_resources::{RegionResource, ResourceKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsCipherPolicy {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    /// `TLSv1.2`, `TLSv1.3`, as given.
    pub versions: Vec<String>,
    /// SLB's cipher names, as given.
    pub ciphers: Vec<String>,
    pub created_ms: i64,
    pub revision: i64,
}

impl RegionResource for TlsCipherPolicy {
    const KIND: ResourceKind = ResourceKind::TlsCipherPolicy;

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn scope(&self) -> Scope {
        Scope {
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
