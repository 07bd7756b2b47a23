//! Certificate orders of the SSL Certificates Service (`CreateCertificateRequest`): per
//! account, worked by the issuance loop of whichever node holds an order's lease.
//!
//! An order is a few indexed columns (what the loop and the lists select on) and a document
//! (what it says and where its ACME order stands), so both engines hold only a little SQL.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CertificateMaterial, Quota, StoreError, Tag, UserCertificate};
use crate::audit::AuditLine;
use crate::crypto::Sealed;

/// Where an order stands, as `DescribeCertificateState` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Waiting for the customer (or our data plane) to prove the domain.
    DomainVerify,
    /// The CA is validating, or the certificate is being finalized and fetched.
    Process,
    /// Issued: the certificate is in the account's list.
    Certificate,
    /// The CA refused, or the domain was not proved in time.
    VerifyFail,
    /// Withdrawn by its owner before it was issued (`CancelCertificateForPackageRequest`).
    Payed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::DomainVerify => "domain_verify",
            OrderStatus::Process => "process",
            OrderStatus::Certificate => "certificate",
            OrderStatus::VerifyFail => "verify_fail",
            OrderStatus::Payed => "payed",
        }
    }

    pub fn from_stored(text: &str) -> Option<OrderStatus> {
        [
            OrderStatus::DomainVerify,
            OrderStatus::Process,
            OrderStatus::Certificate,
            OrderStatus::VerifyFail,
            OrderStatus::Payed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// How the domain is proved: a TXT record (`DNS`) or a file served over HTTP (`FILE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValidateType {
    Dns,
    File,
}

impl ValidateType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidateType::Dns => "DNS",
            ValidateType::File => "FILE",
        }
    }
}

/// What the CA asks to see, once the order is placed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    /// The ACME challenge to tell the CA about once the proof is in place.
    pub url: String,
    pub token: String,
    /// The file's content (`FILE`); its SHA-256, base64url, is the TXT record's value (`DNS`).
    pub key_authorization: String,
    pub dns_value: String,
}

/// An order: what was asked for, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOrder {
    pub order_id: i64,
    pub account_id: String,
    /// The resource group the certificate joins.
    pub resource_group_id: String,
    pub domain: String,
    pub validate_type: ValidateType,
    pub product_code: String,
    pub username: String,
    pub phone: String,
    pub email: String,
    pub tags: Vec<Tag>,
    pub created_ms: i64,
    pub status: OrderStatus,
    /// The customer's CSR (`CreateCertificateWithCsrRequest`), PEM; `None`: we made the key.
    pub csr_pem: Option<String>,
    /// The certificate issued for the customer's CSR (it is not in the list, which holds
    /// certificates with their keys).
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// The ACME order, once placed.
    pub acme_order_url: Option<String>,
    pub challenge: Option<ChallengeRecord>,
    /// Why it failed, in the CA's words where the CA said.
    pub failure: Option<String>,
    /// The certificate it issued, in the account's list.
    pub issued: Option<IssuedCertificate>,
    /// When the issuance loop looks at it next (epoch ms); `None`: nothing left to do.
    pub next_attempt_ms: Option<i64>,
    /// Tries of the step it is at that failed for the CA's or the network's reasons.
    pub attempts: u32,
    /// The proof is given up on after this (epoch ms).
    pub deadline_ms: i64,
    /// The issued order this one renews, and its certificate.
    #[serde(default)]
    pub renews: Option<Renewed>,
    /// The order that renews this one, once there is one.
    #[serde(default)]
    pub renewed_by: Option<i64>,
    /// Issued as a renewal, and not yet put where the certificate it renews serves.
    #[serde(default)]
    pub rotation_pending: bool,
}

/// What a renewal replaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewed {
    pub order_id: i64,
    /// The renewed certificate in the list, if it was there (not for a customer's CSR).
    pub cert_id: Option<i64>,
}

/// Counting against the quota of open orders: what is not issued.
pub const OPEN_STATUSES: &str = "('domain_verify', 'process', 'verify_fail', 'payed')";

/// Orders by status, and the soonest renewal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub by_status: Vec<(OrderStatus, u64)>,
    /// When the issuance loop next looks at an issued order (epoch ms).
    pub next_renewal_ms: Option<i64>,
}

