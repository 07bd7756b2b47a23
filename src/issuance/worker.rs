//! The issuance loop: one due order at a time, leased in the store so that no other node works
//! it meanwhile; its next step taken, what came of it saved, the lease released.
//!
//! domain_verify → (proof in place, CA told) → process → (CA validated, CSR sent, certificate
//! fetched) → certificate; or verify_fail with the CA's reason, or when no proof came in time.
//! An issued renewal is then rotated onto what its predecessor served ([`super::Rotation`]);
//! an issued order, when its renewal is due, gets a renewal order of its own.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::ca::{self, timed};
use super::proof::Placement;
use super::{IssuanceError, Issuer, Rotation};
use crate::audit::AuditRecord;
use crate::clock;
use crate::crypto::{Binding, Sealed};
use crate::ids;
use crate::store::certificate_orders::{
    CertificateOrder, IssuedCertificate, OrderStatus, ValidateType,
};
use crate::store::user_certificates::Listing;
use crate::store::{CertificateMaterial, Store, StoreError, UserCertificate};
use crate::vault::Vault;

/// How long a node holds an order: longer than a step (a few CA calls, each bounded).
const LEASE: Duration = Duration::from_secs(120);
/// How often the store is asked for due orders when nothing woke the loop.
const IDLE: Duration = Duration::from_secs(1);
/// How soon the CA is asked again while it validates or issues.
const POLL: Duration = Duration::from_secs(1);
/// Looks for a proof back off to this.
const MAX_PROOF_WAIT: Duration = Duration::from_secs(30);
/// Retries after the CA's or the network's failures back off to this, and give up after
/// `MAX_FAILED_TRIES` in a row.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(600);
const MAX_FAILED_TRIES: u32 = 20;
/// A failed renewal, or a rotation that failed, is tried again after 1 s, 2 s, … up to this.
pub(super) const MAX_RENEWAL_WAIT: Duration = Duration::from_secs(24 * 3600);

pub(super) struct Loop {
    pub(super) store: Arc<dyn Store>,
    pub(super) vault: Arc<Vault>,
    pub(super) issuer: Arc<Issuer>,
    pub(super) rotation: Arc<dyn Rotation>,
    /// This process's name on the leases it takes.
    pub(super) holder: String,
}

/// An issued order, and the certificate it adds to the list.
struct Issued {
    certificate: UserCertificate,
    material: CertificateMaterial,
    audit: String,
}

/// Runs the loop until `stopped`; a step under way is finished (and saved) first.
pub fn start(
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    issuer: Arc<Issuer>,
    rotation: Arc<dyn Rotation>,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let work = Loop {
        store,
        vault,
        issuer,
        rotation,
        holder: uuid::Uuid::new_v4().to_string(),
    };
    tokio::spawn(async move {
        while !*stopped.borrow() {
            let now = OffsetDateTime::now_utc();
            let now_ms = clock::unix_ms(now);
            let until = now_ms + LEASE.as_millis() as i64;
            match work
                .store
                .claim_certificate_order(now_ms, &work.holder, until)
                .await
            {
                Ok(Some((order, key))) => {
                    work.run(order, key, now).await;
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "certificate orders cannot be read"),
            }
            tokio::select! {
                _ = work.issuer.wake.notified() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = stopped.changed() => {}
            }
        }
    })
}

