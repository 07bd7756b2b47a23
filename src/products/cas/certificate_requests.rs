//! Certificate orders of the SSL Certificates Service: applied for with
//! `CreateCertificateRequest`, proved and issued through an ACME CA ([`crate::issuance`]),
//! followed with `DescribeCertificateState`, listed by `ListUserCertificateOrder` (CPACK).

use super::catalogue::PRODUCTS;
use super::order_views::{OrderItem, Revealed, State};
use super::user_certificates;
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::clock;
use crate::ids;
use crate::issuance::orders::{self, Application};
use crate::products::{Context, Fields, inputs, to_fields};
use crate::store::certificate_orders::{
    CertificateOrder, CertificateOrderFilter, IssuedCertificate, OrderStatus, ValidateType,
};
use crate::store::{StoreError, Tag};

/// Random IDs can collide: draw again a few times.
const ATTEMPTS: usize = 5;
/// What `Username`, `Phone` and `Email` may hold.
const MAX_CONTACT_CHARS: usize = 128;

/// CreateCertificateRequest's parameters, parsed before any I/O.
struct CreateRequest {
    domain: String,
    validate_type: ValidateType,
    product_code: &'static str,
    username: String,
    phone: String,
    email: String,
    tags: Vec<Tag>,
    csr_pem: Option<String>,
}

impl CreateRequest {
    /// For `text`, the domain (given, or named by the CSR).
    fn parse(
        params: &RpcParams,
        text: &str,
        csr_pem: Option<String>,
    ) -> Result<CreateRequest, ApiError> {
        let code = params.non_empty("ProductCode").unwrap_or(PRODUCTS[0].0);
        let &(product_code, _, _, wildcard) = PRODUCTS
            .iter()
            .find(|product| product.0 == code)
            .ok_or_else(|| {
                let known: Vec<&str> = PRODUCTS.iter().map(|product| product.0).collect();
                ApiError::InvalidParameter(format!(
                    "The specified ProductCode {code:?} is not valid; use one of {}.",
                    known.join(", ")
                ))
            })?;
        let name = text.strip_prefix("*.").unwrap_or(text);
        if !inputs::is_host_name(name) || !name.contains('.') {
            return Err(ApiError::InvalidParameter(format!(
                "The specified Domain {text:?} is not valid: give one domain name, like www.example.com (or *.example.com for a wildcard product)."
            )));
        }
        if wildcard != text.starts_with("*.") {
            return Err(ApiError::InvalidParameter(format!(
                "The specified Domain {text:?} does not match ProductCode {product_code}: {}.",
                match wildcard {
                    true => "a wildcard product needs a domain like *.example.com",
                    false => "a single-domain product needs a domain without *.",
                }
            )));
        }
        let validate_type = match params.required("ValidateType")? {
            "DNS" => ValidateType::Dns,
            "FILE" => ValidateType::File,
            other => {
                return Err(ApiError::InvalidParameter(format!(
                    "The specified ValidateType {other:?} is not valid; use DNS or FILE."
                )));
            }
        };
        if wildcard && validate_type == ValidateType::File {
            return Err(ApiError::InvalidParameter(
                "A wildcard domain can only be validated by DNS (ValidateType=DNS).".into(),
            ));
        }
        Ok(CreateRequest {
            domain: text.to_ascii_lowercase(),
            validate_type,
            product_code,
            username: contact(params, "Username")?,
            phone: contact(params, "Phone")?,
            email: contact(params, "Email")?,
            tags: inputs::tags_at(params, "Tags.")?,
            csr_pem,
        })
    }
}

fn contact(params: &RpcParams, name: &'static str) -> Result<String, ApiError> {
    let text = params.non_empty(name).unwrap_or_default();
    if text.chars().count() > MAX_CONTACT_CHARS || text.chars().any(char::is_control) {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {name} is not valid: at most {MAX_CONTACT_CHARS} printable characters."
        )));
    }
    Ok(text.to_owned())
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let domain = context.params.required("Domain")?;
    apply(context, CreateRequest::parse(context.params, domain, None)?).await
}

/// CreateCertificateWithCsrRequest: the customer's CSR names the one domain, and keeps its key
/// (the certificate is then in the order's answers only: the list holds certificates with keys).
pub async fn create_with_csr(context: &Context<'_>) -> Result<Fields, ApiError> {
    let csr = context.params.required("Csr")?;
    let domain = csr_domain(csr)?;
    let request = CreateRequest::parse(context.params, &domain, Some(csr.to_owned()))?;
    apply(context, request).await
}

