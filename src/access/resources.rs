//! The resources a request acts on, as ARNs for policies' `Resource`, resolved before it is
//! authorized: what the handler will act on, not what the request seems to name.
//!
//! Each action's row declares its [`Ref`]s: the parameters that name resources, and what kind
//! each names. [`resolve`] reads every ID of each (every list form, through the same
//! [`RpcParams::ids`] the handlers use), looks load balancers and their children up in the
//! store to judge them in their real region, and adds the load balancer to each child (a
//! VServer group or domain extension is judged as its load balancer too). A resource of another
//! product is judged under that product's read action. This is the one place ARNs are made.
//!
//! `acs:slb:REGION:ACCOUNT:loadbalancer/lb-…`, `…:certificate/ID`, `acs:ram:*:ACCOUNT:user/NAME`,
//! `acs:yundun-cert:*:ACCOUNT:certificate/ID`; `…:KIND/*` when the request names none of the
//! first kind (a listing, a creation) and `…:*` for an action that names no resource at all.

use super::ram_state::RamState;
use crate::api::error::ApiError;
use crate::api::params::{RpcParams, lenient_json};
use crate::regions;
use crate::store::Store;
use crate::store::load_balancers::{LoadBalancer, Owner, parse_listener_tag_id};

/// What a parameter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    LoadBalancer,
    /// Children of a load balancer: judged as themselves and as their load balancer.
    DomainExtension,
    VServerGroup,
    /// A forwarding rule (`RuleId`, or the list `RuleIds`).
    Rule,
    MasterSlaveGroup,
    /// The VServer groups the rules of a `RuleList` send traffic to.
    RuleListGroups,
    ServerCertificate,
    CaCertificate,
    /// An access control list (`AclId`, a comma list on listeners).
    Acl,
    /// A custom TLS cipher policy (`TLSCipherPolicyId`).
    TlsCipherPolicy,
    /// A listener's `TLSCipherPolicy`: a custom policy's ID is judged; a built-in name is not
    /// a resource.
    ListenerTlsPolicy,
    /// `ResourceId.N` of the type `ResourceType` says (tags).
    Tagged,
    /// `ResourceId` of the type `ResourceType` says (MoveResourceGroup).
    Moved,
    /// An SSL Certificates Service certificate.
    UserCertificate,
    /// An SSL Certificates Service certificate order (`OrderId`).
    CertificateOrder,
    RamUser,
    RamGroup,
    RamPolicy,
    RamRole,
    /// A role's whole ARN (STS AssumeRole).
    RoleArn,
}

impl Kind {
    /// The service whose policies name it.
    fn service(self) -> &'static str {
        match self {
            Kind::UserCertificate | Kind::CertificateOrder => "yundun-cert",
            Kind::RamUser | Kind::RamGroup | Kind::RamPolicy | Kind::RamRole => "ram",
            // A RAM role's ARN, judged under sts:AssumeRole.
            Kind::RoleArn => "sts",
            _ => "slb",
        }
    }

    /// The resource type in its ARN.
    fn arn_type(self) -> &'static str {
        match self {
            Kind::LoadBalancer => "loadbalancer",
            Kind::DomainExtension => "domainextension",
            Kind::VServerGroup | Kind::RuleListGroups => "vservergroup",
            Kind::Rule => "rule",
            Kind::MasterSlaveGroup => "masterslaveservergroup",
            Kind::ServerCertificate | Kind::UserCertificate => "certificate",
            Kind::CertificateOrder => "order",
            Kind::CaCertificate => "cacertificate",
            Kind::Acl => "acl",
            Kind::TlsCipherPolicy | Kind::ListenerTlsPolicy => "tlscipherpolicy",
            Kind::Tagged | Kind::Moved => "*",
            Kind::RamUser => "user",
            Kind::RamGroup => "group",
            Kind::RamPolicy => "policy",
            Kind::RamRole | Kind::RoleArn => "role",
        }
    }

    /// What using it from another product's action needs: that product's read action.
    fn read_action(self) -> &'static str {
        match self {
            Kind::UserCertificate => "yundun-cert:GetUserCertificateDetail",
            Kind::CertificateOrder => "yundun-cert:DescribeCertificateState",
            Kind::RamUser => "ram:GetUser",
            Kind::RamGroup => "ram:GetGroup",
            Kind::RamPolicy => "ram:GetPolicy",
            Kind::RamRole | Kind::RoleArn => "ram:GetRole",
            Kind::LoadBalancer
            | Kind::DomainExtension
            | Kind::VServerGroup
            | Kind::Rule
            | Kind::RuleListGroups
            | Kind::MasterSlaveGroup
            | Kind::Tagged
            | Kind::Moved => "slb:DescribeLoadBalancerAttribute",
            Kind::ServerCertificate | Kind::CaCertificate => "slb:DescribeServerCertificates",
            Kind::Acl => "slb:DescribeAccessControlListAttribute",
            Kind::TlsCipherPolicy | Kind::ListenerTlsPolicy => "slb:ListTLSCipherPolicies",
        }
    }
}