impl Loop {
    async fn run(&self, mut order: CertificateOrder, key: Option<Sealed>, now: OffsetDateTime) {
        let now_ms = clock::unix_ms(now);
        let order_id = order.order_id;
        let saved = match self.step(&mut order, key, now).await {
            Ok(Some(issued)) => {
                tracing::info!(
                    order_id,
                    cert_id = issued.certificate.cert_id,
                    "certificate issued"
                );
                self.store
                    .issue_certificate_order(
                        order,
                        &self.holder,
                        issued.certificate,
                        issued.material,
                        issued.audit,
                    )
                    .await
            }
            Ok(None) => self.store.save_certificate_order(order, &self.holder).await,
            // An issued certificate stays issued (and serving) whatever its renewal or its
            // rotation meets: they are tried again later.
            Err(error) if order.status == OrderStatus::Certificate => {
                order.attempts += 1;
                tracing::warn!(order_id, attempts = order.attempts, %error, "renewal or rotation failed; trying again later");
                let wait = backoff(order.attempts, MAX_RENEWAL_WAIT);
                order.next_attempt_ms = Some(now_ms + wait.as_millis() as i64);
                self.store.save_certificate_order(order, &self.holder).await
            }
            Err(IssuanceError::Refused(reason)) => {
                tracing::warn!(order_id, domain = %order.domain, %reason, "certificate order failed");
                fail(&mut order, reason);
                self.store.save_certificate_order(order, &self.holder).await
            }
            Err(error) => {
                order.attempts += 1;
                tracing::warn!(order_id, attempts = order.attempts, %error, "certificate order step failed; retrying");
                if order.attempts >= MAX_FAILED_TRIES {
                    fail(&mut order, error.to_string());
                } else {
                    let wait = backoff(order.attempts, MAX_RETRY_WAIT);
                    order.next_attempt_ms = Some(now_ms + wait.as_millis() as i64);
                }
                self.store.save_certificate_order(order, &self.holder).await
            }
        };
        match saved {
            Ok(()) => {}
            // Deleted meanwhile, or its lease lapsed and another node took it.
            Err(StoreError::Stale) => {
                tracing::info!(order_id, "certificate order changed meanwhile")
            }
            Err(error) => tracing::warn!(order_id, %error, "certificate order not saved"),
        }
    }

    async fn step(
        &self,
        order: &mut CertificateOrder,
        key: Option<Sealed>,
        now: OffsetDateTime,
    ) -> Result<Option<Issued>, IssuanceError> {
        match order.status {
            OrderStatus::DomainVerify => self.verify(order, now).await.map(|()| None),
            OrderStatus::Process => self.process(order, key, now).await,
            OrderStatus::Certificate if order.rotation_pending => {
                self.rotate(order).await.map(|()| None)
            }
            OrderStatus::Certificate if order.renewed_by.is_none() => {
                self.renew(order, now).await.map(|()| None)
            }
            OrderStatus::Certificate => self.follow_renewal(order, now).await.map(|()| None),
            OrderStatus::VerifyFail | OrderStatus::Payed => {
                order.next_attempt_ms = None;
                Ok(None)
            }
        }
    }

    /// Tells the CA to look once the proof is where it will look.
    async fn verify(
        &self,
        order: &mut CertificateOrder,
        now: OffsetDateTime,
    ) -> Result<(), IssuanceError> {
        let now_ms = clock::unix_ms(now);
        let placement = Placement::of(order).ok_or_else(|| {
            IssuanceError::Refused("the order was never placed with the CA".into())
        })?;
        if let Err(missing) = self.issuer.proofs.in_place(&placement).await {
            if now_ms >= order.deadline_ms {
                return Err(IssuanceError::Refused(format!(
                    "the domain was not proved in time: {missing}"
                )));
            }
            order.attempts += 1;
            let wait = backoff(order.attempts, MAX_PROOF_WAIT);
            order.next_attempt_ms = Some((now_ms + wait.as_millis() as i64).min(order.deadline_ms));
            return Ok(());
        }
        let account = self.account(&order.account_id, now_ms).await?;
        let url = order.acme_order_url.clone().unwrap_or_default();
        let mut acme = self.issuer.ca.order(&account, &url).await?;
        let mut authorizations = acme.authorizations();
        let mut authorization = timed(async {
            match authorizations.next().await {
                Some(result) => result,
                None => Err(instant_acme::Error::Str("the order has no authorization")),
            }
        })
        .await?;
        if authorization.status == instant_acme::AuthorizationStatus::Pending {
            let kind = match order.validate_type {
                ValidateType::Dns => instant_acme::ChallengeType::Dns01,
                ValidateType::File => instant_acme::ChallengeType::Http01,
            };
            let mut challenge = authorization
                .challenge(kind)
                .ok_or_else(|| IssuanceError::Refused("the challenge is gone".into()))?;
            timed(challenge.set_ready()).await?;
        }
        order.status = OrderStatus::Process;
        order.attempts = 0;
        order.next_attempt_ms = Some(now_ms + POLL.as_millis() as i64);
        Ok(())
    }

