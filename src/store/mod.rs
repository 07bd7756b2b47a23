//! Durable state behind one trait: accounts, access keys, server and CA certificates with their
//! tags, certificates of the SSL Certificates Service, load balancers, the keyring, used nonces
//! and the audit trail. Two implementations: [`sqlite`] (embedded, one serving process per data
//! directory) and [`postgres`] (shared by any number of nodes).
//!
//! Every certificate operation is scoped to an account and a region ([`Scope`]): a row of
//! another account or region is indistinguishable from a missing one.

pub mod acls;
mod addresses;
pub mod certificate_orders;
mod certificates;
pub(crate) mod filters;
pub mod load_balancers;
pub mod monitoring;
pub mod postgres;
pub mod ram;
pub mod region_resources;
mod rules;
pub mod sqlite;
pub mod tls_policies;
pub mod user_certificates;
pub mod write_nonce;
pub mod write_stats;

pub use certificate_orders::CertificateOrderStore;
pub use certificates::{CertificateCount, CertificateField, CertificateStore};
pub use load_balancers::LoadBalancerStore;
pub use ram::RamStore;
pub use user_certificates::{UserCertificate, UserCertificateFilter, UserCertificateStore};
pub use write_stats::WriteStats;

/// Every family trait, for code that calls a store's methods directly.
pub mod prelude {
    pub use super::{
        AccountStore, AuditStore, CertificateOrderStore, CertificateStore, KeyringStore,
        LoadBalancerStore, NonceStore, RamStore, Store, TagStore, UserCertificateStore,
    };
}

use async_trait::async_trait;

pub(crate) use rules::{changed_some, check_quota, json_list, tags_from_json, tags_json};

use crate::audit::AuditLine;
use crate::crypto::{Binding, Sealed};

#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique identifier or name is already taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("over quota: {used} of {limit} used")]
    OverQuota { used: u64, limit: u64 },
    /// A resource named in a batch does not exist in the caller's scope.
    #[error("resource {0} not found")]
    NotFound(String),
    /// Tagging would leave a resource with more tags than allowed.
    #[error("resource {resource_id} would have {count} tags")]
    TagLimit { resource_id: String, count: u64 },
    /// The storage cannot take writes or reads now (disk full, I/O error, database locked or
    /// unreachable); trying again later may work. `what` may be told to clients; `detail` is
    /// for the operator's log.
    #[error("storage unavailable: {what} ({detail})")]
    Unavailable { what: &'static str, detail: String },
    /// The database turned this node away (pg_hba, a password, TLS) or its certificate is
    /// not trusted; the cause, in PostgreSQL's or rustls' words, is for the operator.
    #[error("the database refused this node: {0}")]
    Refused(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("the store is shutting down")]
    Closed,
    /// A record changed between the read an edit started from and its write.
    #[error("changed meanwhile")]
    Stale,
    /// A certificate is still named by a listener or domain extension.
    #[error("certificate {0} is in use")]
    InUse(String),
    /// An edit names a region resource (an access control list, a TLS cipher policy) that is
    /// not in its scope.
    #[error("no {} {id}", kind.as_str())]
    MissingResource {
        kind: region_resources::ResourceKind,
        id: String,
    },
    /// An edit names a certificate that is not there (or not of that kind).
    #[error("no {kind:?} certificate {id}")]
    MissingCertificate { kind: CertificateKind, id: String },
    /// A pool (of addresses) has nothing left.
    #[error("no {0} left")]
    Exhausted(&'static str),
    /// The write's request nonce was used already ([`write_nonce`]): nothing was changed.
    #[error("the request's nonce was used already")]
    NonceUsed,
}

impl StoreError {
    /// What a client (or a health check) may be told of a fault that makes the service
    /// unavailable; `None` for other errors.
    pub fn unavailable_reason(&self) -> Option<&'static str> {
        match self {
            StoreError::Unavailable { what, .. } => Some(what),
            StoreError::Refused(_) => Some("the database refused this node"),
            StoreError::Closed => Some("the store is shutting down"),
            _ => None,
        }
    }

    /// What `/healthz` says of it: a refusal with its cause (the operator's to fix), else the
    /// reason clients are told.
    pub fn health_reason(&self) -> Option<String> {
        match self {
            StoreError::Refused(cause) => Some(format!("the database refused this node: {cause}")),
            other => other.unavailable_reason().map(str::to_owned),
        }
    }
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
    /// Sealed with [`Binding::AccessKeySecret`]: a copy of the database does not reveal it.
    pub sealed_secret: Sealed,
    pub created_ms: i64,
    /// The RAM user it belongs to; `None` for the account's own (root) keys.
    pub user_id: Option<String>,
}

