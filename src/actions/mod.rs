//! The API's actions, one module per family. Each action parses its parameters into a typed
//! request at the edge, then acts on the store within the caller's account and region.

mod fields;
pub mod server_certificate;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::api::signature::Caller;
use crate::store::{Quota, Store};

/// The product version this endpoint serves.
pub const SLB_VERSION: &str = "2014-05-15";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    UploadServerCertificate,
    DescribeServerCertificates,
    DeleteServerCertificate,
    SetServerCertificateName,
}

impl Action {
    const ALL: [Action; 4] = [
        Action::UploadServerCertificate,
        Action::DescribeServerCertificates,
        Action::DeleteServerCertificate,
        Action::SetServerCertificateName,
    ];

    /// The action named `name` in product version `version`.
    pub fn resolve(version: &str, name: &str) -> Result<Action, ApiError> {
        if version != SLB_VERSION {
            return Err(ApiError::InvalidVersion(version.to_owned()));
        }
        Action::ALL
            .into_iter()
            .find(|action| action.name() == name)
            .ok_or_else(|| ApiError::InvalidAction(name.to_owned()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::UploadServerCertificate => "UploadServerCertificate",
            Action::DescribeServerCertificates => "DescribeServerCertificates",
            Action::DeleteServerCertificate => "DeleteServerCertificate",
            Action::SetServerCertificateName => "SetServerCertificateName",
        }
    }
}

/// Settings that shape what actions allow.
#[derive(Clone, Debug)]
pub struct Limits {
    pub server_certificates_per_region: Quota,
}

/// Everything an action may use.
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub caller: &'a Caller,
    pub params: &'a RpcParams,
    pub limits: &'a Limits,
    pub now: OffsetDateTime,
}

/// Runs `action`; the result is the response's fields, without `RequestId`.
pub async fn run(action: Action, context: &Context<'_>) -> Result<Map<String, Value>, ApiError> {
    use server_certificate as server;
    match action {
        Action::UploadServerCertificate => server::upload(context).await,
        Action::DescribeServerCertificates => server::describe(context).await,
        Action::DeleteServerCertificate => server::delete(context).await,
        Action::SetServerCertificateName => server::set_name(context).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_actions_of_our_version_only() {
        assert_eq!(
            Action::resolve("2014-05-15", "UploadServerCertificate").unwrap(),
            Action::UploadServerCertificate
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
