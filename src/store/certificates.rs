//! The certificate family's store: server and CA certificates, scoped to an account and a
//! region, and what operators count of them.

use async_trait::async_trait;

use super::{
    Certificate, CertificateFilter, CertificateKind, CertificateMaterial, Quota, Scope, StoreError,
};
use crate::audit::AuditLine;

/// What of a certificate may change after upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateField {
    Name,
    ResourceGroup,
}

/// Server and CA certificates, scoped to an account and a region.
#[async_trait]
pub trait CertificateStore: Send + Sync {
    async fn insert_certificate(
        &self,
        certificate: Certificate,
        material: CertificateMaterial,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn list_certificates(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        filter: &CertificateFilter,
    ) -> Result<Vec<Certificate>, StoreError>;
    async fn delete_certificate(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Sets the name or the resource group of one certificate.
    async fn set_certificate_field(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
        field: CertificateField,
        value: &str,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn certificate_material(
        &self,
        scope: &Scope,
        kind: CertificateKind,
        id: &str,
    ) -> Result<Option<CertificateMaterial>, StoreError>;
    /// Server and CA certificates of every account whose notAfter is before `before_ms`,
    /// soonest first, at most `limit` (without their tags): what expires, for operators.
    async fn certificates_expiring_before(
        &self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<Certificate>, StoreError>;
    /// How many server and CA certificates each account holds in each region, and how many
    /// of those expire before each of `before_ms`.
    async fn count_certificates(
        &self,
        before_ms: [i64; 2],
    ) -> Result<Vec<CertificateCount>, StoreError>;
}

/// Certificates of one kind in one account's region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateCount {
    pub scope: Scope,
    pub kind: CertificateKind,
    pub total: u64,
    /// Of `total`, those that expire before each moment asked about.
    pub expiring: [u64; 2],
}

impl CertificateCount {
    /// From a row of `count_certificates`' query: account, region, kind and the three counts.
    pub(super) fn from_row(
        account_id: String,
        region_id: String,
        kind: &str,
        counts: [i64; 3],
    ) -> Self {
        let [total, first, second] = counts.map(|n| n.max(0) as u64);
        CertificateCount {
            scope: Scope {
                account_id,
                region_id,
            },
            kind: CertificateKind::from_stored(kind).unwrap_or(CertificateKind::Server),
            total,
            expiring: [first, second],
        }
    }
}
