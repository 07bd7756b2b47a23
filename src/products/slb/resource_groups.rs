//! MoveResourceGroup: a load balancer or an access control list into another resource group.
//! Certificates cannot be moved yet (their store has no such change): the action says so.

use super::{Lookup, edit, region_or_default};
use crate::api::error::ApiError;
use crate::products::fields;
use crate::products::{Context, Fields};

pub async fn move_resource(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("ResourceId")?;
    let group = fields::resource_group_named(params, "NewResourceGroupId")?
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
        "certificate" => {
            return Err(ApiError::InvalidParameter(
                "Moving certificates between resource groups is not supported by this server yet; load balancers and access control lists can be moved.".into(),
            ));
        }
        other => {
            return Err(ApiError::InvalidParameter(format!(
                "The specified ResourceType {other:?} is not valid: use loadbalancer, certificate or acl."
            )));
        }
    }
    Ok(Fields::new())
}
