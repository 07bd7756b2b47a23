//! The errors of the layers below the API, each mapped once to what a client is told.

use super::{AclError, ApiError};
use crate::issuance::IssuanceError;
use crate::regions::UnknownRegion;
use crate::store::StoreError;
use crate::store::region_resources::ResourceKind;
use crate::vault::VaultError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::OverQuota { used, limit } => {
                ApiError::OverQuota(format!("{used} of {limit} used"))
            }
            StoreError::NotFound(id) => ApiError::ResourceNotFound(id),
            StoreError::TagLimit { resource_id, count } => ApiError::TagCountLimit(format!(
                "{resource_id} would have {count} tags; at most 20 are allowed"
            )),
            StoreError::Closed => ApiError::ServiceUnavailable,
            StoreError::NonceUsed => ApiError::SignatureNonceUsed,
            StoreError::InUse(id) => ApiError::CertificateInUse(id),
            StoreError::Exhausted(_) => ApiError::ObtainIpFail,
            StoreError::Stale => ApiError::OperationBusy,
            StoreError::MissingCertificate { kind, id } => match kind {
                crate::store::CertificateKind::Server => ApiError::ServerCertificateNotFound(id),
                crate::store::CertificateKind::Ca => ApiError::CaCertificateNotFound(id),
            },
            StoreError::MissingResource { kind, id } => match kind {
                ResourceKind::Acl => AclError::NotExist(id).into(),
                ResourceKind::TlsCipherPolicy => ApiError::TlsCipherPolicyNotFound(id),
                // Listeners never name it.
                ResourceKind::HdMonitor => ApiError::ResourceNotFound(id),
            },
            // The client learns what kind of fault, not the paths or SQLite's words.
            fault @ (StoreError::Unavailable { .. } | StoreError::Refused(_)) => {
                tracing::error!(error = %fault, "storage fault; nothing was changed");
                let what = fault.unavailable_reason().unwrap_or_default();
                ApiError::StorageUnavailable(what.into())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::Internal
            }
        }
    }
}

impl From<UnknownRegion> for ApiError {
    fn from(unknown: UnknownRegion) -> Self {
        ApiError::InvalidRegionId(unknown.0)
    }
}

impl From<VaultError> for ApiError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Store(store) => store.into(),
            // A sealed value that does not open is damage or tampering, never the client's doing.
            other => {
                tracing::error!(error = %other, "a sealed secret cannot be used");
                ApiError::Internal
            }
        }
    }
}

impl From<IssuanceError> for ApiError {
    fn from(error: IssuanceError) -> Self {
        match error {
            IssuanceError::Refused(detail) => ApiError::CertificateAuthorityRefused(detail),
            IssuanceError::Unavailable(detail) => {
                tracing::warn!(%detail, "the certificate authority is unavailable");
                ApiError::CertificateAuthorityUnavailable(detail)
            }
            IssuanceError::Store(error) => error.into(),
            IssuanceError::Vault(error) => error.into(),
        }
    }
}
