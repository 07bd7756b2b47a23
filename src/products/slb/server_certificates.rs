//! UploadServerCertificate and DescribeServerCertificates (Delete and SetName are shared with
//! CA certificates in `certificates`).

use serde::Serialize;
use zeroize::Zeroizing;

use super::certificates::{self, EncryptionView, Spec, TagsView, Upload, UploadCommon};
use crate::api::error::{ApiError, SERVER_CERTIFICATE_UPLOAD};
use crate::api::params::RpcParams;
use crate::clock;
use crate::crypto::Binding;
use crate::pki;
use crate::products::{Context, Fields, to_fields};
use crate::regions;
use crate::store::{AliCloudSource, Certificate, CertificateKind};

pub(super) const SPEC: Spec = Spec {
    kind: CertificateKind::Server,
    id_parameter: "ServerCertificateId",
    name_parameter: "ServerCertificateName",
    not_found: ApiError::ServerCertificateNotFound,
    noun: "server certificates",
};

/// Where the certificate and key of an upload come from.
enum Source {
    Pem {
        certificate: String,
        private_key: Zeroizing<String>,
    },
    /// A certificate of the SSL Certificates Service, by ID.
    AliCloud {
        id: String,
        name: Option<String>,
        region_id: Option<String>,
    },
}

impl Source {
    fn parse(params: &RpcParams) -> Result<Source, ApiError> {
        let pem_given = params.non_empty("ServerCertificate").is_some()
            || params.non_empty("PrivateKey").is_some();
        let name = params
            .non_empty("AliCloudCertificateName")
            .map(str::to_owned);
        let region_id = params
            .non_empty("AliCloudCertificateRegionId")
            .map(str::to_owned);
        let Some(id) = params.non_empty("AliCloudCertificateId") else {
            if name.is_some() || region_id.is_some() {
                return Err(ApiError::InvalidParameter(
                    "AliCloudCertificateName and AliCloudCertificateRegionId need AliCloudCertificateId."
                        .into(),
                ));
            }
            return Ok(Source::Pem {
                certificate: params
                    .get("ServerCertificate")
                    .unwrap_or_default()
                    .to_owned(),
                private_key: Zeroizing::new(
                    params.get("PrivateKey").unwrap_or_default().to_owned(),
                ),
            });
        };
        if pem_given {
            return Err(ApiError::InvalidParameter(
                "Give either ServerCertificate and PrivateKey, or AliCloudCertificateId, not both."
                    .into(),
            ));
        }
        if let Some(region) = &region_id
            && regions::find(region).is_none()
        {
            return Err(ApiError::InvalidRegionId(region.clone()));
        }
        Ok(Source::AliCloud {
            id: id.to_owned(),
            name,
            region_id,
        })
    }
}

pub async fn upload(context: &Context<'_>) -> Result<Fields, ApiError> {
    let common = UploadCommon::parse(context, &SPEC)?;
    let (certificate_pem, private_key_pem, ali_cloud) = match Source::parse(context.params)? {
        Source::Pem {
            certificate,
            private_key,
        } => (certificate, private_key, None),
        Source::AliCloud {
            id,
            name,
            region_id,
        } => from_ali_cloud(context, id, name, region_id).await?,
    };
    let material =
        pki::validate_server_certificate(&certificate_pem, &private_key_pem, context.now)
            .map_err(|error| ApiError::refused(error, SERVER_CERTIFICATE_UPLOAD))?;
    let upload = Upload {
        leaf: &material.chain.leaf,
        certificate_pem: material.chain.pem,
        private_key: Some(material.private_key.pem()),
        ali_cloud,
    };
    let limit = context.limits.server_certificates_per_region;
    let certificate = certificates::store_upload(context, &SPEC, common, upload, limit).await?;
    to_fields(View::of(&certificate, false))
}

/// The PEM and key of a certificate of the caller's in the SSL Certificates Service.
async fn from_ali_cloud(
    context: &Context<'_>,
    id: String,
    name: Option<String>,
    region_id: Option<String>,
) -> Result<(String, Zeroizing<String>, Option<AliCloudSource>), ApiError> {
    let missing = || {
        ApiError::InvalidParameter(format!(
            "The specified AliCloudCertificateId {id:?} does not exist in the SSL Certificates Service."
        ))
    };
    let cert_id: i64 = id.parse().map_err(|_| missing())?;
    let (stored, material) = context
        .store
        .user_certificate(&context.caller.account_id, cert_id)
        .await?
        .ok_or_else(missing)?;
    if let Some(given) = &name
        && *given != stored.name
    {
        return Err(ApiError::InvalidParameter(format!(
            "The specified AliCloudCertificateName {given:?} is not the name of certificate {id} ({:?}).",
            stored.name
        )));
    }
    let sealed = material.private_key.ok_or(ApiError::Internal)?;
    let binding = Binding::UserCertificateKey {
        account_id: context.caller.account_id.clone(),
        cert_id,
    };
    let private_key = context.vault.open_text(&sealed, &binding).await?;
    let source = AliCloudSource {
        certificate_id: id.clone(),
        certificate_name: stored.name,
        region_id: region_id.unwrap_or_default(),
    };
    Ok((material.certificate_pem, private_key, Some(source)))
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let found = certificates::find(context, &SPEC).await?;
    let items = found
        .iter()
        .map(|c| to_fields(View::of(c, true)))
        .collect::<Result<_, _>>()?;
    Ok(certificates::listing(
        "ServerCertificates",
        "ServerCertificate",
        items,
    ))
}

/// A server certificate in the response shape of Upload (and, with tags, of Describe).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct View<'a> {
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
    tags: Option<TagsView>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    encryption: Option<EncryptionView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubjectAlternativeNames<'a> {
    subject_alternative_name: &'a [String],
}

impl<'a> View<'a> {
    fn of(certificate: &'a Certificate, with_tags: bool) -> View<'a> {
        let source = certificate.ali_cloud.as_ref();
        View {
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
            is_ali_cloud_certificate: u8::from(source.is_some()),
            ali_cloud_certificate_id: source.map_or("", |s| s.certificate_id.as_str()),
            ali_cloud_certificate_name: source.map_or("", |s| s.certificate_name.as_str()),
            tags: with_tags.then(|| TagsView::of(&certificate.tags)),
            encryption: with_tags.then(|| EncryptionView::of(certificate)),
        }
    }
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    certificates::delete(context, &SPEC).await
}

pub async fn rename(context: &Context<'_>) -> Result<Fields, ApiError> {
    certificates::rename(context, &SPEC).await
}
