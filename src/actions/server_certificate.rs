//! UploadServerCertificate, DescribeServerCertificates, DeleteServerCertificate and
//! SetServerCertificateName.

use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::Context;
use super::fields::{self, CertificateName};
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::clock;
use crate::crypto::SealedPrivateKey;
use crate::ids;
use crate::pki;
use crate::regions::Region;
use crate::store::{
    CertificateMaterial, Scope, ServerCertificate, ServerCertificateFilter, StoreError,
};

/// Parameters of features that arrive in a later version; refused rather than ignored.
const NOT_YET: [(&str, &str); 3] = [
    (
        "AliCloudCertificate",
        "certificates from the SSL Certificates Service",
    ),
    ("Tag.", "tags"),
    ("Tags", "tags"),
];

struct UploadRequest {
    region: &'static Region,
    certificate_pem: String,
    private_key_pem: Zeroizing<String>,
    /// Checked after the certificate and key, as the documented order of refusals wants.
    name: Result<CertificateName, ApiError>,
    resource_group_id: Result<Option<String>, ApiError>,
}

impl UploadRequest {
    fn parse(params: &RpcParams) -> Result<Self, ApiError> {
        let region = fields::region(params)?;
        fields::refuse_unsupported(params, &NOT_YET)?;
        Ok(UploadRequest {
            region,
            certificate_pem: params
                .get("ServerCertificate")
                .unwrap_or_default()
                .to_owned(),
            private_key_pem: Zeroizing::new(
                params.get("PrivateKey").unwrap_or_default().to_owned(),
            ),
            name: CertificateName::parse_optional(
                "ServerCertificateName",
                params.get("ServerCertificateName"),
            ),
            resource_group_id: fields::resource_group(params),
        })
    }
}

pub async fn upload(context: &Context<'_>) -> Result<Map<String, Value>, ApiError> {
    let request = UploadRequest::parse(context.params)?;
    let material = pki::validate_server_certificate(
        &request.certificate_pem,
        &request.private_key_pem,
        context.now,
    )?;
    let name = request.name?.into_string();
    let resource_group_id = request
        .resource_group_id?
        .unwrap_or_else(|| context.caller.default_resource_group_id.clone());

    let scope = Scope {
        account_id: context.caller.account_id.clone(),
        region_id: request.region.id.to_owned(),
    };
    let created_ms = clock::unix_ms(context.now);
    let leaf = &material.chain.leaf;
    let certificate = ServerCertificate {
        id: ids::server_certificate_id(&scope.account_id, created_ms),
        scope,
        name,
        resource_group_id,
        fingerprint: leaf.fingerprint.clone(),
        common_name: leaf.common_name.clone(),
        subject_alternative_names: leaf.subject_alternative_names.clone(),
        expire_ms: clock::unix_ms(leaf.not_after),
        // CreateTime has whole seconds; the ID keeps the milliseconds.
        created_ms: created_ms - created_ms.rem_euclid(1000),
    };
    let stored = CertificateMaterial {
        certificate_pem: material.chain.pem,
        private_key: SealedPrivateKey::seal(material.private_key.pem()),
    };
    let limit = context.limits.server_certificates_per_region;
    match context
        .store
        .insert_server_certificate(certificate.clone(), stored, limit)
        .await
    {
        Ok(()) => Ok(view(&certificate, false)),
        Err(StoreError::OverQuota { used, limit }) => Err(ApiError::OverQuota(format!(
            "the account already has {used} server certificates in {} (quota {limit})",
            request.region.id
        ))),
        Err(other) => Err(other.into()),
    }
}

/// A comma-separated ServerCertificateId names at most this many certificates.
const MAX_DESCRIBE_IDS: usize = 100;

struct DescribeRequest {
    scope: Scope,
    filter: ServerCertificateFilter,
}

impl DescribeRequest {
    fn parse(context: &Context<'_>) -> Result<Self, ApiError> {
        let params = context.params;
        let region = fields::region(params)?;
        fields::refuse_unsupported(params, &NOT_YET)?;
        let ids: Vec<String> = params
            .non_empty("ServerCertificateId")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if ids.len() > MAX_DESCRIBE_IDS {
            return Err(ApiError::InvalidParameter(format!(
                "The specified ServerCertificateId lists {} IDs; at most {MAX_DESCRIBE_IDS} are allowed.",
                ids.len()
            )));
        }
        Ok(DescribeRequest {
            scope: caller_scope(context, region),
            filter: ServerCertificateFilter {
                ids,
                resource_group_id: fields::resource_group(params)?,
            },
        })
    }
}

