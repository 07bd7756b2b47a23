//! Certificates of the SSL Certificates Service: per account, not per region, with their keys
//! in the same row.

use async_trait::async_trait;

use super::{CertificateMaterial, StoreError, Tag};
use crate::audit::AuditLine;
use crate::clock;
use crate::pki::certificate::CertificateInfo;
use crate::pki::public_key::PublicKey;

/// A certificate uploaded to the SSL Certificates Service (per account, not per region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCertificate {
    pub cert_id: i64,
    pub account_id: String,
    pub name: String,
    pub resource_group_id: String,
    pub fingerprint: String,
    pub common_name: String,
    pub subject_alternative_names: Vec<String>,
    pub issuer: String,
    pub serial_number: String,
    pub algorithm: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub created_ms: i64,
    pub tags: Vec<Tag>,
    /// The `ClientToken` of the upload that made it: a retry with the same token gets it back.
    pub client_token: Option<String>,
}

/// What names a certificate in the list besides what its leaf says.
#[derive(Clone, Debug)]
pub struct Listing {
    pub cert_id: i64,
    pub account_id: String,
    pub name: String,
    pub resource_group_id: String,
    pub created_ms: i64,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
}

impl UserCertificate {
    /// The list's record of a certificate whose leaf is `leaf` (an upload's, or one issued).
    pub fn describing(leaf: &CertificateInfo, listing: Listing) -> UserCertificate {
        UserCertificate {
            cert_id: listing.cert_id,
            account_id: listing.account_id,
            name: listing.name,
            resource_group_id: listing.resource_group_id,
            fingerprint: leaf.fingerprint.clone(),
            common_name: leaf.common_name.clone(),
            subject_alternative_names: leaf.subject_alternative_names.clone(),
            issuer: leaf.issuer.clone(),
            serial_number: leaf.serial_number.clone(),
            algorithm: match leaf.public_key {
                PublicKey::Rsa { .. } => "RSA",
                PublicKey::Ec { .. } => "ECC",
                PublicKey::Unsupported(_) => "",
            }
            .into(),
            not_before_ms: clock::unix_ms(leaf.not_before),
            not_after_ms: clock::unix_ms(leaf.not_after),
            created_ms: listing.created_ms,
            tags: listing.tags,
            client_token: listing.client_token,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct UserCertificateFilter {
    pub resource_group_id: Option<String>,
    /// Matches a substring of the name, the common name or a subject alternative name.
    pub keyword: Option<String>,
    /// Only certificates whose notAfter is at or after this (epoch ms).
    pub not_after_from: Option<i64>,
    /// Only certificates whose notAfter is before this (epoch ms).
    pub not_after_until: Option<i64>,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

/// Certificates of the SSL Certificates Service (per account).
#[async_trait]
pub trait UserCertificateStore: Send + Sync {
    async fn insert_user_certificate(
        &self,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
    ) -> Result<Option<(UserCertificate, CertificateMaterial)>, StoreError>;
    async fn user_certificate_by_client_token(
        &self,
        account_id: &str,
        client_token: &str,
    ) -> Result<Option<i64>, StoreError>;
    async fn list_user_certificates(
        &self,
        account_id: &str,
        filter: &UserCertificateFilter,
    ) -> Result<(Vec<UserCertificate>, u64), StoreError>;
    async fn delete_user_certificate(
        &self,
        account_id: &str,
        cert_id: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
}
