//! A region's high-definition monitoring settings (EnableHighDefinationMonitor): the Log
//! Service project and logstore, one per account and region, stored as a
//! [region resource](super::region_resources).

use serde::{Deserialize, Serialize};

use super::region_resources::{ResourceKind, region_resource};
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
    /// Always `hd-monitor`: a second of the scope is refused as a duplicate name.
    pub name: String,
}

impl HdMonitor {
    pub fn id_of(scope: &Scope) -> String {
        format!("hdmonitor-{}-{}", scope.account_id, scope.region_id)
    }
}

region_resource!(HdMonitor, ResourceKind::HdMonitor);