/// What signature verification needs to know about an AccessKey.
#[derive(Clone, Debug)]
pub struct AccessKeyOwner {
    pub account_id: String,
    pub sealed_secret: Sealed,
    pub default_resource_group_id: String,
    /// The account's name (what `OwnerAccount` may name).
    pub account_name: String,
    /// The RAM user it belongs to; `None` for the account's own (root) keys.
    pub user_id: Option<String>,
}

/// The account and region a certificate operation acts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub region_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertificateKind {
    Server,
    Ca,
}

impl CertificateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateKind::Server => "server",
            CertificateKind::Ca => "ca",
        }
    }

    /// The kind `as_str` stored.
    pub fn from_stored(text: &str) -> Option<CertificateKind> {
        match text {
            "server" => Some(CertificateKind::Server),
            "ca" => Some(CertificateKind::Ca),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Where a server certificate made from the SSL Certificates Service came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliCloudSource {
    pub certificate_id: String,
    pub certificate_name: String,
    pub region_id: String,
}

/// A server or CA certificate's metadata, as Describe shows it. Its PEM and key are apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub id: String,
    pub kind: CertificateKind,
    pub scope: Scope,
    pub name: String,
    pub resource_group_id: String,
    pub fingerprint: String,
    pub common_name: String,
    pub subject_alternative_names: Vec<String>,
    /// The public key's algorithm (`RSA`, `ECC`) and size in bits.
    pub encryption_algorithm: String,
    pub encryption_key_length: u32,
    pub expire_ms: i64,
    pub created_ms: i64,
    pub ali_cloud: Option<AliCloudSource>,
    /// In key order.
    pub tags: Vec<Tag>,
}

/// What an upload stores beside the metadata, in the same transaction.
#[derive(Debug)]
pub struct CertificateMaterial {
    /// The certificate followed by its chain (or the CA bundle), as normalised PEM.
    pub certificate_pem: String,
    /// Server certificates only, sealed with [`Binding::CertificateKey`] (or, in the SSL
    /// Certificates Service, [`Binding::UserCertificateKey`]).
    pub private_key: Option<Sealed>,
}

/// A tag a certificate must carry: `value: None` matches any value of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

/// Filters of Describe, within one scope and kind. Empty lists filter nothing.
#[derive(Clone, Debug, Default)]
pub struct CertificateFilter {
    pub ids: Vec<String>,
    pub resource_group_id: Option<String>,
    /// A certificate must carry every one.
    pub tags: Vec<TagFilter>,
}

/// Position after the last row of a page of tags: (certificate upload order, tag key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagCursor {
    pub seq: i64,
    pub key: String,
}

/// ListTagResources, within one scope, over server and CA certificates alike.
#[derive(Clone, Debug, Default)]
pub struct TagQuery {
    pub resource_ids: Vec<String>,
    /// A certificate's tags are listed if it carries every one.
    pub tags: Vec<TagFilter>,
    pub after: Option<TagCursor>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaggedResource {
    pub resource_id: String,
    pub tag: Tag,
    pub cursor: TagCursor,
}

/// Per account and region; `None` is unlimited.
pub type Quota = Option<u64>;

/// A sealed value and the record it belongs to, for re-wrapping under a newer KEK.
#[derive(Clone, Debug)]
pub struct SealedValue {
    pub binding: Binding,
    pub sealed: Sealed,
}

/// Replaces `old` by `new` at `binding`, unless the value changed meanwhile.
#[derive(Clone, Debug)]
pub struct SealedUpdate {
    pub binding: Binding,
    pub old: Sealed,
    pub new: Sealed,
}

/// A `SignatureNonce` an AccessKey used, kept until `expires_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedNonce {
    pub access_key_id: String,
    pub nonce: String,
    pub expires_ms: i64,
}

/// One record of the audit trail, numbered in commit order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub line: AuditLine,
}

