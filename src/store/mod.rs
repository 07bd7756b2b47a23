//! Durable state behind one trait: accounts, access keys and server certificates.
//!
//! Every certificate operation is scoped to an account and a region ([`Scope`]): a row of
//! another account or region is indistinguishable from a missing one.

pub mod sqlite;

use async_trait::async_trait;

use crate::crypto::{SealedPrivateKey, Secret};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique identifier is already taken (new IDs are random; the caller draws again).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("over quota: {used} of {limit} used")]
    OverQuota { used: u64, limit: u64 },
    #[error("database error: {0}")]
    Database(String),
    #[error("the store is shutting down")]
    Closed,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub account_id: String,
    pub name: String,
    pub default_resource_group_id: String,
    pub created_ms: i64,
}

#[derive(Clone, Debug)]
pub struct AccessKey {
    pub access_key_id: String,
    pub account_id: String,
    pub secret: Secret,
    pub created_ms: i64,
}

/// What signature verification needs to know about an AccessKey.
#[derive(Clone, Debug)]
pub struct AccessKeyOwner {
    pub account_id: String,
    pub secret: Secret,
    pub default_resource_group_id: String,
}

/// The account and region a certificate operation acts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub region_id: String,
}

/// A server certificate's metadata, as Describe shows it. The private key is not here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCertificate {
    pub id: String,
    pub scope: Scope,
    pub name: String,
    pub resource_group_id: String,
    pub fingerprint: String,
    pub common_name: String,
    pub subject_alternative_names: Vec<String>,
    pub expire_ms: i64,
    pub created_ms: i64,
}

/// What an upload stores beside the metadata, in the same transaction.
#[derive(Debug)]
pub struct CertificateMaterial {
    /// The leaf certificate followed by its chain, as normalised PEM.
    pub certificate_pem: String,
    pub private_key: SealedPrivateKey,
}

/// Filters of DescribeServerCertificates, within one scope. Empty lists filter nothing.
#[derive(Clone, Debug, Default)]
pub struct ServerCertificateFilter {
    pub ids: Vec<String>,
    pub resource_group_id: Option<String>,
}

/// Per account and region; `None` is unlimited.
pub type Quota = Option<u64>;

#[async_trait]
pub trait Store: Send + Sync {
    async fn insert_account(&self, account: Account, key: AccessKey) -> Result<(), StoreError>;
    async fn count_accounts(&self) -> Result<u64, StoreError>;
    async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyOwner>, StoreError>;

    /// Stores the certificate, its chain and its key in one transaction, unless the scope
    /// already holds `quota` certificates.
    async fn insert_server_certificate(
        &self,
        certificate: ServerCertificate,
        material: CertificateMaterial,
        quota: Quota,
    ) -> Result<(), StoreError>;
    async fn list_server_certificates(
        &self,
        scope: &Scope,
        filter: &ServerCertificateFilter,
    ) -> Result<Vec<ServerCertificate>, StoreError>;
    /// False if no such certificate exists in the scope.
    async fn delete_server_certificate(&self, scope: &Scope, id: &str) -> Result<bool, StoreError>;
    /// False if no such certificate exists in the scope.
    async fn rename_server_certificate(
        &self,
        scope: &Scope,
        id: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
    /// The PEM chain and sealed key of a certificate in the scope.
    async fn server_certificate_material(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<CertificateMaterial>, StoreError>;
}