/// A parameter that names resources, and of what kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ref {
    pub parameter: &'static str,
    pub kind: Kind,
}

impl Ref {
    pub const fn new(parameter: &'static str, kind: Kind) -> Ref {
        Ref { parameter, kind }
    }

    /// The first ID it names, for the audit record of a refusal.
    pub fn first_id<'p>(&self, params: &'p RpcParams) -> Option<&'p str> {
        match self.kind {
            Kind::Tagged => params.indexed(self.parameter).ok()?.first().copied(),
            Kind::RoleArn => params.non_empty(self.parameter),
            _ => params.ids(self.parameter).ok()?.first().copied(),
        }
    }
}

/// One thing a request needs allowed: an action (`slb:SetLoadBalancerStatus`) on a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub action: String,
    pub resource: String,
}

/// Who asks, and what the resolution may read.
pub struct Subject<'a> {
    pub store: &'a dyn Store,
    pub params: &'a RpcParams,
    pub account_id: &'a str,
    /// The `Host` the request was sent to: a regional host name says a missing RegionId.
    pub host: &'a str,
    /// The account's RAM state: role names are matched ignoring case, as RAM does.
    pub ram: &'a RamState,
}

/// Every (action, resource) the request needs allowed, for the action `service:action` whose
/// row declares `refs`. Each must be allowed.
pub async fn resolve(
    subject: &Subject<'_>,
    service: &str,
    action: &str,
    refs: &[Ref],
) -> Result<Vec<Need>, ApiError> {
    let params = subject.params;
    let region_id = params.non_empty("RegionId");
    // An unknown RegionId is refused here: a region-less ARN would escape regional policies.
    let requested = match service {
        "slb" => Some(regions::of_request(region_id, subject.host)?),
        _ => None,
    };
    let owner = Owner {
        account_id: subject.account_id.to_owned(),
        region_id: region_id.map(str::to_owned),
    };
    let own_action = format!("{service}:{action}");
    let mut needs = Vec::new();
    // Load balancers first: the region of the first one found is the request's region when
    // RegionId is missing, and the handler acts there.
    let mut found_region: Option<String> = None;
    let mut later = Vec::new();
    for reference in refs {
        let action = match reference.kind.service() == service {
            true => own_action.clone(),
            false => reference.kind.read_action().to_owned(),
        };
        match reference.kind {
            Kind::LoadBalancer
            | Kind::DomainExtension
            | Kind::VServerGroup
            | Kind::Rule
            | Kind::RuleListGroups
            | Kind::MasterSlaveGroup => {
                for id in bounded(ids_of(params, reference)?, reference.parameter)? {
                    let parent = match reference.kind {
                        Kind::LoadBalancer => subject.store.load_balancer(&owner, id).await?,
                        _ => subject.store.load_balancer_holding(&owner, id).await?,
                    };
                    let region = parent.as_ref().map(|lb| lb.region_id.clone());
                    if found_region.is_none() {
                        found_region.clone_from(&region);
                    }
                    let region = region.unwrap_or_else(|| fallback(requested));
                    let arn = |kind: &str, id: &str| {
                        format!("acs:slb:{region}:{}:{kind}/{id}", subject.account_id)
                    };
                    needs.push(Need {
                        action: action.clone(),
                        resource: arn(reference.kind.arn_type(), id),
                    });
                    if let (Some(LoadBalancer { id: parent, .. }), false) =
                        (&parent, reference.kind == Kind::LoadBalancer)
                    {
                        needs.push(Need {
                            action: action.clone(),
                            resource: arn("loadbalancer", parent),
                        });
                    }
                }
            }
            _ => later.push((reference, action)),
        }
    }
    let region = match (region_id, found_region) {
        (None, Some(found)) => found,
        _ => fallback(requested),
    };
    for (reference, action) in later {
        for resource in arns_of(subject, reference, &region)? {
            needs.push(Need {
                action: action.clone(),
                resource,
            });
        }
        if reference.kind == Kind::Tagged {
            for resource in tagged_parents(subject, &owner, reference).await? {
                needs.push(Need {
                    action: action.clone(),
                    resource,
                });
            }
        }
    }
    // An action on nothing named (a listing, a creation) is judged on all of the first kind.
    if !needs.iter().any(|need| need.action == own_action) {
        let kind = refs.first().map_or("*", |first| first.kind.arn_type());
        let region = if service == "slb" {
            region.as_str()
        } else {
            "*"
        };
        let resource = match kind {
            "*" => format!("acs:{service}:{region}:{}:*", subject.account_id),
            kind => format!("acs:{service}:{region}:{}:{kind}/*", subject.account_id),
        };
        needs.insert(
            0,
            Need {
                action: own_action,
                resource,
            },
        );
    }
    // A child's load balancer may be named again, by itself or by another child.
    let mut seen = std::collections::HashSet::new();
    needs.retain(|need| seen.insert((need.action.clone(), need.resource.clone())));
    Ok(needs)
}