/// The audit trail of record. Each mutation of every family takes the line of its success and
/// stores it in the same transaction; refusals come from the [`crate::audit::RefusalQueue`]
/// the store was opened with.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Stores `line` alone (the reveal of a private key): Ok once it is durable.
    async fn record(&self, line: AuditLine) -> Result<(), StoreError>;
    /// Up to `limit` records after `seq`, in order.
    async fn audit_records_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The last record known to be in the exported log (durable).
    async fn audit_export_cursor(&self) -> Result<i64, StoreError>;
    /// Moves the export cursor to `seq`; it becomes durable with the next batch.
    fn advance_audit_export_cursor(&self, seq: i64);
    /// Notified after each commit that stored records.
    fn audit_appended(&self) -> std::sync::Arc<tokio::sync::Notify>;
    /// Stores now what waits to ride with a later write (refused requests' records), as the
    /// server stops. SQLite's writer does so itself when it ends.
    async fn store_queued(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Accounts and their AccessKeys.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn insert_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Stores the account only if there is none yet (the first start of a fresh store; nodes
    /// starting together make one between them). Whether it was stored.
    async fn insert_first_account(
        &self,
        account: Account,
        key: AccessKey,
        audit: AuditLine,
    ) -> Result<bool, StoreError>;
    async fn count_accounts(&self) -> Result<u64, StoreError>;
    /// Empties the store but for the account `keep_account_id` and its own (root) keys:
    /// certificates, load balancers, RAM state and users' keys, other accounts. The audit
    /// trail and used nonces stay. One transaction.
    async fn reset(&self, keep_account_id: &str, audit: AuditLine) -> Result<(), StoreError>;
    /// The account's own (root) AccessKeys: their IDs and when each was made, oldest first.
    async fn root_access_keys(&self, account_id: &str) -> Result<Vec<(String, i64)>, StoreError>;
    /// The account `account_id`, or with `None` the first `limit` accounts made.
    async fn accounts(
        &self,
        account_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError>;
    async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyOwner>, StoreError>;
}

/// Tags of server and CA certificates.
#[async_trait]
pub trait TagStore: Send + Sync {
    async fn tag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        tags: Vec<Tag>,
        max_per_resource: u64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn untag_certificates(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        keys: Option<Vec<String>>,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn list_certificate_tags(
        &self,
        scope: &Scope,
        query: &TagQuery,
    ) -> Result<Vec<TaggedResource>, StoreError>;
}

/// The keyring: KEK versions with their keys wrapped by the master key, and the sealed values
/// under each.
#[async_trait]
pub trait KeyringStore: Send + Sync {
    async fn key_encryption_keys(&self) -> Result<Vec<(u32, Vec<u8>)>, StoreError>;
    async fn newest_key_encryption_key(&self) -> Result<Option<u32>, StoreError>;
    async fn insert_key_encryption_key(
        &self,
        version: u32,
        wrapped: Vec<u8>,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn sealed_values_below(
        &self,
        version: u32,
        limit: usize,
    ) -> Result<Vec<SealedValue>, StoreError>;
    async fn count_sealed_values_below(&self, version: u32) -> Result<u64, StoreError>;
    async fn replace_sealed_values(
        &self,
        updates: Vec<SealedUpdate>,
        audit: AuditLine,
    ) -> Result<usize, StoreError>;
    /// A number that moves when another process adds a KEK, as far as the store hears of it
    /// without asking (0 forever for a store that hears nothing: readers then re-read).
    fn keyring_epoch(&self) -> u64 {
        0
    }
}

/// `SignatureNonce`s used within their window. The caller checks its own process's nonces in
/// memory first; the store answers for the others (an earlier process, another node).
#[async_trait]
pub trait NonceStore: Send + Sync {
    /// Records `nonce` as used until it expires, unless another process used it and it is
    /// still live: whether this use is the first.
    async fn claim_nonce(&self, nonce: UsedNonce, now_ms: i64) -> Result<bool, StoreError>;
    /// Whether a write's commit claims the request's nonce itself ([`write_nonce`]).
    fn claims_nonces_in_writes(&self) -> bool {
        false
    }
    /// Whether every claim, this process's too, is judged against every earlier one (else the
    /// process's own nonces are judged in its memory only).
    fn remembers_every_nonce(&self) -> bool {
        false
    }
}

/// What `AccountStore::reset` deletes, in this order (children before their parents); the
/// last two keep the given account and its root keys.
pub const RESET_STATEMENTS: [&str; 15] = [
    "DELETE FROM certificate_tags",
    "DELETE FROM certificate_references",
    "DELETE FROM region_resource_references",
    "DELETE FROM region_resources",
    "DELETE FROM load_balancer_children",
    "DELETE FROM load_balancers",
    "DELETE FROM certificate_keys",
    "DELETE FROM certificates",
    "DELETE FROM user_certificates",
    "DELETE FROM certificate_orders",
    "DELETE FROM acme_accounts",
    "DELETE FROM ram_documents",
    "UPDATE load_balancer_generation SET value = value + 1 WHERE id = 1",
    "DELETE FROM access_keys WHERE account_id <> $1 OR user_id IS NOT NULL",
    "DELETE FROM accounts WHERE account_id <> $1",
];

/// All of the store's families, and whether it can take writes.
#[async_trait]
pub trait Store:
    AccountStore
    + CertificateStore
    + TagStore
    + UserCertificateStore
    + CertificateOrderStore
    + KeyringStore
    + NonceStore
    + LoadBalancerStore
    + region_resources::RegionResourceStore
    + RamStore
    + AuditStore
    + Send
    + Sync
{
    async fn check_writable(&self) -> Result<(), StoreError>;

    /// How the writer's commits go, for `/metrics`.
    fn write_stats(&self) -> &WriteStats;
}