/// The one domain a customer's CSR names, once it is checked.
fn csr_domain(csr: &str) -> Result<String, ApiError> {
    let read = crate::pki::request::parse_signing_request(csr).map_err(|why| {
        ApiError::InvalidParameter(format!("The specified Csr cannot be used: {why}."))
    })?;
    Ok(read.domain)
}

async fn apply(context: &Context<'_>, request: CreateRequest) -> Result<Fields, ApiError> {
    let issuer = context.issuer.ok_or(ApiError::NoCertificateAuthority)?;
    let application = Application {
        account_id: context.caller.account_id.clone(),
        resource_group_id: context.caller.default_resource_group_id.clone(),
        domain: request.domain,
        validate_type: request.validate_type,
        product_code: request.product_code.to_owned(),
        username: request.username,
        phone: request.phone,
        email: request.email,
        tags: request.tags,
        csr_pem: request.csr_pem,
    };
    for _ in 0..ATTEMPTS {
        let order_id = ids::user_certificate_id();
        let (order, key) = orders::place(
            issuer,
            context.store,
            context.vault,
            &application,
            order_id,
            None,
            context.now,
        )
        .await?;
        let line = context.audit.success(&order_id.to_string(), None);
        match context
            .store
            .insert_certificate_order(order, key, issuer.options.max_open_orders, line)
            .await
        {
            Ok(()) => {
                issuer.wake.notify_one();
                return Ok(order_id_fields(order_id));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Internal)
}

/// RenewCertificateOrderForPackageRequest: a new order for the issued order's domain, answered
/// by its OrderId; once issued, its certificate replaces the old one wherever that serves.
/// Asked again while the renewal is under way, it answers that renewal.
pub async fn renew(context: &Context<'_>) -> Result<Fields, ApiError> {
    // A CSR of the customer's own, else (as the service does) a key made for the renewal.
    let csr = match context.params.non_empty("Csr") {
        Some(csr) => Some((csr, csr_domain(csr)?)),
        None => None,
    };
    let issuer = context.issuer.ok_or(ApiError::NoCertificateAuthority)?;
    let renewed = order(context).await?;
    if let Some((_, domain)) = &csr
        && *domain != renewed.domain
    {
        return Err(ApiError::InvalidParameter(format!(
            "The specified Csr names {domain}, not the order's domain {}.",
            renewed.domain
        )));
    }
    if renewed.status != OrderStatus::Certificate {
        return Err(ApiError::OperationNotAllowed(format!(
            "The order {} is {}: only an issued order (certificate) can be renewed.",
            renewed.order_id,
            renewed.status.as_str()
        )));
    }
    if let Some(id) = renewed.renewed_by {
        let renewal = context
            .store
            .certificate_order(&context.caller.account_id, id)
            .await?;
        let failed = [OrderStatus::VerifyFail, OrderStatus::Payed];
        if renewal.is_some_and(|renewal| !failed.contains(&renewal.status)) {
            return Ok(order_id_fields(id));
        }
    }
    let mut application = Application::renewing(&renewed);
    application.csr_pem = csr.map(|(pem, _)| pem.to_owned());
    for _ in 0..ATTEMPTS {
        let order_id = ids::user_certificate_id();
        let (renewal, key) = orders::place(
            issuer,
            context.store,
            context.vault,
            &application,
            order_id,
            Some(&renewed),
            context.now,
        )
        .await?;
        let mut marked = renewed.clone();
        marked.renewed_by = Some(order_id);
        let line = context.audit.success(&order_id.to_string(), None);
        let now_ms = clock::unix_ms(context.now);
        match context
            .store
            .insert_renewal(renewal, key, marked, None, now_ms, line)
            .await
        {
            Ok(()) => {
                issuer.wake.notify_one();
                return Ok(order_id_fields(order_id));
            }
            Err(StoreError::Conflict(_)) => continue,
            // Its renewal or rotation is being worked on this moment.
            Err(StoreError::Stale) => return Err(ApiError::OperationBusy),
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Internal)
}

fn order_id_fields(order_id: i64) -> Fields {
    Fields::from_iter([("OrderId".into(), order_id.into())])
}

fn order_id(params: &RpcParams) -> Result<i64, ApiError> {
    let text = params.required("OrderId")?;
    text.parse().map_err(|_| {
        ApiError::InvalidParameter(format!("The specified OrderId {text:?} is not a number."))
    })
}

async fn order(context: &Context<'_>) -> Result<CertificateOrder, ApiError> {
    let id = order_id(context.params)?;
    context
        .store
        .certificate_order(&context.caller.account_id, id)
        .await?
        .ok_or(ApiError::OrderNotFound(id))
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let order = order(context).await?;
    let issued = match &order.issued {
        // The owner gets the certificate and its key, as with GetUserCertificateDetail (and
        // audited alike); a certificate deleted from the list since is described without.
        Some(IssuedCertificate {
            cert_id: Some(cert_id),
            ..
        }) => user_certificates::reveal(context, *cert_id).await?,
        // A certificate of the customer's own CSR: the certificate alone, kept with the order.
        Some(_) => order.certificate_pem.clone().map(|certificate| Revealed {
            certificate,
            private_key: Default::default(),
        }),
        None => None,
    };
    to_fields(State::of(&order, issued.as_ref()))
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let order = order(context).await?;
    let line = context.audit.success(&order.order_id.to_string(), None);
    let deletable = [
        OrderStatus::DomainVerify,
        OrderStatus::VerifyFail,
        OrderStatus::Payed,
    ];
    match context
        .store
        .delete_certificate_order(&context.caller.account_id, order.order_id, &deletable, line)
        .await
    {
        Ok(()) => Ok(Fields::new()),
        Err(StoreError::NotFound(_)) => Err(ApiError::OrderNotFound(order.order_id)),
        Err(StoreError::Stale) => Err(ApiError::OperationNotAllowed(format!(
            "The order {} is past domain validation: only an order waiting for validation (domain_verify), failed (verify_fail) or cancelled (payed) can be deleted.",
            order.order_id
        ))),
        Err(other) => Err(other.into()),
    }
}

/// CancelCertificateForPackageRequest: withdraws an order not yet issued; it stays, as `payed`
/// (applied for, not submitted), until deleted. The CA's authorization is deactivated so that
/// the proof published for it no longer counts.
pub async fn cancel(context: &Context<'_>) -> Result<Fields, ApiError> {
    let order = order(context).await?;
    if !matches!(
        order.status,
        OrderStatus::DomainVerify | OrderStatus::Process
    ) {
        return Err(ApiError::OperationNotAllowed(format!(
            "The order {} is {}: only an order under validation (domain_verify or process) can be cancelled.",
            order.order_id,
            order.status.as_str()
        )));
    }
    let mut cancelled = order.clone();
    cancelled.status = OrderStatus::Payed;
    cancelled.next_attempt_ms = None;
    let line = context.audit.success(&order.order_id.to_string(), None);
    let now_ms = clock::unix_ms(context.now);
    match context
        .store
        .cancel_certificate_order(cancelled, now_ms, line)
        .await
    {
        Ok(()) => {}
        // Issued, or failed, meanwhile.
        Err(StoreError::Stale) => {
            return Err(ApiError::OperationNotAllowed(format!(
                "The order {} is no longer under validation: it cannot be cancelled.",
                order.order_id
            )));
        }
        Err(other) => return Err(other.into()),
    }
    if let (Some(issuer), Some(url)) = (context.issuer, &order.acme_order_url)
        && let Err(error) = issuer
            .ca
            .deactivate(context.store, context.vault, &order.account_id, url, now_ms)
            .await
    {
        tracing::warn!(order_id = order.order_id, %error, "the CA's authorization stays active");
    }
    Ok(Fields::new())
}

/// ListUserCertificateOrder of type CPACK: the account's orders, newest first.
pub async fn list(
    context: &Context<'_>,
    status: Option<&str>,
    page: u64,
    page_size: u64,
) -> Result<(Vec<OrderItem>, u64), ApiError> {
    let now = clock::unix_ms(context.now);
    let soon = clock::unix_ms(context.now + user_certificates::EXPIRING_SOON);
    let mut filter = CertificateOrderFilter {
        keyword: context.params.non_empty("Keyword").map(str::to_owned),
        page,
        page_size,
        ..Default::default()
    };
    let issued = vec![OrderStatus::Certificate];
    match status {
        None => {}
        Some("CHECKING") => filter.statuses = vec![OrderStatus::DomainVerify, OrderStatus::Process],
        Some("CHECKED_FAIL") => filter.statuses = vec![OrderStatus::VerifyFail],
        Some("PAYED") => filter.statuses = vec![OrderStatus::Payed],
        Some("ISSUED") => (filter.statuses, filter.not_after_from) = (issued, Some(soon)),
        Some("WILLEXPIRED") => {
            (filter.statuses, filter.not_after_from) = (issued, Some(now));
            filter.not_after_until = Some(soon);
        }
        Some("EXPIRED") => (filter.statuses, filter.not_after_until) = (issued, Some(now)),
        // NOTACTIVATED, REVOKED: states no order here is in.
        Some(_) => return Ok((Vec::new(), 0)),
    }
    let (orders, total) = context
        .store
        .list_certificate_orders(&context.caller.account_id, &filter)
        .await?;
    let items = orders
        .iter()
        .map(|order| OrderItem::of(order, now, soon))
        .collect();
    Ok((items, total))
}