/// The load balancers of tagged listeners and server groups: tagging one is judged as acting
/// on its load balancer too, as every other action on a child is.
async fn tagged_parents(
    subject: &Subject<'_>,
    owner: &Owner,
    reference: &Ref,
) -> Result<Vec<String>, ApiError> {
    let resource_type = subject.params.non_empty("ResourceType");
    let ids = bounded(
        subject.params.indexed(reference.parameter)?,
        reference.parameter,
    )?;
    let mut arns = Vec::new();
    for id in ids {
        let parent = match resource_type {
            Some("listener") => match parse_listener_tag_id(id) {
                Some((parent, ..)) => subject.store.load_balancer(owner, parent).await?,
                None => None,
            },
            Some("vservergroup" | "masterslaveservergroup") => {
                subject.store.load_balancer_holding(owner, id).await?
            }
            _ => None,
        };
        if let Some(parent) = parent {
            arns.push(format!(
                "acs:slb:{}:{}:loadbalancer/{}",
                parent.region_id, subject.account_id, parent.id
            ));
        }
    }
    Ok(arns)
}

/// The IDs a reference names: a list parameter's, or the `VServerGroupId`s of a `RuleList`
/// (decoded as its handler decodes it).
fn ids_of<'p>(params: &'p RpcParams, reference: &Ref) -> Result<Vec<&'p str>, ApiError> {
    if reference.kind != Kind::RuleListGroups {
        return params.ids(reference.parameter);
    }
    let Some(text) = params.non_empty(reference.parameter) else {
        return Ok(Vec::new());
    };
    let rules: Vec<serde_json::Value> = lenient_json(text).unwrap_or_default();
    let mut ids = Vec::new();
    for rule in &rules {
        if let Some(id) = rule.get("VServerGroupId").and_then(|id| id.as_str()) {
            // A slice of the parameter, as every other ID is.
            match text.find(id) {
                Some(at) => ids.push(&text[at..at + id.len()]),
                // An ID spelled with escapes would be judged as another string than the one
                // the handler acts on.
                None => {
                    return Err(ApiError::InvalidParameter(
                        "The specified RuleList holds a VServerGroupId with escapes.".into(),
                    ));
                }
            }
        }
    }
    Ok(ids)
}