impl OrderCounts {
    /// From `(status, count, soonest next attempt)` rows, grouped by status.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, i64, Option<i64>)>) -> OrderCounts {
        let mut counts = OrderCounts::default();
        for (status, count, next) in rows {
            let Some(status) = OrderStatus::from_stored(&status) else {
                continue;
            };
            if status == OrderStatus::Certificate {
                counts.next_renewal_ms = next;
            }
            counts.by_status.push((status, count.max(0) as u64));
        }
        counts
    }

    pub fn with_status(&self, status: OrderStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(counted, _)| *counted == status)
            .map_or(0, |(_, count)| *count)
    }
}

/// What an issued order's list item says of its certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// In the account's list (with its key); `None` for a customer's CSR, whose key is theirs.
    pub cert_id: Option<i64>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

#[derive(Clone, Debug, Default)]
pub struct CertificateOrderFilter {
    /// Any of these; empty: all.
    pub statuses: Vec<OrderStatus>,
    /// Only orders whose certificate ends at or after this (epoch ms).
    pub not_after_from: Option<i64>,
    /// Only orders whose certificate ends before this (epoch ms).
    pub not_after_until: Option<i64>,
    /// A substring of the domain.
    pub keyword: Option<String>,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

/// Certificate orders, and the ACME account each slbcert account orders with.
#[async_trait]
pub trait CertificateOrderStore: Send + Sync {
    /// A new order, with the private key made for it (sealed) unless the customer gave a CSR;
    /// `OverQuota` if its account has `quota` orders that are not issued already.
    async fn insert_certificate_order(
        &self,
        order: CertificateOrder,
        key: Option<Sealed>,
        quota: Quota,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    async fn certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
    ) -> Result<Option<CertificateOrder>, StoreError>;
    /// The account's order whose ACME challenge has `token` (a listener answers its file).
    async fn certificate_order_by_token(
        &self,
        account_id: &str,
        token: &str,
    ) -> Result<Option<CertificateOrder>, StoreError>;
    async fn list_certificate_orders(
        &self,
        account_id: &str,
        filter: &CertificateOrderFilter,
    ) -> Result<(Vec<CertificateOrder>, u64), StoreError>;
    /// Removes an order in one of `statuses`; `Stale` if it is in another.
    async fn delete_certificate_order(
        &self,
        account_id: &str,
        order_id: i64,
        statuses: &[OrderStatus],
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Withdraws a pending order (domain_verify or process) as `cancelled` says (`Stale` if it
    /// is no longer pending); its proof is no longer answered, and a node working it this
    /// moment loses its lease, so that its save is refused and the cancel stands.
    async fn cancel_certificate_order(
        &self,
        cancelled: CertificateOrder,
        now_ms: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Leases to `holder` until `until_ms` one order due at `now_ms` whose lease has lapsed,
    /// with its sealed key: no other node works it meanwhile.
    async fn claim_certificate_order(
        &self,
        now_ms: i64,
        holder: &str,
        until_ms: i64,
    ) -> Result<Option<(CertificateOrder, Option<Sealed>)>, StoreError>;
    /// Saves what the holder of the lease did and releases it; `Stale` if the lease was lost
    /// (or the order deleted) meanwhile.
    async fn save_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
    ) -> Result<(), StoreError>;
    /// Saves an issued order with the certificate it joins to the list, in one transaction,
    /// and drops the order's own copy of the key; `Stale` as for a save.
    async fn issue_certificate_order(
        &self,
        order: CertificateOrder,
        holder: &str,
        certificate: UserCertificate,
        material: CertificateMaterial,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Stores `renewal` and, in the same transaction, `renewed` (the issued order it renews,
    /// now naming it): `Stale` if that one is no longer issued, or another holder leases it
    /// (`holder` is the caller's own lease, if any).
    async fn insert_renewal(
        &self,
        renewal: CertificateOrder,
        key: Option<Sealed>,
        renewed: CertificateOrder,
        holder: Option<&str>,
        now_ms: i64,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// Every account's orders by status, and when the loop next looks at an issued one (its
    /// renewal), for the metrics.
    async fn count_certificate_orders(&self) -> Result<OrderCounts, StoreError>;
    /// The sealed credentials of the account's ACME account at `directory`.
    async fn acme_account(
        &self,
        account_id: &str,
        directory: &str,
    ) -> Result<Option<Sealed>, StoreError>;
    /// Stores them unless another node did first (`Conflict`: read theirs).
    async fn insert_acme_account(
        &self,
        account_id: &str,
        directory: &str,
        credentials: Sealed,
        created_ms: i64,
    ) -> Result<(), StoreError>;
}
