//! The SSL Certificates Service's answers about certificate orders, as serde types.

use serde::Serialize;

use super::catalogue::PRODUCTS;
use crate::issuance::proof::Placement;
use crate::store::certificate_orders::{CertificateOrder, OrderStatus};

/// An issued order's certificate and key, for its owner.
pub struct Revealed {
    pub certificate: String,
    pub private_key: zeroize::Zeroizing<String>,
}

/// DescribeCertificateState: `Type` and what goes with it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct State<'a> {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    validate_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a str>,
    /// Why a `verify_fail` failed (the CA's problem, or the proof that never came): not in the
    /// SDK's model, which ignores it, but there for whoever reads the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> State<'a> {
    pub fn of(order: &'a CertificateOrder, issued: Option<&'a Revealed>) -> State<'a> {
        let mut state = State {
            r#type: order.status.as_str(),
            validate_type: None,
            record_domain: None,
            record_type: None,
            record_value: None,
            domain: None,
            uri: None,
            content: None,
            cert_id: None,
            certificate: None,
            private_key: None,
            message: None,
        };
        match order.status {
            OrderStatus::DomainVerify => {
                state.validate_type = Some(order.validate_type.as_str());
                match Placement::of(order) {
                    Some(Placement::Dns {
                        record_domain,
                        record_value,
                    }) => {
                        state.record_domain = Some(record_domain);
                        state.record_type = Some("TXT");
                        state.record_value = Some(record_value);
                    }
                    Some(Placement::File {
                        domain,
                        uri,
                        content,
                    }) => {
                        state.domain = Some(domain);
                        state.uri = Some(uri);
                        state.content = Some(content);
                    }
                    None => {}
                }
            }
            OrderStatus::Certificate => {
                state.cert_id = order
                    .issued
                    .as_ref()
                    .and_then(|issued| issued.cert_id)
                    .map(|cert_id| cert_id.to_string());
                state.certificate = issued.map(|revealed| revealed.certificate.as_str());
                // None for a customer's CSR: the key is theirs.
                state.private_key = issued
                    .map(|revealed| revealed.private_key.as_str())
                    .filter(|key| !key.is_empty());
            }
            OrderStatus::VerifyFail => state.message = order.failure.as_deref(),
            OrderStatus::Process | OrderStatus::Payed => {}
        }
        state
    }
}

/// An item of ListUserCertificateOrder of type CPACK.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItem {
    order_id: i64,
    instance_id: String,
    product_code: String,
    product_name: &'static str,
    root_brand: &'static str,
    domain: String,
    domain_type: &'static str,
    domain_count: u32,
    wild_domain_count: u32,
    cert_type: &'static str,
    algorithm: &'static str,
    status: &'static str,
    source_type: &'static str,
    trustee_status: &'static str,
    buy_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_end_time: Option<i64>,
    /// When an issued certificate is renewed (epoch ms): not in the SDK's model, which ignores
    /// it; the console shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    renewal_time: Option<i64>,
    resource_group_id: String,
}

impl OrderItem {
    /// `soon`: a certificate ending before it is WILLEXPIRED.
    pub fn of(order: &CertificateOrder, now_ms: i64, soon_ms: i64) -> OrderItem {
        let (_, product_name, root_brand, wildcard) = PRODUCTS
            .iter()
            .find(|product| product.0 == order.product_code)
            .copied()
            .unwrap_or(PRODUCTS[0]);
        let status = match (&order.status, &order.issued) {
            (OrderStatus::DomainVerify | OrderStatus::Process, _) => "CHECKING",
            (OrderStatus::VerifyFail, _) => "CHECKED_FAIL",
            (OrderStatus::Payed, _) => "PAYED",
            (OrderStatus::Certificate, Some(issued)) if issued.not_after_ms < now_ms => "EXPIRED",
            (OrderStatus::Certificate, Some(issued)) if issued.not_after_ms < soon_ms => {
                "WILLEXPIRED"
            }
            (OrderStatus::Certificate, _) => "ISSUED",
        };
        OrderItem {
            order_id: order.order_id,
            instance_id: format!("cas-order-{}", order.order_id),
            product_code: order.product_code.clone(),
            product_name,
            root_brand,
            domain: order.domain.clone(),
            domain_type: if wildcard { "WILDCARD" } else { "ONE" },
            domain_count: u32::from(!wildcard),
            wild_domain_count: u32::from(wildcard),
            cert_type: "DV",
            algorithm: "RSA",
            status,
            source_type: "cpack",
            trustee_status: "unTrustee",
            buy_date: order.created_ms,
            certificate_id: order.issued.as_ref().and_then(|issued| issued.cert_id),
            cert_start_time: order.issued.as_ref().map(|issued| issued.not_before_ms),
            cert_end_time: order.issued.as_ref().map(|issued| issued.not_after_ms),
            renewal_time: match order.status {
                OrderStatus::Certificate
                    if order.renewed_by.is_none() && !order.rotation_pending =>
                {
                    order.next_attempt_ms
                }
                _ => None,
            },
            resource_group_id: order.resource_group_id.clone(),
        }
    }
}