    /// Follows the CA's order: sends the CSR once it is ready, fetches the certificate once
    /// it is valid.
    async fn process(
        &self,
        order: &mut CertificateOrder,
        key: Option<Sealed>,
        now: OffsetDateTime,
    ) -> Result<Option<Issued>, IssuanceError> {
        use instant_acme::OrderStatus as Acme;
        let now_ms = clock::unix_ms(now);
        let account = self.account(&order.account_id, now_ms).await?;
        let url = order.acme_order_url.clone().unwrap_or_default();
        let mut acme = self.issuer.ca.order(&account, &url).await?;
        order.next_attempt_ms = Some(now_ms + POLL.as_millis() as i64);
        match acme.state().status {
            Acme::Pending | Acme::Processing => Ok(None),
            Acme::Invalid => {
                let why = tokio::time::timeout(ca::CALL_TIMEOUT, why_invalid(&mut acme)).await;
                Err(IssuanceError::Refused(why.unwrap_or_else(|_| {
                    "the certificate authority found the order invalid".into()
                })))
            }
            Acme::Ready => {
                let csr = match &order.csr_pem {
                    Some(pem) => {
                        crate::pki::request::parse_signing_request(pem)
                            .map_err(|why| IssuanceError::Refused(format!("the CSR: {why}")))?
                            .der
                    }
                    None => {
                        let key_pem = self.order_key(order, key.as_ref()).await?;
                        crate::pki::request::signing_request(&order.domain, &key_pem)
                            .map_err(|error| IssuanceError::Refused(format!("the CSR: {error}")))?
                    }
                };
                timed(acme.finalize_csr(&csr)).await?;
                Ok(None)
            }
            Acme::Valid => {
                let Some(chain) = timed(acme.certificate()).await? else {
                    return Ok(None);
                };
                if order.csr_pem.is_some() {
                    self.issued_for_csr(order, &chain, now)?;
                    return Ok(None);
                }
                let key_pem = self.order_key(order, key.as_ref()).await?;
                self.issued(order, &chain, &key_pem, now).await.map(Some)
            }
        }
    }

    /// The certificate of a customer's CSR: kept with the order (its key is the customer's).
    fn issued_for_csr(
        &self,
        order: &mut CertificateOrder,
        chain: &str,
        now: OffsetDateTime,
    ) -> Result<(), IssuanceError> {
        let parsed = crate::pki::certificate::parse_chain(chain).map_err(|error| {
            IssuanceError::Refused(format!("the CA issued an unusable certificate: {error}"))
        })?;
        self.record_issue(
            order,
            IssuedCertificate {
                cert_id: None,
                not_before_ms: clock::unix_ms(parsed.leaf.not_before),
                not_after_ms: clock::unix_ms(parsed.leaf.not_after),
            },
            now,
        );
        order.certificate_pem = Some(parsed.pem);
        Ok(())
    }

    /// The order issued: a renewal is rotated at once, any issued order renewed when due.
    fn record_issue(
        &self,
        order: &mut CertificateOrder,
        issued: IssuedCertificate,
        now: OffsetDateTime,
    ) {
        order.status = OrderStatus::Certificate;
        order.attempts = 0;
        order.rotation_pending = order.renews.is_some();
        order.next_attempt_ms = Some(match order.rotation_pending {
            true => clock::unix_ms(now),
            false => self.renewal_due(&issued),
        });
        order.issued = Some(issued);
    }

