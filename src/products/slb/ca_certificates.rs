//! UploadCACertificate and DescribeCACertificates (Delete and SetName are shared with server
//! certificates in `certificates`): CA certificates for mutual TLS, without keys.

use serde::Serialize;

use super::certificates::{self, EncryptionView, Spec, TagsView, Upload, UploadCommon};
use crate::api::error::{ApiError, CA_CERTIFICATE_UPLOAD};
use crate::clock;
use crate::pki;
use crate::products::{Context, Fields, to_fields};
use crate::store::{Certificate, CertificateKind};

pub(super) const SPEC: Spec = Spec {
    kind: CertificateKind::Ca,
    id_parameter: "CACertificateId",
    name_parameter: "CACertificateName",
    not_found: ApiError::CaCertificateNotFound,
    noun: "CA certificates",
};

pub async fn upload(context: &Context<'_>) -> Result<Fields, ApiError> {
    let common = UploadCommon::parse(context, &SPEC)?;
    let pem = context.params.required("CACertificate")?;
    let bundle = pki::validate_ca_certificate(pem, context.now)
        .map_err(|error| ApiError::refused(error, CA_CERTIFICATE_UPLOAD))?;
    let upload = Upload {
        leaf: &bundle.leaf,
        certificate_pem: bundle.pem,
        private_key: None,
        ali_cloud: None,
    };
    let limit = context.limits.ca_certificates_per_region;
    let certificate = certificates::store_upload(context, &SPEC, common, upload, limit).await?;
    to_fields(View::of(&certificate, false))
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let found = certificates::find(context, &SPEC).await?;
    let items = found
        .iter()
        .map(|c| to_fields(View::of(c, true)))
        .collect::<Result<_, _>>()?;
    Ok(certificates::listing(
        "CACertificates",
        "CACertificate",
        items,
    ))
}

/// A CA certificate as Describe shows it; Upload's answer has neither RegionId nor Tags.
#[derive(Serialize)]
struct View<'a> {
    #[serde(rename = "CACertificateId")]
    ca_certificate_id: &'a str,
    #[serde(rename = "CACertificateName")]
    ca_certificate_name: &'a str,
    #[serde(rename = "RegionId", skip_serializing_if = "Option::is_none")]
    region_id: Option<&'a str>,
    #[serde(rename = "Fingerprint")]
    fingerprint: &'a str,
    #[serde(rename = "CommonName")]
    common_name: &'a str,
    #[serde(rename = "CreateTime")]
    create_time: String,
    #[serde(rename = "CreateTimeStamp")]
    create_time_stamp: i64,
    #[serde(rename = "ExpireTime")]
    expire_time: String,
    #[serde(rename = "ExpireTimeStamp")]
    expire_time_stamp: i64,
    #[serde(rename = "ResourceGroupId")]
    resource_group_id: &'a str,
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    tags: Option<TagsView>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    encryption: Option<EncryptionView<'a>>,
}

impl<'a> View<'a> {
    fn of(certificate: &'a Certificate, described: bool) -> View<'a> {
        View {
            ca_certificate_id: &certificate.id,
            ca_certificate_name: &certificate.name,
            region_id: described.then_some(certificate.scope.region_id.as_str()),
            fingerprint: &certificate.fingerprint,
            common_name: &certificate.common_name,
            create_time: clock::iso8601(clock::from_unix_ms(certificate.created_ms)),
            create_time_stamp: certificate.created_ms,
            expire_time: clock::iso8601(clock::from_unix_ms(certificate.expire_ms)),
            expire_time_stamp: certificate.expire_ms,
            resource_group_id: &certificate.resource_group_id,
            tags: described.then(|| TagsView::of(&certificate.tags)),
            encryption: described.then(|| EncryptionView::of(certificate)),
        }
    }
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    certificates::delete(context, &SPEC).await
}

pub async fn rename(context: &Context<'_>) -> Result<Fields, ApiError> {
    certificates::rename(context, &SPEC).await
}
