//! MoveResourceGroup: a load balancer, a server or CA certificate, or an access control list
//! into another resource group.

use super::{Lookup, edit, region_or_default};
use crate::api::error::ApiError;
use crate::products::inputs;
use crate::products::{Context, Fields};
use crate::store::{CertificateField, CertificateKind, StoreError};

pub async fn move_resource(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("ResourceId")?;
    let group = inputs::resource_group_named(params, "NewResourceGroupId")?
        .ok_or(ApiError::MissingParameter("NewResourceGroupId"))?;
    match params.required("ResourceType")? {
        "loadbalancer" | "instance" => {
            // Judged in the request's region (the resource is named by type, not looked up
            // before authorization): a load balancer of another region is not found.
            let region = region_or_default(context)?;
            edit(context, Lookup::Id(id), |load_balancer| {
                if load_balancer.region_id != region.id {
                    return Err(ApiError::LoadBalancerNotFound(id.to_owned()));
                }
                load_balancer.resource_group_id = group.clone();
                Ok(())
            })
            .await?;
        }
        "acl" => {
            super::acls::move_to(context, id, &group).await?;
        }
        "certificate" => move_certificate(context, id, &group).await?,
        other => {
            return Err(ApiError::InvalidParameter(format!(
                "The specified ResourceType {other:?} is not valid: use loadbalancer, certificate or acl."
            )));
        }
    }
    Ok(Fields::new())
}

/// Server and CA certificates share the type `certificate`; the ID says which it is.
async fn move_certificate(context: &Context<'_>, id: &str, group: &str) -> Result<(), ApiError> {
    let scope = super::certificates::scope(context, region_or_default(context)?);
    for kind in [CertificateKind::Server, CertificateKind::Ca] {
        let line = context.audit.success(id, None);
        let moved = context
            .store
            .set_certificate_field(
                &scope,
                kind,
                id,
                CertificateField::ResourceGroup,
                group,
                line,
            )
            .await;
        match moved {
            Ok(()) => return Ok(()),
            Err(StoreError::NotFound(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::ResourceNotFound(id.to_owned()))
}
