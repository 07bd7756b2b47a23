//! Custom TLS cipher policies (`tls-…`): the versions and ciphers an HTTPS listener naming one
//! offers, stored as [region resources](super::region_resources).

use serde::{Deserialize, Serialize};

use super::region_resources::{ResourceKind, region_resource};

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

region_resource!(TlsCipherPolicy, ResourceKind::TlsCipherPolicy);
