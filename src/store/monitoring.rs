//! A region's high-definition monitoring settings (EnableHighDefinationMonitor): the Log
//! Service project and logstore, one per account and region, stored as a
//! [region resource](super::region_resources).

use serde::{Deserialize, Serialize};

use super::region_resources::{RegionResource, ResourceKind};
use super::{Scope, Tag};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HdMonitor {
    pub account_id: String,
    pub region_id: String,
    pub project: String,
    pub store: String,
    pub tags: Vec<Tag>,
    pub revision: i64,
    /// `hdmonitor-<account>-<region>`: the one of its scope.
    pub id: String,
}

impl HdMonitor {
    pub fn id_of(scope: &Scope) -> String {
        format!("hdmonitor-{}-{}", scope.account_id, scope.region_id)
    }
}

impl RegionResource for HdMonitor {
    const KIND: ResourceKind = ResourceKind::HdMonitor;

    fn id(&self) -> &str {
        &self.id
    }

    /// One per scope: the name is constant, so a second is refused as a duplicate name.
    fn name(&self) -> &str {
        "hd-monitor"
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
