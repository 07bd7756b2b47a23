//! The issuance loop's steps for issued orders: renewing one when that is due, following its
//! renewal, and rotating a renewal onto what the certificate it renews served.

use std::time::Duration;

use time::OffsetDateTime;

use super::IssuanceError;
use super::orders::{self, Application};
use super::worker::{Loop, MAX_RENEWAL_WAIT, backoff};
use crate::audit::AuditRecord;
use crate::clock;
use crate::ids;
use crate::store::StoreError;
use crate::store::certificate_orders::{CertificateOrder, IssuedCertificate, OrderStatus};

/// How often an issued order looks at how its renewal is going.
const RENEWAL_CHECK: Duration = Duration::from_secs(3600);

impl Loop {
    /// Moves what the renewed certificate served to this one; then waits for its own renewal.
    pub(super) async fn rotate(&self, order: &mut CertificateOrder) -> Result<(), IssuanceError> {
        let (Some(issued), Some(renews)) = (&order.issued, &order.renews) else {
            order.rotation_pending = false;
            return Ok(());
        };
        // A certificate of a customer's CSR is in no list, so served by nothing here.
        if let (Some(old), Some(new)) = (renews.cert_id, issued.cert_id) {
            let moved = self
                .rotation
                .rotate(&order.account_id, old, new)
                .await
                .map_err(IssuanceError::Unavailable)?;
            tracing::info!(
                order_id = order.order_id,
                old,
                new,
                moved,
                "renewed certificate rotated"
            );
        }
        let due = self.renewal_due(issued);
        order.rotation_pending = false;
        order.attempts = 0;
        order.next_attempt_ms = Some(due);
        Ok(())
    }

    /// Applies again for the same domain: the renewal order takes over from here.
    pub(super) async fn renew(
        &self,
        order: &mut CertificateOrder,
        now: OffsetDateTime,
    ) -> Result<(), IssuanceError> {
        let application = Application::renewing(order);
        let mut conflicts = 0;
        loop {
            let order_id = ids::user_certificate_id();
            let (renewal, key) = orders::place(
                &self.issuer,
                self.store.as_ref(),
                &self.vault,
                &application,
                order_id,
                Some(order),
                now,
            )
            .await?;
            let mut renewed = order.clone();
            renewed.renewed_by = Some(order_id);
            renewed.next_attempt_ms = Some(clock::unix_ms(now) + RENEWAL_CHECK.as_millis() as i64);
            let mut record = AuditRecord::new(
                &uuid::Uuid::new_v4().to_string(),
                "RenewCertificateOrderForPackageRequest",
                "acme",
            );
            record.account_id = order.account_id.clone();
            let audit = record.success(&order_id.to_string(), None);
            match self
                .store
                .insert_renewal(
                    renewal,
                    key,
                    renewed.clone(),
                    Some(&self.holder),
                    clock::unix_ms(now),
                    audit,
                )
                .await
            {
                Ok(()) => {
                    tracing::info!(
                        order_id = order.order_id,
                        renewal = order_id,
                        "renewal applied for"
                    );
                    *order = renewed;
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) if conflicts < 3 => conflicts += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// A renewal under way is left to itself; one that failed, was cancelled or was deleted is
    /// applied for again, backing off (the certificate still serves meanwhile).
    pub(super) async fn follow_renewal(
        &self,
        order: &mut CertificateOrder,
        now: OffsetDateTime,
    ) -> Result<(), IssuanceError> {
        let now_ms = clock::unix_ms(now);
        let renewal = match order.renewed_by {
            Some(id) => self.store.certificate_order(&order.account_id, id).await?,
            None => None,
        };
        match renewal.map(|renewal| renewal.status) {
            Some(OrderStatus::Certificate) => order.next_attempt_ms = None,
            Some(OrderStatus::DomainVerify | OrderStatus::Process) => {
                order.next_attempt_ms = Some(now_ms + RENEWAL_CHECK.as_millis() as i64);
            }
            Some(OrderStatus::VerifyFail | OrderStatus::Payed) | None => {
                order.attempts += 1;
                let wait = backoff(order.attempts, MAX_RENEWAL_WAIT);
                tracing::warn!(order_id = order.order_id, renewal = ?order.renewed_by, "the renewal failed; applying again later");
                order.renewed_by = None;
                order.next_attempt_ms = Some(now_ms + wait.as_millis() as i64);
            }
        }
        Ok(())
    }

    pub(super) fn renewal_due(&self, issued: &IssuedCertificate) -> i64 {
        let jitter = f64::from(uuid::Uuid::new_v4().as_u128() as u16) / f64::from(u16::MAX);
        orders::renewal_due(
            issued.not_before_ms,
            issued.not_after_ms,
            self.issuer.options.renew_before,
            jitter,
        )
    }
}