    async fn issued(
        &self,
        order: &mut CertificateOrder,
        chain: &str,
        key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<Issued, IssuanceError> {
        let material =
            crate::pki::validate_server_certificate(chain, key_pem, now).map_err(|error| {
                IssuanceError::Refused(format!("the CA issued an unusable certificate: {error}"))
            })?;
        let cert_id = ids::user_certificate_id();
        let leaf = &material.chain.leaf;
        let certificate = UserCertificate::describing(
            leaf,
            Listing {
                cert_id,
                account_id: order.account_id.clone(),
                name: format!("cert-{cert_id}"),
                resource_group_id: order.resource_group_id.clone(),
                created_ms: clock::unix_ms(now),
                tags: order.tags.clone(),
                client_token: None,
            },
        );
        let binding = Binding::UserCertificateKey {
            account_id: order.account_id.clone(),
            cert_id,
        };
        let sealed = self.vault.seal(key_pem.as_bytes(), &binding).await?;
        let mut record = AuditRecord::new(
            &uuid::Uuid::new_v4().to_string(),
            "IssueCertificate",
            "acme",
        );
        record.account_id = order.account_id.clone();
        let audit = record.success(&cert_id.to_string(), Some(&leaf.fingerprint));
        let issued = IssuedCertificate {
            cert_id: Some(cert_id),
            not_before_ms: certificate.not_before_ms,
            not_after_ms: certificate.not_after_ms,
        };
        self.record_issue(order, issued, now);
        Ok(Issued {
            certificate,
            material: CertificateMaterial {
                certificate_pem: material.chain.pem.clone(),
                private_key: Some(sealed),
            },
            audit,
        })
    }

    async fn account(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> Result<instant_acme::Account, IssuanceError> {
        self.issuer
            .ca
            .account(self.store.as_ref(), &self.vault, account_id, now_ms)
            .await
    }

    async fn order_key(
        &self,
        order: &CertificateOrder,
        key: Option<&Sealed>,
    ) -> Result<zeroize::Zeroizing<String>, IssuanceError> {
        let key = key.ok_or_else(|| IssuanceError::Refused("the order's key is gone".into()))?;
        let binding = Binding::CertificateOrderKey {
            account_id: order.account_id.clone(),
            order_id: order.order_id,
        };
        Ok(self.vault.open_text(key, &binding).await?)
    }
}

/// Why the CA found the order invalid: the failed challenge's problem, else the order's.
async fn why_invalid(acme: &mut instant_acme::Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = acme.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        for challenge in &authorization.challenges {
            if let Some(problem) = &challenge.error {
                reasons.push(ca::describe(problem));
            }
        }
    }
    if reasons.is_empty()
        && let Some(problem) = &acme.state().error
    {
        reasons.push(ca::describe(problem));
    }
    match reasons.is_empty() {
        true => "the certificate authority found the order invalid".into(),
        false => reasons.join("; "),
    }
}

fn fail(order: &mut CertificateOrder, reason: String) {
    order.status = OrderStatus::VerifyFail;
    order.failure = Some(reason);
    order.next_attempt_ms = None;
}

/// 1 s, doubling with each try, to `max`.
pub(super) fn backoff(attempts: u32, max: Duration) -> Duration {
    let doubled = Duration::from_secs(1).saturating_mul(1 << attempts.min(16).saturating_sub(1));
    doubled.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_bound() {
        assert_eq!(backoff(1, MAX_PROOF_WAIT), Duration::from_secs(1));
        assert_eq!(backoff(2, MAX_PROOF_WAIT), Duration::from_secs(2));
        assert_eq!(backoff(5, MAX_PROOF_WAIT), Duration::from_secs(16));
        assert_eq!(backoff(6, MAX_PROOF_WAIT), MAX_PROOF_WAIT);
        assert_eq!(backoff(40, MAX_RETRY_WAIT), MAX_RETRY_WAIT);
    }
}