/// IDs looked up for one parameter at most: every action takes 20 or fewer, and each costs a
/// read before the handler could refuse the list.
const MAX_LOOKUPS: usize = 100;

fn bounded<'p>(ids: Vec<&'p str>, parameter: &str) -> Result<Vec<&'p str>, ApiError> {
    if ids.len() > MAX_LOOKUPS {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {parameter} lists {} IDs; at most {MAX_LOOKUPS} are allowed.",
            ids.len()
        )));
    }
    Ok(ids)
}

fn fallback(requested: Option<&regions::Region>) -> String {
    requested.map_or("*", |region| region.id).to_owned()
}

/// The ARNs of a reference that needs no lookup but for role names.
fn arns_of(subject: &Subject<'_>, reference: &Ref, region: &str) -> Result<Vec<String>, ApiError> {
    let params = subject.params;
    let account = subject.account_id;
    let kind = reference.kind;
    let service = kind.service();
    Ok(match kind {
        Kind::Tagged | Kind::Moved => {
            let type_name = match params.non_empty("ResourceType") {
                Some("instance") => "loadbalancer",
                Some(other) => other,
                None => "*",
            };
            let ids = match kind {
                Kind::Tagged => params.indexed(reference.parameter)?,
                _ => params.non_empty(reference.parameter).into_iter().collect(),
            };
            ids.into_iter()
                .map(|id| format!("acs:slb:{region}:{account}:{type_name}/{id}"))
                .collect()
        }
        Kind::ListenerTlsPolicy => params
            .non_empty(reference.parameter)
            .filter(|policy| policy.starts_with("tls-"))
            .map(|id| format!("acs:slb:{region}:{account}:{}/{id}", kind.arn_type()))
            .into_iter()
            .collect(),
        Kind::ServerCertificate | Kind::CaCertificate | Kind::Acl | Kind::TlsCipherPolicy => params
            .ids(reference.parameter)?
            .into_iter()
            .map(|id| format!("acs:slb:{region}:{account}:{}/{id}", kind.arn_type()))
            .collect(),
        Kind::RoleArn => match params.non_empty(reference.parameter) {
            Some(arn) => vec![canonical_role_arn(subject, arn)],
            None => Vec::new(),
        },
        _ => params
            .non_empty(reference.parameter)
            .map(|name| {
                let name = match kind {
                    Kind::RamRole => subject.ram.role(name).map_or(name, |role| &role.name),
                    _ => name,
                };
                format!("acs:{service}:*:{account}:{}/{name}", kind.arn_type())
            })
            .into_iter()
            .collect(),
    })
}

/// A role's ARN with the role's name as stored, when it is the caller's account's role: STS
/// finds roles ignoring case, so a policy on `role/Deploy` must also judge `role/deploy`.
fn canonical_role_arn(subject: &Subject<'_>, arn: &str) -> String {
    let own = format!("acs:ram::{}:role/", subject.account_id);
    let Some(name) = arn
        .get(..own.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(&own))
        .map(|_| &arn[own.len()..])
    else {
        return arn.to_owned();
    };
    match subject.ram.role(name) {
        Some(role) => super::role_arn(subject.account_id, &role.name),
        None => arn.to_owned(),
    }
}
