//! The API's actions, one module per family. Each action parses its parameters into a typed
//! request at the edge, then acts on the store within the caller's account and region.

mod ca_certificate;
mod certificates;
mod fields;
mod regions;
mod server_certificate;
mod tags;
mod user_certificate;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::api::signature::Caller;
use crate::audit::{AuditLog, AuditRecord};
use crate::crypto::Vault;
use crate::store::{Quota, Store};

/// Server Load Balancer.
pub const SLB_VERSION: &str = "2014-05-15";
/// SSL Certificates Service, served on the same endpoint and told apart by version.
pub const CAS_VERSION: &str = "2020-04-07";

macro_rules! actions {
    ($($version:ident => [$($action:ident),* $(,)?]),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Action { $($($action,)*)* }

        impl Action {
            /// The action named `name` in product version `version`.
            pub fn resolve(version: &str, name: &str) -> Result<Action, ApiError> {
                $(if version == $version {
                    return match name {
                        $(stringify!($action) => Ok(Action::$action),)*
                        _ => Err(ApiError::InvalidAction(name.to_owned())),
                    };
                })*
                Err(ApiError::InvalidVersion(version.to_owned()))
            }

            pub fn name(self) -> &'static str {
                match self { $($(Action::$action => stringify!($action),)*)* }
            }
        }
    };
}

actions! {
    SLB_VERSION => [
        UploadServerCertificate, DescribeServerCertificates, DeleteServerCertificate,
        SetServerCertificateName, UploadCACertificate, DescribeCACertificates,
        DeleteCACertificate, SetCACertificateName, TagResources, UntagResources,
        ListTagResources, DescribeRegions,
    ],
    CAS_VERSION => [
        UploadUserCertificate, GetUserCertificateDetail, ListUserCertificateOrder,
        DeleteUserCertificate,
    ],
}

impl Action {
    /// Whether the action changes state (and so is audited).
    pub fn is_mutating(self) -> bool {
        !matches!(
            self,
            Action::DescribeServerCertificates
                | Action::DescribeCACertificates
                | Action::ListTagResources
                | Action::DescribeRegions
                | Action::GetUserCertificateDetail
                | Action::ListUserCertificateOrder
        )
    }
}

/// Settings that shape what actions allow.
#[derive(Clone, Debug)]
pub struct Limits {
    pub server_certificates_per_region: Quota,
    pub ca_certificates_per_region: Quota,
}

/// Everything an action may use.
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub vault: &'a Vault,
    pub caller: &'a Caller,
    pub params: &'a RpcParams,
    pub limits: &'a Limits,
    /// This request's audit record: a mutation hands the store its success line.
    pub audit: &'a AuditRecord,
    /// For the few reads that must be audited (a private key handed out).
    pub audit_log: &'a AuditLog,
    pub now: OffsetDateTime,
}

/// The fields of a response, without `RequestId`.
pub type Fields = Map<String, Value>;

/// Runs `action`.
pub async fn run(action: Action, context: &Context<'_>) -> Result<Fields, ApiError> {
    use {ca_certificate as ca, server_certificate as server, user_certificate as user};
    match action {
        Action::UploadServerCertificate => server::upload(context).await,
        Action::DescribeServerCertificates => server::describe(context).await,
        Action::DeleteServerCertificate => certificates::delete(context, &server::SPEC).await,
        Action::SetServerCertificateName => certificates::rename(context, &server::SPEC).await,
        Action::UploadCACertificate => ca::upload(context).await,
        Action::DescribeCACertificates => ca::describe(context).await,
        Action::DeleteCACertificate => certificates::delete(context, &ca::SPEC).await,
        Action::SetCACertificateName => certificates::rename(context, &ca::SPEC).await,
        Action::TagResources => tags::tag(context).await,
        Action::UntagResources => tags::untag(context).await,
        Action::ListTagResources => tags::list(context).await,
        Action::DescribeRegions => regions::describe(context),
        Action::UploadUserCertificate => user::upload(context).await,
        Action::GetUserCertificateDetail => user::detail(context).await,
        Action::ListUserCertificateOrder => user::list(context).await,
        Action::DeleteUserCertificate => user::delete(context).await,
    }
}

/// A serializable response view as response fields.
fn to_fields(view: impl serde::Serialize) -> Fields {
    match serde_json::to_value(view) {
        Ok(Value::Object(fields)) => fields,
        _ => Fields::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_actions_by_product_version() {
        assert_eq!(
            Action::resolve("2014-05-15", "UploadServerCertificate").unwrap(),
            Action::UploadServerCertificate
        );
        assert_eq!(
            Action::resolve("2020-04-07", "UploadUserCertificate").unwrap(),
            Action::UploadUserCertificate
        );
        assert_eq!(Action::UploadCACertificate.name(), "UploadCACertificate");
        let mutating: Vec<&str> = [
            Action::UploadServerCertificate,
            Action::DescribeServerCertificates,
            Action::DeleteCACertificate,
            Action::ListTagResources,
            Action::UntagResources,
            Action::DescribeRegions,
            Action::GetUserCertificateDetail,
            Action::DeleteUserCertificate,
        ]
        .into_iter()
        .filter(|a| a.is_mutating())
        .map(Action::name)
        .collect();
        assert_eq!(
            mutating,
            [
                "UploadServerCertificate",
                "DeleteCACertificate",
                "UntagResources",
                "DeleteUserCertificate"
            ]
        );
        // Each product has its own actions.
        assert_eq!(
            Action::resolve("2020-04-07", "UploadServerCertificate")
                .unwrap_err()
                .code(),
            "InvalidAction.NotFound"
        );
        assert_eq!(
            Action::resolve("2014-05-15", "CreateLoadBalancer")
                .unwrap_err()
                .code(),
            "InvalidAction.NotFound"
        );
        assert_eq!(
            Action::resolve("2016-01-01", "UploadServerCertificate")
                .unwrap_err()
                .code(),
            "InvalidVersion"
        );
    }
}
