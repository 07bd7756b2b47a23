//! A new order, placed with the CA: what `CreateCertificateRequest` stores, and what a renewal
//! (asked for, or due) stores in place of the order it renews.

use std::time::Duration;

use time::OffsetDateTime;

use super::{IssuanceError, Issuer};
use crate::clock;
use crate::crypto::{Binding, Sealed};
use crate::store::Store;
use crate::store::Tag;
use crate::store::certificate_orders::{CertificateOrder, OrderStatus, Renewed, ValidateType};
use crate::vault::Vault;

/// What is applied for.
#[derive(Clone, Debug)]
pub struct Application {
    pub account_id: String,
    pub resource_group_id: String,
    pub domain: String,
    pub validate_type: ValidateType,
    pub product_code: String,
    pub username: String,
    pub phone: String,
    pub email: String,
    pub tags: Vec<Tag>,
    /// The customer's own CSR (PEM), checked; `None`: a key is made for the order.
    pub csr_pem: Option<String>,
}

impl Application {
    /// The same application again, to renew `order`.
    pub fn renewing(order: &CertificateOrder) -> Application {
        Application {
            account_id: order.account_id.clone(),
            resource_group_id: order.resource_group_id.clone(),
            domain: order.domain.clone(),
            validate_type: order.validate_type,
            product_code: order.product_code.clone(),
            username: order.username.clone(),
            phone: order.phone.clone(),
            email: order.email.clone(),
            tags: order.tags.clone(),
            // A renewal asked for without a CSR gets a key of its own, as the service does.
            csr_pem: None,
        }
    }
}

/// An order placed with the CA, numbered `order_id`, and its new key sealed for it (none for a
/// customer's CSR): ready to store. `renews`: the issued order it replaces.
pub async fn place(
    issuer: &Issuer,
    store: &dyn Store,
    vault: &Vault,
    application: &Application,
    order_id: i64,
    renews: Option<&CertificateOrder>,
    now: OffsetDateTime,
) -> Result<(CertificateOrder, Option<Sealed>), IssuanceError> {
    let now_ms = clock::unix_ms(now);
    let account = issuer
        .ca
        .account(store, vault, &application.account_id, now_ms)
        .await?;
    let placed = issuer
        .ca
        .place(&account, &application.domain, application.validate_type)
        .await?;
    let sealed = match application.csr_pem {
        Some(_) => None,
        None => {
            let key = crate::pki::request::new_key().map_err(IssuanceError::Unavailable)?;
            let binding = Binding::CertificateOrderKey {
                account_id: application.account_id.clone(),
                order_id,
            };
            Some(vault.seal(key.as_bytes(), &binding).await?)
        }
    };
    let deadline = issuer.options.proof_deadline.as_millis() as i64;
    let order = CertificateOrder {
        order_id,
        account_id: application.account_id.clone(),
        resource_group_id: application.resource_group_id.clone(),
        domain: application.domain.clone(),
        validate_type: application.validate_type,
        product_code: application.product_code.clone(),
        username: application.username.clone(),
        phone: application.phone.clone(),
        email: application.email.clone(),
        tags: application.tags.clone(),
        created_ms: now_ms,
        status: match placed.proved {
            true => OrderStatus::Process,
            false => OrderStatus::DomainVerify,
        },
        csr_pem: application.csr_pem.clone(),
        certificate_pem: None,
        acme_order_url: Some(placed.url),
        challenge: Some(placed.challenge),
        failure: None,
        issued: None,
        next_attempt_ms: Some(now_ms),
        attempts: 0,
        deadline_ms: now_ms.saturating_add(deadline),
        renews: renews.and_then(|renewed| {
            let issued = renewed.issued.as_ref()?;
            Some(Renewed {
                order_id: renewed.order_id,
                cert_id: issued.cert_id,
            })
        }),
        renewed_by: None,
        rotation_pending: false,
    };
    Ok((order, sealed))
}

/// When a certificate valid from `not_before_ms` to `not_after_ms` is renewed: `before` its
/// end, or at two thirds of its life if it is shorter than that allows (certmagic's rule), less
/// a jitter of up to a twentieth of the lead, so that certificates issued together are not
/// renewed together.
pub fn renewal_due(not_before_ms: i64, not_after_ms: i64, before: Duration, jitter: f64) -> i64 {
    let life = (not_after_ms - not_before_ms).max(0);
    let lead = (before.as_millis() as i64).min(life / 3);
    let spread = (lead as f64 / 20.0 * jitter.clamp(0.0, 1.0)) as i64;
    not_after_ms - lead - spread
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn renewal_is_due_before_the_end_or_at_two_thirds_of_a_short_life() {
        let thirty = Duration::from_secs(30 * 86_400);
        // 90-day certificate: 30 days before its end, less up to 1.5 days of jitter.
        assert_eq!(renewal_due(0, 90 * DAY, thirty, 0.0), 60 * DAY);
        assert_eq!(
            renewal_due(0, 90 * DAY, thirty, 1.0),
            60 * DAY - 30 * DAY / 20
        );
        // 6-day certificate: at day 4 at the latest.
        assert_eq!(renewal_due(0, 6 * DAY, thirty, 0.0), 4 * DAY);
        // A year-long one, one day before: the lead asked for.
        assert_eq!(
            renewal_due(0, 365 * DAY, Duration::from_secs(86_400), 0.0),
            364 * DAY
        );
    }
}
