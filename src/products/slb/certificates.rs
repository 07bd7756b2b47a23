//! What server and CA certificates share: storing an upload, Describe's filters, Delete and
//! SetName, and the tag view.

use serde::Serialize;
use serde_json::Value;

use crate::products::inputs::{self, CertificateName};
use crate::products::{Context, Fields};
use zeroize::Zeroizing;

use crate::api::error::ApiError;
use crate::clock;
use crate::crypto::Binding;
use crate::ids;
use crate::pki::CertificateInfo;
use crate::regions::Region;
use crate::store::{
    AliCloudSource, Certificate, CertificateField, CertificateFilter, CertificateKind,
    CertificateMaterial, Quota, Scope, StoreError, Tag, TagFilter,
};

/// How one kind of certificate is named on the wire.
pub(super) struct Spec {
    pub kind: CertificateKind,
    pub id_parameter: &'static str,
    pub name_parameter: &'static str,
    pub not_found: fn(String) -> ApiError,
    /// How the quota error names the kind.
    pub noun: &'static str,
}

/// A comma-separated ID list of Describe names at most this many certificates.
const MAX_DESCRIBE_IDS: usize = 100;

pub(super) fn scope(context: &Context<'_>, region: &Region) -> Scope {
    Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    }
}

/// The parameters every upload takes besides the certificate itself.
pub(super) struct UploadCommon {
    pub region: &'static Region,
    pub name: Result<CertificateName, ApiError>,
    pub resource_group_id: Result<Option<String>, ApiError>,
    pub tags: Vec<Tag>,
}

impl UploadCommon {
    pub fn parse(context: &Context<'_>, spec: &Spec) -> Result<Self, ApiError> {
        let params = context.params;
        Ok(UploadCommon {
            region: inputs::region(params)?,
            name: CertificateName::parse_optional(
                spec.name_parameter,
                params.get(spec.name_parameter),
            ),
            resource_group_id: inputs::resource_group(params),
            tags: inputs::tags_with_legacy(params)?,
        })
    }
}

/// What a validated upload stores besides its metadata.
pub(super) struct Upload<'a> {
    pub leaf: &'a CertificateInfo,
    pub certificate_pem: String,
    /// Server certificates: the key's PEM, sealed here to the new certificate's ID.
    pub private_key: Option<&'a Zeroizing<String>>,
    pub ali_cloud: Option<AliCloudSource>,
}

