//! A minimal SSL Certificates Service (product version 2020-04-07): certificates uploaded with
//! their keys, per account, which UploadServerCertificate can then take by
//! `AliCloudCertificateId`. Shapes follow what `alibabacloud-cas20200407` parses.

use serde_json::Value;
use time::Duration;

use super::order_views::Revealed;
use super::views;
use crate::api::error::{ApiError, USER_CERTIFICATE_UPLOAD};
use crate::api::params::RpcParams;
use crate::clock;
use crate::crypto::Binding;
use crate::ids;
use crate::pki;
use crate::products::{Context, Fields, inputs, to_fields};
use crate::store::user_certificates::Listing;
use crate::store::{CertificateMaterial, StoreError, Tag, UserCertificate, UserCertificateFilter};

const MAX_NAME_CHARS: usize = 63;
/// A certificate this close to its end is "WILLEXPIRED".
pub(super) const EXPIRING_SOON: Duration = Duration::days(30);
/// Random IDs can collide: draw again a few times.
const ATTEMPTS: usize = 5;

/// A `ClientToken` is at most this long (as the service documents for idempotent calls).
const MAX_CLIENT_TOKEN_CHARS: usize = 64;

/// UploadUserCertificate's parameters besides the PEMs, parsed before any I/O.
struct UploadRequest<'a> {
    name: &'a str,
    client_token: Option<&'a str>,
    tags: Vec<Tag>,
    resource_group_id: Option<String>,
}

impl<'a> UploadRequest<'a> {
    fn parse(params: &'a RpcParams) -> Result<Self, ApiError> {
        // The model: the SM2 parameters "are ignored if Cert and Key are not empty".
        let standard_given =
            params.non_empty("Cert").is_some() && params.non_empty("Key").is_some();
        if !standard_given {
            inputs::refuse_unsupported(
                params,
                &[
                    ("EncryptCert", "SM2 certificates"),
                    ("EncryptPrivateKey", "SM2 certificates"),
                    ("SignCert", "SM2 certificates"),
                    ("SignPrivateKey", "SM2 certificates"),
                ],
            )?;
        }
        let name = params.required("Name")?;
        let length = name.chars().count();
        if length > MAX_NAME_CHARS {
            return Err(ApiError::InvalidParameter(format!(
                "The specified Name is {length} characters long; at most {MAX_NAME_CHARS} are allowed."
            )));
        }
        if let Some(control) = name.chars().find(|c| c.is_control()) {
            return Err(ApiError::InvalidParameter(format!(
                "The specified Name contains the control character {control:?}."
            )));
        }
        let client_token = params.non_empty("ClientToken");
        if let Some(token) = client_token
            && (token.chars().count() > MAX_CLIENT_TOKEN_CHARS
                || token.chars().any(char::is_control))
        {
            return Err(ApiError::InvalidParameter(format!(
                "The specified ClientToken is not valid: at most {MAX_CLIENT_TOKEN_CHARS} printable characters."
            )));
        }
        Ok(UploadRequest {
            name,
            client_token,
            tags: inputs::tags_at(params, "Tags.")?,
            resource_group_id: inputs::resource_group(params)?,
        })
    }
}

