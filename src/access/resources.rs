//! The resources a request acts on, as ARNs for policies' `Resource`: derived from the
//! parameter the action table names as each action's target.
//!
//! `acs:slb:REGION:ACCOUNT:certificate/ID`, `…:loadbalancer/lb-…`, `acs:ram:*:ACCOUNT:user/NAME`,
//! and `…/*` when the request names none (a listing, an upload).

use crate::api::params::RpcParams;

/// The resource type an action's target parameter names.
fn resource_type(target: &str) -> Option<&'static str> {
    Some(match target {
        "ServerCertificateId" | "CertId" => "certificate",
        "CACertificateId" => "cacertificate",
        "LoadBalancerId" | "LoadBalancerId.1" => "loadbalancer",
        "DomainExtensionId" => "domainextension",
        "VServerGroupId" => "vservergroup",
        "UserName" => "user",
        "GroupName" => "group",
        "PolicyName" => "policy",
        "RoleName" => "role",
        _ => return None,
    })
}

/// Every resource the request acts on; each must be allowed.
pub fn arns(service: &str, target: &str, params: &RpcParams, account_id: &str) -> Vec<String> {
    // STS acts on the role it names.
    if target == "RoleArn" {
        return vec![params.non_empty("RoleArn").unwrap_or("*").to_owned()];
    }
    let region = match service {
        "slb" => params.non_empty("RegionId").unwrap_or("*"),
        _ => "*",
    };
    let arn = |kind: &str, id: &str| format!("acs:{service}:{region}:{account_id}:{kind}/{id}");
    // Tags name their resources in a list, of the type the request says.
    if target == "ResourceId.1" {
        let kind = match params
            .non_empty("ResourceType")
            .map(str::to_ascii_lowercase)
        {
            Some(kind) if kind == "instance" => "loadbalancer".to_owned(),
            Some(kind) => kind,
            None => "*".to_owned(),
        };
        let ids: Vec<String> = (1..)
            .map_while(|n| params.non_empty(&format!("ResourceId.{n}")))
            .map(|id| arn(&kind, id))
            .collect();
        return if ids.is_empty() {
            vec![arn(&kind, "*")]
        } else {
            ids
        };
    }
    match resource_type(target) {
        Some(kind) => vec![arn(kind, params.non_empty(target).unwrap_or("*"))],
        None => vec![format!("acs:{service}:{region}:{account_id}:*")],
    }
}
