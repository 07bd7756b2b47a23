//! The products this endpoint serves, one folder each, one module per family of actions.
//! Each action parses its parameters into a typed request at the edge, then acts on the store
//! within the caller's account (and region). Which action runs is decided in
//! [`crate::dispatch`].

pub mod cas;
mod edit_locks;
pub mod inputs;
pub mod ram;
pub mod slb;
pub mod sts;
pub mod views;

pub use edit_locks::EditLocks;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::access::{Caller, Verifier};
use crate::access::{Directory, Facts};
use crate::api::params::RpcParams;
use crate::audit::AuditRecord;
use crate::store::{Quota, Store};
use crate::vault::Vault;

/// Server Load Balancer.
pub const SLB_VERSION: &str = "2014-05-15";
/// SSL Certificates Service, served on the same endpoint and told apart by version.
pub const CAS_VERSION: &str = "2020-04-07";
/// Resource Access Management: users, groups, policies, roles.
pub const RAM_VERSION: &str = "2015-05-01";
/// Security Token Service: temporary credentials of roles.
pub const STS_VERSION: &str = "2015-04-01";

/// A product this endpoint serves, told apart by version.
pub struct Product {
    pub version: &'static str,
    /// The service code of policies' actions and ARNs (`slb:UploadServerCertificate`).
    pub service: &'static str,
    /// How error envelopes name it (`Recommend`).
    pub envelope: &'static str,
}

const PRODUCTS: &[Product] = &[
    Product {
        version: SLB_VERSION,
        service: "slb",
        envelope: crate::api::PRODUCT_SLB,
    },
    Product {
        version: CAS_VERSION,
        service: "yundun-cert",
        envelope: crate::api::PRODUCT_CAS,
    },
    Product {
        version: RAM_VERSION,
        service: "ram",
        envelope: crate::api::PRODUCT_RAM,
    },
    Product {
        version: STS_VERSION,
        service: "sts",
        envelope: crate::api::PRODUCT_STS,
    },
];

/// The product of an API version.
pub fn product(version: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|product| product.version == version)
}

/// Settings that shape what actions allow.
#[derive(Clone, Debug)]
pub struct Limits {
    pub server_certificates_per_region: Quota,
    pub ca_certificates_per_region: Quota,
    pub load_balancers: slb::LoadBalancerLimits,
}

/// Everything an action may use.
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub vault: &'a Vault,
    /// STS mints tokens with its key.
    pub verifier: &'a Verifier,
    /// RAM's state as requests see it (STS reads roles from it).
    pub directory: &'a Directory,
    /// What the request is, for conditions of trust policies.
    pub facts: &'a Facts,
    pub caller: &'a Caller,
    pub params: &'a RpcParams,
    pub limits: &'a Limits,
    /// The `Host` the request was sent to, for actions that infer a missing RegionId from it.
    pub host: &'a str,
    /// This request's audit record: a mutation hands the store its success line.
    pub audit: &'a AuditRecord,
    /// Queues this process's edits of one resource behind each other.
    pub edit_locks: &'a EditLocks,
    /// The data plane's health checks (`None` when it does not run).
    pub health: Option<&'a crate::dataplane::HealthTable>,
    /// The ACME CA certificates are applied to (`None` without `--acme-directory`).
    pub issuer: Option<&'a crate::issuance::Issuer>,
    pub now: OffsetDateTime,
}

/// The fields of a response, without `RequestId`.
pub type Fields = Map<String, Value>;

/// A serializable response view as response fields.
pub fn to_fields(view: impl serde::Serialize) -> Result<Fields, crate::api::error::ApiError> {
    match views::value(view)? {
        Value::Object(fields) => Ok(fields),
        // A bug, not the client's: a 500 with the cause logged, never an empty success.
        other => {
            tracing::error!(kind = ?other, "a response view is not an object");
            Err(crate::api::error::ApiError::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_that_does_not_serialize_to_an_object_is_an_internal_error_not_an_empty_success() {
        #[derive(serde::Serialize)]
        struct Fine {
            #[serde(rename = "Name")]
            name: &'static str,
        }
        let fields = to_fields(Fine { name: "a" }).unwrap();
        assert_eq!(fields["Name"], "a");
        let not_an_object = to_fields(5).unwrap_err();
        assert_eq!(not_an_object.code(), "InternalError");
        // A map whose keys are not strings cannot be JSON.
        let keys = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert_eq!(to_fields(keys).unwrap_err().code(), "InternalError");
    }
}