pub async fn upload(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let UploadRequest {
        name,
        client_token,
        tags,
        resource_group_id,
    } = UploadRequest::parse(params)?;
    // A retry of an upload that succeeded answers its first result.
    if let Some(token) = client_token
        && let Some(cert_id) = context
            .store
            .user_certificate_by_client_token(&context.caller.account_id, token)
            .await?
    {
        return Ok(cert_id_fields(cert_id));
    }
    let resource_group_id =
        resource_group_id.unwrap_or_else(|| context.caller.default_resource_group_id.clone());
    let material = pki::validate_server_certificate(
        params.get("Cert").unwrap_or_default(),
        params.get("Key").unwrap_or_default(),
        context.now,
    )
    .map_err(|error| ApiError::refused(error, USER_CERTIFICATE_UPLOAD))?;
    let leaf = &material.chain.leaf;
    for _ in 0..ATTEMPTS {
        let certificate = UserCertificate::describing(
            leaf,
            Listing {
                cert_id: ids::user_certificate_id(),
                account_id: context.caller.account_id.clone(),
                name: name.to_owned(),
                resource_group_id: resource_group_id.clone(),
                created_ms: clock::unix_ms(context.now),
                tags: tags.clone(),
                client_token: client_token.map(str::to_owned),
            },
        );
        let cert_id = certificate.cert_id;
        let binding = Binding::UserCertificateKey {
            account_id: certificate.account_id.clone(),
            cert_id,
        };
        let key_pem = material.private_key.pem();
        let stored = CertificateMaterial {
            certificate_pem: material.chain.pem.clone(),
            private_key: Some(context.vault.seal(key_pem.as_bytes(), &binding).await?),
        };
        let line = context
            .audit
            .success(&cert_id.to_string(), Some(&leaf.fingerprint));
        match context
            .store
            .insert_user_certificate(certificate, stored, line)
            .await
        {
            Ok(()) => return Ok(cert_id_fields(cert_id)),
            // Which unique index a concurrent twin trips first is the database's choice: a
            // name taken by the upload with our own token is that upload, not a repeat.
            Err(StoreError::Conflict("certificate name")) => {
                let twin = match client_token {
                    Some(token) => {
                        context
                            .store
                            .user_certificate_by_client_token(&context.caller.account_id, token)
                            .await?
                    }
                    None => None,
                };
                return match twin {
                    Some(cert_id) => Ok(cert_id_fields(cert_id)),
                    None => Err(ApiError::NameRepeat(name.to_owned())),
                };
            }
            // A concurrent retry with the same token got there first: its result is ours.
            Err(StoreError::Conflict("client token")) => {
                let token = client_token.unwrap_or_default();
                return match context
                    .store
                    .user_certificate_by_client_token(&context.caller.account_id, token)
                    .await?
                {
                    Some(cert_id) => Ok(cert_id_fields(cert_id)),
                    None => Err(ApiError::Internal),
                };
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Internal)
}

fn cert_id_fields(cert_id: i64) -> Fields {
    Fields::from_iter([("CertId".to_owned(), Value::from(cert_id))])
}

fn cert_id(context: &Context<'_>) -> Result<i64, ApiError> {
    let text = context.params.required("CertId")?;
    text.parse().map_err(|_| {
        ApiError::InvalidParameter(format!("The specified CertId {text:?} is not a number."))
    })
}

pub async fn detail(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = cert_id(context)?;
    let filter_content = context
        .params
        .non_empty("CertFilter")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let (certificate, _) = context
        .store
        .user_certificate(&context.caller.account_id, id)
        .await?
        .ok_or(ApiError::UserCertificateNotFound(id))?;
    let mut fields = to_fields(views::Detail::of(&certificate, context.now))?;
    // As the real service does, the owner gets the certificate and its private key unless
    // CertFilter=true.
    if !filter_content {
        let revealed = reveal(context, id)
            .await?
            .ok_or(ApiError::UserCertificateNotFound(id))?;
        fields.insert("Cert".into(), Value::String(revealed.certificate));
        let mut key = revealed.private_key;
        // Moved into the answer, not copied beside the zeroizing buffer.
        fields.insert("Key".into(), Value::String(std::mem::take(&mut *key)));
    }
    Ok(fields)
}

/// The certificate `id` of the caller's list with its private key, for the caller (`None` if
/// it is not there). Each reveal of a key is in the audit trail (durably) before it leaves.
pub(super) async fn reveal(context: &Context<'_>, id: i64) -> Result<Option<Revealed>, ApiError> {
    let Some((certificate, material)) = context
        .store
        .user_certificate(&context.caller.account_id, id)
        .await?
    else {
        return Ok(None);
    };
    let sealed = material.private_key.ok_or(ApiError::Internal)?;
    let binding = Binding::UserCertificateKey {
        account_id: context.caller.account_id.clone(),
        cert_id: id,
    };
    let private_key = context.vault.open_text(&sealed, &binding).await?;
    let line = context
        .audit
        .key_revealed(&id.to_string(), &certificate.fingerprint);
    context.store.record(line).await?;
    Ok(Some(Revealed {
        certificate: material.certificate_pem,
        private_key,
    }))
}

/// ListUserCertificateOrder of type UPLOAD or CERT: the account's certificates.
pub(super) async fn list(
    context: &Context<'_>,
    page: u64,
    page_size: u64,
) -> Result<Fields, ApiError> {
    let params = context.params;
    let now = clock::unix_ms(context.now);
    let soon = clock::unix_ms(context.now + EXPIRING_SOON);
    let (not_after_from, not_after_until) = match params.non_empty("Status") {
        None => (Some(now), None),
        Some("ISSUED") => (Some(soon), None),
        Some("WILLEXPIRED") => (Some(now), Some(soon)),
        Some("EXPIRED") => (None, Some(now)),
        Some(_) => (Some(i64::MAX), None), // statuses of orders, which uploads never have
    };
    let filter = UserCertificateFilter {
        resource_group_id: inputs::resource_group(params)?,
        keyword: params.non_empty("Keyword").map(str::to_owned),
        not_after_from,
        not_after_until,
        page,
        page_size,
    };
    let (certificates, total) = context
        .store
        .list_user_certificates(&context.caller.account_id, &filter)
        .await?;
    let items = certificates.iter().map(|certificate| {
        let status = if certificate.not_after_ms < now {
            "EXPIRED"
        } else if certificate.not_after_ms < soon {
            "WILLEXPIRED"
        } else {
            "ISSUED"
        };
        views::Order::of(certificate, status, now)
    });
    to_fields(views::Orders {
        certificate_order_list: items.collect(),
        current_page: page,
        show_size: page_size,
        total_count: total,
    })
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = cert_id(context)?;
    let line = context.audit.success(&id.to_string(), None);
    match context
        .store
        .delete_user_certificate(&context.caller.account_id, id, line)
        .await
    {
        Ok(()) => Ok(Fields::new()),
        Err(StoreError::NotFound(_)) => Err(ApiError::UserCertificateNotFound(id)),
        Err(other) => Err(other.into()),
    }
}