pub async fn describe(context: &Context<'_>) -> Result<Map<String, Value>, ApiError> {
    let request = DescribeRequest::parse(context)?;
    let certificates = context
        .store
        .list_server_certificates(&request.scope, &request.filter)
        .await?;
    let items: Vec<Value> = certificates
        .iter()
        .map(|certificate| Value::Object(view(certificate, true)))
        .collect();
    let mut fields = Map::new();
    fields.insert(
        "ServerCertificates".into(),
        serde_json::json!({ "ServerCertificate": items }),
    );
    Ok(fields)
}

/// A certificate ID in the caller's scope, as Delete and SetName take it.
struct TargetRequest {
    scope: Scope,
    id: String,
}

impl TargetRequest {
    fn parse(context: &Context<'_>) -> Result<Self, ApiError> {
        let params = context.params;
        let region = fields::region(params)?;
        fields::refuse_unsupported(params, &NOT_YET[1..])?;
        Ok(TargetRequest {
            scope: caller_scope(context, region),
            id: params.required("ServerCertificateId")?.to_owned(),
        })
    }
}

pub async fn delete(context: &Context<'_>) -> Result<Map<String, Value>, ApiError> {
    let target = TargetRequest::parse(context)?;
    if !context
        .store
        .delete_server_certificate(&target.scope, &target.id)
        .await?
    {
        return Err(ApiError::ServerCertificateNotFound(target.id));
    }
    Ok(Map::new())
}

pub async fn set_name(context: &Context<'_>) -> Result<Map<String, Value>, ApiError> {
    let target = TargetRequest::parse(context)?;
    let name = CertificateName::parse(
        "ServerCertificateName",
        context.params.required("ServerCertificateName")?,
    )?;
    if !context
        .store
        .rename_server_certificate(&target.scope, &target.id, &name.into_string())
        .await?
    {
        return Err(ApiError::ServerCertificateNotFound(target.id));
    }
    Ok(Map::new())
}

fn caller_scope(context: &Context<'_>, region: &Region) -> Scope {
    Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    }
}

/// A certificate in the response shape of Upload (and, with tags, of Describe).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServerCertificateView<'a> {
    server_certificate_id: &'a str,
    server_certificate_name: &'a str,
    fingerprint: &'a str,
    region_id: &'a str,
    region_id_alias: &'a str,
    resource_group_id: &'a str,
    common_name: &'a str,
    subject_alternative_names: SubjectAlternativeNames<'a>,
    create_time: String,
    create_time_stamp: i64,
    expire_time: String,
    expire_time_stamp: i64,
    is_ali_cloud_certificate: u8,
    ali_cloud_certificate_id: &'a str,
    ali_cloud_certificate_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubjectAlternativeNames<'a> {
    subject_alternative_name: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Tags {
    tag: Vec<Value>,
}

fn view(certificate: &ServerCertificate, with_tags: bool) -> Map<String, Value> {
    let view = ServerCertificateView {
        server_certificate_id: &certificate.id,
        server_certificate_name: &certificate.name,
        fingerprint: &certificate.fingerprint,
        region_id: &certificate.scope.region_id,
        region_id_alias: &certificate.scope.region_id,
        resource_group_id: &certificate.resource_group_id,
        common_name: &certificate.common_name,
        subject_alternative_names: SubjectAlternativeNames {
            subject_alternative_name: &certificate.subject_alternative_names,
        },
        create_time: clock::iso8601(clock::from_unix_ms(certificate.created_ms)),
        create_time_stamp: certificate.created_ms,
        expire_time: clock::iso8601(clock::from_unix_ms(certificate.expire_ms)),
        expire_time_stamp: certificate.expire_ms,
        is_ali_cloud_certificate: 0,
        ali_cloud_certificate_id: "",
        ali_cloud_certificate_name: "",
        tags: with_tags.then(|| Tags { tag: Vec::new() }),
    };
    match serde_json::to_value(view) {
        Ok(Value::Object(fields)) => fields,
        _ => unreachable!("a struct serializes to an object"),
    }
}