/// Stores a validated upload; name and resource group are checked here, after the
/// certificate, as the documented order of refusals wants.
pub(super) async fn store_upload(
    context: &Context<'_>,
    spec: &Spec,
    common: UploadCommon,
    upload: Upload<'_>,
    quota: Quota,
) -> Result<Certificate, ApiError> {
    let leaf = upload.leaf;
    let name = common.name?.into_string();
    let resource_group_id = common
        .resource_group_id?
        .unwrap_or_else(|| context.caller.default_resource_group_id.clone());
    let scope = scope(context, common.region);
    let created_ms = clock::unix_ms(context.now);
    let certificate = Certificate {
        id: ids::certificate_id(&scope.account_id, created_ms),
        kind: spec.kind,
        scope,
        name,
        resource_group_id,
        fingerprint: leaf.fingerprint.clone(),
        common_name: leaf.common_name.clone(),
        subject_alternative_names: leaf.subject_alternative_names.clone(),
        encryption_algorithm: leaf.public_key.encryption().0.to_owned(),
        encryption_key_length: leaf.public_key.encryption().1,
        expire_ms: clock::unix_ms(leaf.not_after),
        // CreateTime has whole seconds; the ID keeps the milliseconds.
        created_ms: created_ms - created_ms.rem_euclid(1000),
        ali_cloud: upload.ali_cloud,
        tags: common.tags,
    };
    let private_key = match upload.private_key {
        Some(pem) => {
            let binding = Binding::CertificateKey {
                account_id: certificate.scope.account_id.clone(),
                region_id: certificate.scope.region_id.clone(),
                certificate_id: certificate.id.clone(),
            };
            Some(context.vault.seal(pem.as_bytes(), &binding).await?)
        }
        None => None,
    };
    let material = CertificateMaterial {
        certificate_pem: upload.certificate_pem,
        private_key,
    };
    let line = context
        .audit
        .success(&certificate.id, Some(&certificate.fingerprint));
    match context
        .store
        .insert_certificate(certificate.clone(), material, quota, line)
        .await
    {
        Ok(()) => Ok(certificate),
        Err(StoreError::OverQuota { used, limit }) => Err(ApiError::OverQuota(format!(
            "the account already has {used} {} in {} (quota {limit})",
            spec.noun, common.region.id
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Describe: the caller's certificates of one kind in one region, filtered by a list of IDs,
/// a resource group and tags (`Tag.N.*`, or the legacy JSON `Tags`).
pub(super) async fn find(context: &Context<'_>, spec: &Spec) -> Result<Vec<Certificate>, ApiError> {
    let params = context.params;
    let region = inputs::region(params)?;
    let mut tags = inputs::tag_filters(params)?;
    tags.extend(legacy_tag_filters(params.non_empty("Tags"))?);
    if tags.len() > inputs::MAX_TAGS {
        return Err(ApiError::TagCountLimit(format!(
            "{} tag filters are given (Tag.N and Tags together); at most {} are allowed",
            tags.len(),
            inputs::MAX_TAGS
        )));
    }
    let filter = CertificateFilter {
        ids: inputs::id_list(params, spec.id_parameter, MAX_DESCRIBE_IDS)?,
        resource_group_id: inputs::resource_group(params)?,
        tags,
    };
    let scope = scope(context, region);
    Ok(context
        .store
        .list_certificates(&scope, spec.kind, &filter)
        .await?)
}

/// `Tags=[{"TagKey":"k","TagValue":"v"}]`, the JSON form older clients send, as filters.
pub(super) fn legacy_tag_filters(json: Option<&str>) -> Result<Vec<TagFilter>, ApiError> {
    Ok(inputs::legacy_tags(json)?
        .into_iter()
        .map(|(key, value)| TagFilter {
            key,
            value: value.filter(|v| !v.is_empty()),
        })
        .collect())
}

/// A certificate ID of the caller's, as Delete and SetName take it.
struct Target {
    scope: Scope,
    id: String,
}

fn target(context: &Context<'_>, spec: &Spec) -> Result<Target, ApiError> {
    let region = inputs::region(context.params)?;
    Ok(Target {
        scope: scope(context, region),
        id: context.params.required(spec.id_parameter)?.to_owned(),
    })
}

pub(super) async fn delete(context: &Context<'_>, spec: &Spec) -> Result<Fields, ApiError> {
    let target = target(context, spec)?;
    let line = context.audit.success(&target.id, None);
    match context
        .store
        .delete_certificate(&target.scope, spec.kind, &target.id, line)
        .await
    {
        Ok(()) => Ok(Fields::new()),
        Err(StoreError::NotFound(_)) => Err((spec.not_found)(target.id)),
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn rename(context: &Context<'_>, spec: &Spec) -> Result<Fields, ApiError> {
    let target = target(context, spec)?;
    let name = CertificateName::parse(
        spec.name_parameter,
        context.params.required(spec.name_parameter)?,
    )?;
    let line = context.audit.success(&target.id, None);
    match context
        .store
        .set_certificate_field(
            &target.scope,
            spec.kind,
            &target.id,
            CertificateField::Name,
            &name.into_string(),
            line,
        )
        .await
    {
        Ok(()) => Ok(Fields::new()),
        Err(StoreError::NotFound(_)) => Err((spec.not_found)(target.id)),
        Err(other) => Err(other.into()),
    }
}

/// The key fields the Go models of Describe declare. `StandardType` is empty: only SM2
/// (Chinese national standard) certificates would set it, and those are refused.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EncryptionView<'a> {
    encryption_algorithm: &'a str,
    encryption_key_length: u32,
    standard_type: &'static str,
}

impl<'a> EncryptionView<'a> {
    pub fn of(certificate: &'a Certificate) -> EncryptionView<'a> {
        EncryptionView {
            encryption_algorithm: &certificate.encryption_algorithm,
            encryption_key_length: certificate.encryption_key_length,
            standard_type: "",
        }
    }
}

pub(super) use crate::products::views::TagsView;

/// Describe's answer: `{"<Plural>": {"<Singular>": [...]}}`, always a list.
pub(super) fn listing(plural: &str, singular: &str, items: Vec<Fields>) -> Fields {
    let items: Vec<Value> = items.into_iter().map(Value::Object).collect();
    let mut fields = Fields::new();
    let mut inner = Fields::new();
    inner.insert(singular.to_owned(), Value::Array(items));
    fields.insert(plural.to_owned(), Value::Object(inner));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_tags_parse_or_are_refused() {
        let filters =
            legacy_tag_filters(Some(r#"[{"TagKey":"a","TagValue":"1"},{"TagKey":"b"}]"#)).unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].value.as_deref(), Some("1"));
        assert_eq!(filters[1].value, None);
        assert!(legacy_tag_filters(Some("not json")).is_err());
        assert!(legacy_tag_filters(None).unwrap().is_empty());
        let many: Vec<String> = (0..21).map(|n| format!(r#"{{"TagKey":"k{n}"}}"#)).collect();
        let error = legacy_tag_filters(Some(&format!("[{}]", many.join(",")))).unwrap_err();
        assert_eq!(error.code(), "TagCountLimit");
    }
}
