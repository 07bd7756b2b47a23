//! The action table, and the dispatcher that runs one request through it: parameters, the
//! action, its signature, the action itself, the audit record of a refusal, the rendering.
//!
//! Each action is one row ([`ActionSpec`]): its name, product version, whether it writes, the
//! parameters that name what it acts on and its handler. Dispatch, the list of mutations, the
//! resources its authorization judges and the audit target all come from that row.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::access::authorize;
use crate::access::resources::{Kind, Ref};
use crate::api::error::{AccessError, ApiError};
use crate::api::params::RpcParams;
use crate::api::response::{self, Format};
use crate::api::signature::{self, Authority, SignedRequest};
use crate::api::{self, PRODUCT_SLB};
use crate::audit::{AuditRecord, RefusalQueue};
use crate::http::{Request, Response};
use crate::products::{
    CAS_VERSION, Context, Fields, RAM_VERSION, SLB_VERSION, STS_VERSION, cas, product, ram, slb,
    sts,
};
use crate::state::AppState;
use crate::{clock, ids};

pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<Fields, ApiError>> + Send + 'a>>;
pub type Handler = for<'a> fn(&'a Context<'a>) -> ActionFuture<'a>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Changes state, and so is audited (refusals too).
    Write,
}

pub struct ActionSpec {
    pub name: &'static str,
    pub version: &'static str,
    pub access: Access,
    /// The parameters naming what it acts on: authorization judges each resource they name
    /// (see [`crate::access::resources`]); the first names the audit record's target.
    pub refs: &'static [Ref],
    pub handler: Handler,
}

impl std::fmt::Debug for ActionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.version)
    }
}

impl ActionSpec {
    pub fn is_mutating(&self) -> bool {
        self.access == Access::Write
    }

    /// What the audit record names as acted on: the first ID the first reference names.
    pub fn audit_target(&self, params: &RpcParams) -> String {
        self.refs
            .first()
            .and_then(|first| first.first_id(params))
            .unwrap_or_default()
            .to_owned()
    }
}

/// `row!(Name, VERSION, Read|Write, [REFS], path::to::handler)`.
macro_rules! row {
    ($name:ident, $version:expr, $access:ident, [$($refs:expr),*], $handler:path) => {
        ActionSpec {
            name: stringify!($name),
            version: $version,
            access: Access::$access,
            refs: &[$($refs),*],
            handler: |context| Box::pin($handler(context)),
        }
    };
}

use cas::user_certificates as user;
use ram::{access_keys, attachments, groups as ram_groups, policies, roles, users};
use slb::{
    acls, backends, ca_certificates as ca, domain_extensions as domains, legacy_tags, listeners,
    load_balancers as lbs, logging, master_slave_groups as msgs, regions, resource_groups, rules,
    server_certificates as server, tags, tls_policies, vserver_groups as groups, zones,
};

const SLB: &str = SLB_VERSION;
const CAS: &str = CAS_VERSION;
const RAM: &str = RAM_VERSION;
const STS: &str = STS_VERSION;
const LB: Ref = Ref::new("LoadBalancerId", Kind::LoadBalancer);
const DOMAIN: Ref = Ref::new("DomainExtensionId", Kind::DomainExtension);
const VSG: Ref = Ref::new("VServerGroupId", Kind::VServerGroup);
const CERT: Ref = Ref::new("ServerCertificateId", Kind::ServerCertificate);
const CA_CERT: Ref = Ref::new("CACertificateId", Kind::CaCertificate);
const ACL: Ref = Ref::new("AclId", Kind::Acl);
const TLS_POLICY: Ref = Ref::new("TLSCipherPolicyId", Kind::TlsCipherPolicy);
const LISTENER_TLS_POLICY: Ref = Ref::new("TLSCipherPolicy", Kind::ListenerTlsPolicy);
const RULE: Ref = Ref::new("RuleId", Kind::Rule);
const MSG: Ref = Ref::new("MasterSlaveServerGroupId", Kind::MasterSlaveGroup);
const RULES: Ref = Ref::new("RuleIds", Kind::Rule);
const VSG_IN_RULES: Ref = Ref::new("RuleList", Kind::RuleListGroups);
const TAGGED: Ref = Ref::new("ResourceId", Kind::Tagged);
/// MoveResourceGroup's one resource, of the type `ResourceType` says.
const MOVED: Ref = Ref::new("ResourceId", Kind::Moved);
/// An SSL Certificates Service certificate, in its own actions and in SLB's uploads from it.
const CAS_CERT: Ref = Ref::new("CertId", Kind::UserCertificate);
const FROM_CAS: Ref = Ref::new("AliCloudCertificateId", Kind::UserCertificate);
const USER: Ref = Ref::new("UserName", Kind::RamUser);
const GROUP: Ref = Ref::new("GroupName", Kind::RamGroup);
const POLICY: Ref = Ref::new("PolicyName", Kind::RamPolicy);
const ROLE: Ref = Ref::new("RoleName", Kind::RamRole);
const ROLE_ARN: Ref = Ref::new("RoleArn", Kind::RoleArn);

#[rustfmt::skip]
pub static ACTIONS: &[ActionSpec] = &[
    // SLB: certificates.
    row!(UploadServerCertificate, SLB, Write, [CERT, FROM_CAS], server::upload),
    row!(DescribeServerCertificates, SLB, Read, [CERT], server::describe),
    row!(DeleteServerCertificate, SLB, Write, [CERT], server::delete),
    row!(SetServerCertificateName, SLB, Write, [CERT], server::rename),
    row!(UploadCACertificate, SLB, Write, [CA_CERT], ca::upload),
    row!(DescribeCACertificates, SLB, Read, [CA_CERT], ca::describe),
    row!(DeleteCACertificate, SLB, Write, [CA_CERT], ca::delete),
    row!(SetCACertificateName, SLB, Write, [CA_CERT], ca::rename),
    // SLB: tags and regions.
    row!(TagResources, SLB, Write, [TAGGED], tags::tag),
    row!(UntagResources, SLB, Write, [TAGGED], tags::untag),
    row!(ListTagResources, SLB, Read, [TAGGED], tags::list),
    row!(MoveResourceGroup, SLB, Write, [MOVED], resource_groups::move_resource),
    row!(AddTags, SLB, Write, [LB], legacy_tags::add),
    row!(RemoveTags, SLB, Write, [LB], legacy_tags::remove),
    row!(DescribeTags, SLB, Read, [LB], legacy_tags::describe),
    row!(DescribeRegions, SLB, Read, [], regions::describe),
    row!(DescribeZones, SLB, Read, [], zones::describe),
    row!(DescribeAvailableResource, SLB, Read, [], zones::available),
    // SLB: load balancers.
    row!(CreateLoadBalancer, SLB, Write, [LB], lbs::create),
    row!(DescribeLoadBalancers, SLB, Read, [LB], lbs::describe),
    row!(DescribeLoadBalancerAttribute, SLB, Read, [LB], lbs::attribute),
    row!(DeleteLoadBalancer, SLB, Write, [LB], lbs::delete),
    row!(SetLoadBalancerName, SLB, Write, [LB], lbs::set_name),
    row!(SetLoadBalancerStatus, SLB, Write, [LB], lbs::set_status),
    row!(SetLoadBalancerDeleteProtection, SLB, Write, [LB], lbs::set_delete_protection),
    row!(ModifyLoadBalancerInstanceSpec, SLB, Write, [LB], lbs::modify_spec),
    row!(ModifyLoadBalancerInternetSpec, SLB, Write, [LB], lbs::internet_spec),
    row!(ModifyLoadBalancerPayType, SLB, Write, [LB], lbs::pay_type),
    row!(ModifyLoadBalancerInstanceChargeType, SLB, Write, [LB], lbs::instance_charge_type),
    row!(SetLoadBalancerModificationProtection, SLB, Write, [LB], lbs::modification_protection),
    // SLB: listeners.
    row!(CreateLoadBalancerHTTPSListener, SLB, Write, [LB, CERT, CA_CERT, VSG, ACL, LISTENER_TLS_POLICY], listeners::create_https),
    row!(CreateLoadBalancerHTTPListener, SLB, Write, [LB, VSG, ACL], listeners::create_http),
    row!(CreateLoadBalancerTCPListener, SLB, Write, [LB, VSG, ACL, MSG], listeners::create_tcp),
    row!(CreateLoadBalancerUDPListener, SLB, Write, [LB, VSG, ACL, MSG], listeners::create_udp),
    row!(SetLoadBalancerHTTPSListenerAttribute, SLB, Write, [LB, CERT, CA_CERT, VSG, ACL, LISTENER_TLS_POLICY], listeners::set_https),
    row!(SetLoadBalancerHTTPListenerAttribute, SLB, Write, [LB, VSG, ACL], listeners::set_http),
    row!(SetLoadBalancerTCPListenerAttribute, SLB, Write, [LB, VSG, ACL, MSG], listeners::set_tcp),
    row!(SetLoadBalancerUDPListenerAttribute, SLB, Write, [LB, VSG, ACL, MSG], listeners::set_udp),
    row!(DescribeLoadBalancerHTTPSListenerAttribute, SLB, Read, [LB], listeners::describe_https),
    row!(DescribeLoadBalancerHTTPListenerAttribute, SLB, Read, [LB], listeners::describe_http),
    row!(DescribeLoadBalancerTCPListenerAttribute, SLB, Read, [LB], listeners::describe_tcp),
    row!(DescribeLoadBalancerUDPListenerAttribute, SLB, Read, [LB], listeners::describe_udp),
    // SLB: access control lists.
    row!(CreateAccessControlList, SLB, Write, [ACL], acls::create),
    row!(DeleteAccessControlList, SLB, Write, [ACL], acls::delete),
    row!(SetAccessControlListAttribute, SLB, Write, [ACL], acls::set),
    row!(DescribeAccessControlLists, SLB, Read, [ACL], acls::describe),
    row!(DescribeAccessControlListAttribute, SLB, Read, [ACL], acls::attribute),
    row!(AddAccessControlListEntry, SLB, Write, [ACL], acls::add_entries),
    row!(RemoveAccessControlListEntry, SLB, Write, [ACL], acls::remove_entries),
    // SLB: primary/secondary server groups.
    row!(CreateMasterSlaveServerGroup, SLB, Write, [LB], msgs::create),
    row!(DeleteMasterSlaveServerGroup, SLB, Write, [MSG], msgs::delete),
    row!(DescribeMasterSlaveServerGroups, SLB, Read, [LB], msgs::describe),
    row!(DescribeMasterSlaveServerGroupAttribute, SLB, Read, [MSG], msgs::attribute),
    // SLB: where logs would go.
    row!(SetAccessLogsDownloadAttribute, SLB, Write, [LB], logging::set_access_logs),
    row!(DeleteAccessLogsDownloadAttribute, SLB, Write, [LB], logging::delete_access_logs),
    row!(DescribeAccessLogsDownloadAttribute, SLB, Read, [LB], logging::describe_access_logs),
    row!(EnableHighDefinationMonitor, SLB, Write, [], logging::enable_monitor),
    row!(ModifyHighDefinationMonitor, SLB, Write, [], logging::modify_monitor),
    row!(DescribeHighDefinationMonitor, SLB, Read, [], logging::describe_monitor),
    // SLB: custom TLS cipher policies.
    row!(CreateTLSCipherPolicy, SLB, Write, [TLS_POLICY], tls_policies::create),
    row!(SetTLSCipherPolicyAttribute, SLB, Write, [TLS_POLICY], tls_policies::set),
    row!(DeleteTLSCipherPolicy, SLB, Write, [TLS_POLICY], tls_policies::delete),
    row!(ListTLSCipherPolicies, SLB, Read, [TLS_POLICY], tls_policies::list),
    // SLB: forwarding rules.
    row!(CreateRules, SLB, Write, [LB, VSG_IN_RULES], rules::create),
    row!(DeleteRules, SLB, Write, [RULES], rules::delete),
    row!(SetRule, SLB, Write, [RULE, VSG], rules::set),
    row!(DescribeRules, SLB, Read, [LB], rules::describe),
    row!(DescribeRuleAttribute, SLB, Read, [RULE], rules::attribute),
    // SLB: the legacy listener whitelist.
    row!(SetListenerAccessControlStatus, SLB, Write, [LB], listeners::whitelist::set_status),
    row!(AddListenerWhiteListItem, SLB, Write, [LB], listeners::whitelist::add_items),
    row!(RemoveListenerWhiteListItem, SLB, Write, [LB], listeners::whitelist::remove_items),
    row!(DescribeListenerAccessControlAttribute, SLB, Read, [LB], listeners::whitelist::describe),
    row!(StartLoadBalancerListener, SLB, Write, [LB], listeners::start),
    row!(StopLoadBalancerListener, SLB, Write, [LB], listeners::stop),
    row!(DeleteLoadBalancerListener, SLB, Write, [LB], listeners::delete),
    row!(DescribeLoadBalancerListeners, SLB, Read, [LB], listeners::list),
    // SLB: domain extensions.
    row!(CreateDomainExtension, SLB, Write, [LB, CERT], domains::create),
    row!(DescribeDomainExtensions, SLB, Read, [LB, DOMAIN], domains::describe),
    row!(DescribeDomainExtensionAttribute, SLB, Read, [DOMAIN], domains::attribute),
    row!(SetDomainExtensionAttribute, SLB, Write, [DOMAIN, CERT], domains::set),
    row!(DeleteDomainExtension, SLB, Write, [DOMAIN], domains::delete),
    // SLB: backend servers and VServer groups.
    row!(AddBackendServers, SLB, Write, [LB], backends::add),
    row!(RemoveBackendServers, SLB, Write, [LB], backends::remove),
    row!(SetBackendServers, SLB, Write, [LB], backends::set),
    row!(DescribeHealthStatus, SLB, Read, [LB], backends::health),
    row!(CreateVServerGroup, SLB, Write, [LB], groups::create),
    row!(DescribeVServerGroups, SLB, Read, [LB], groups::describe),
    row!(DescribeVServerGroupAttribute, SLB, Read, [VSG], groups::attribute),
    row!(SetVServerGroupAttribute, SLB, Write, [VSG], groups::set),
    row!(DeleteVServerGroup, SLB, Write, [VSG], groups::delete),
    row!(AddVServerGroupBackendServers, SLB, Write, [VSG], groups::add_servers),
    row!(RemoveVServerGroupBackendServers, SLB, Write, [VSG], groups::remove_servers),
    row!(ModifyVServerGroupBackendServers, SLB, Write, [VSG], groups::modify_servers),
    // SSL Certificates Service.
    row!(UploadUserCertificate, CAS, Write, [CAS_CERT], user::upload),
    row!(GetUserCertificateDetail, CAS, Read, [CAS_CERT], user::detail),
    row!(ListUserCertificateOrder, CAS, Read, [CAS_CERT], user::list),
    row!(DeleteUserCertificate, CAS, Write, [CAS_CERT], user::delete),
    // RAM: users and their AccessKeys.
    row!(CreateUser, RAM, Write, [USER], users::create),
    row!(GetUser, RAM, Read, [USER], users::get),
    row!(ListUsers, RAM, Read, [USER], users::list),
    row!(UpdateUser, RAM, Write, [USER], users::update),
    row!(DeleteUser, RAM, Write, [USER], users::delete),
    row!(CreateAccessKey, RAM, Write, [USER], access_keys::create),
    row!(ListAccessKeys, RAM, Read, [USER], access_keys::list),
    row!(UpdateAccessKey, RAM, Write, [USER], access_keys::update),
    row!(DeleteAccessKey, RAM, Write, [USER], access_keys::delete),
    // RAM: policies and their versions.
    row!(CreatePolicy, RAM, Write, [POLICY], policies::create),
    row!(GetPolicy, RAM, Read, [POLICY], policies::get),
    row!(ListPolicies, RAM, Read, [POLICY], policies::list),
    row!(DeletePolicy, RAM, Write, [POLICY], policies::delete),
    row!(CreatePolicyVersion, RAM, Write, [POLICY], policies::create_version),
    row!(GetPolicyVersion, RAM, Read, [POLICY], policies::get_version),
    row!(ListPolicyVersions, RAM, Read, [POLICY], policies::list_versions),
    row!(DeletePolicyVersion, RAM, Write, [POLICY], policies::delete_version),
    row!(SetDefaultPolicyVersion, RAM, Write, [POLICY], policies::set_default_version),
    // RAM: who has which policy.
    row!(AttachPolicyToUser, RAM, Write, [USER], attachments::attach_to_user),
    row!(DetachPolicyFromUser, RAM, Write, [USER], attachments::detach_from_user),
    row!(ListPoliciesForUser, RAM, Read, [USER], attachments::list_for_user),
    row!(AttachPolicyToGroup, RAM, Write, [GROUP], attachments::attach_to_group),
    row!(DetachPolicyFromGroup, RAM, Write, [GROUP], attachments::detach_from_group),
    row!(ListPoliciesForGroup, RAM, Read, [GROUP], attachments::list_for_group),
    row!(AttachPolicyToRole, RAM, Write, [ROLE], attachments::attach_to_role),
    row!(DetachPolicyFromRole, RAM, Write, [ROLE], attachments::detach_from_role),
    row!(ListPoliciesForRole, RAM, Read, [ROLE], attachments::list_for_role),
    // RAM: groups.
    row!(CreateGroup, RAM, Write, [GROUP], ram_groups::create),
    row!(GetGroup, RAM, Read, [GROUP], ram_groups::get),
    row!(ListGroups, RAM, Read, [GROUP], ram_groups::list),
    row!(DeleteGroup, RAM, Write, [GROUP], ram_groups::delete),
    row!(AddUserToGroup, RAM, Write, [GROUP], ram_groups::add_user),
    row!(RemoveUserFromGroup, RAM, Write, [GROUP], ram_groups::remove_user),
    row!(ListGroupsForUser, RAM, Read, [USER], ram_groups::list_for_user),
    row!(ListUsersForGroup, RAM, Read, [GROUP], ram_groups::list_users),
    // RAM: roles.
    row!(CreateRole, RAM, Write, [ROLE], roles::create),
    row!(GetRole, RAM, Read, [ROLE], roles::get),
    row!(ListRoles, RAM, Read, [ROLE], roles::list),
    row!(DeleteRole, RAM, Write, [ROLE], roles::delete),
    // STS.
    row!(AssumeRole, STS, Write, [ROLE_ARN], sts::assume_role),
    row!(GetCallerIdentity, STS, Read, [], sts::caller_identity),
];

pub type Action = &'static ActionSpec;

/// The action named `name` in product version `version`.
pub fn resolve(version: &str, name: &str) -> Result<Action, ApiError> {
    if product(version).is_none() {
        return Err(ApiError::InvalidVersion(version.to_owned()));
    }
    ACTIONS
        .iter()
        .find(|spec| spec.version == version && spec.name == name)
        .ok_or_else(|| ApiError::InvalidAction(name.to_owned()))
}

/// What one request turned out to be, as far as it got.
struct Outcome {
    format: Format,
    /// Names the product in error envelopes.
    product: &'static str,
    action: Option<Action>,
    /// Known once the action resolved; names the caller once authenticated.
    audit: Option<AuditRecord>,
    result: Result<Map<String, Value>, ApiError>,
}

/// Answers one RPC request on `/`.
pub async fn handle(state: Arc<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = ids::request_id();
    let outcome = process(&state, &request, &request_id).await;
    // Refused mutations are audited, and so is every call refused for who made it.
    if let (Some(action), Some(audit), Err(error)) =
        (outcome.action, &outcome.audit, &outcome.result)
        && (action.is_mutating()
            || matches!(
                error,
                ApiError::Access(AccessError::Forbidden | AccessError::Throttled { .. })
            ))
    {
        audit_refusal(&state.refusals, audit, error, request.peer.ip());
    }
    let retry_after = match &outcome.result {
        Err(ApiError::Access(error)) => error.retry_after_ms(),
        _ => None,
    };
    let code = outcome.result.as_ref().err().map(ApiError::code);
    let name = outcome.action.map_or("", |action| action.name);
    let mut response = match outcome.result {
        Ok(fields) => response::success(
            outcome.format,
            &format!("{name}Response"),
            &request_id,
            fields,
        ),
        Err(error) => response::error(
            outcome.format,
            &error,
            &request_id,
            api::host_id(&request.headers),
            outcome.product,
        ),
    };
    if let Some(ms) = retry_after {
        response.headers.push((
            http::HeaderName::from_static("x-acs-retry-after"),
            http::HeaderValue::from(ms),
        ));
    }
    state
        .metrics
        .observe(outcome.product, name, code.as_deref(), started.elapsed());
    // Never the query or body: they carry private keys.
    tracing::info!(
        request_id,
        peer = %request.peer,
        action = if name.is_empty() { "-" } else { name },
        status = response.status.as_u16(),
        code = code.unwrap_or_default(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Records a refused mutation (a successful one is recorded by the store, in the transaction
/// of its change), within the budget of its source address: queued for the writer's next
/// batch, with no sync of its own. Storage faults are not recorded: nothing was refused.
fn audit_refusal(
    refusals: &RefusalQueue,
    audit: &AuditRecord,
    error: &ApiError,
    source: std::net::IpAddr,
) {
    if !error.is_unavailable() {
        refusals.admit(audit.failure(&audit.resource_id, &error.code()), source);
    }
}

async fn process(state: &AppState, request: &Request, request_id: &str) -> Outcome {
    let mut outcome = Outcome {
        format: Format::Json,
        product: PRODUCT_SLB,
        action: None,
        audit: None,
        result: Ok(Map::new()),
    };
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let params = match RpcParams::parse(&request.query, &request.body, content_type) {
        Ok(params) => params,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    };
    // Known before the action resolves, so that even its refusal names the right product.
    if let Ok(Some(version)) = api::pick(&request.headers, "x-acs-version", &params, "Version") {
        outcome.product = product(version).map_or(PRODUCT_SLB, |product| product.envelope);
    }
    match Format::from_param(params.get("Format")) {
        Ok(format) => outcome.format = format,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    }
    let action = match api::action_and_version(&request.headers, &params)
        .and_then(|(name, version)| resolve(version, name))
    {
        Ok(action) => action,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    };
    let mut audit = AuditRecord::new(request_id, action.name, &request.peer.to_string());
    audit.access_key_id = api::claimed_access_key(&request.headers, &params);
    audit.resource_id = action.audit_target(&params);
    outcome.action = Some(action);
    outcome.result = authenticated_run(state, request, &params, action, &mut audit).await;
    outcome.audit = Some(audit);
    outcome
}

async fn authenticated_run(
    state: &AppState,
    request: &Request,
    params: &RpcParams,
    action: Action,
    audit: &mut AuditRecord,
) -> Result<Map<String, Value>, ApiError> {
    let now = clock::now();
    let signed = SignedRequest {
        method: &request.method,
        headers: &request.headers,
        params,
        body: &request.body,
    };
    let authority = Authority {
        store: state.store.as_ref(),
        vault: &state.vault,
        verifier: &state.verifier,
        directory: &state.directory,
    };
    let caller = signature::authenticate(&signed, &authority, now).await?;
    audit.account_id = caller.account_id.clone();
    audit.principal = caller.principal.label();
    authorize::check_owner(params, &caller)?;
    state
        .throttle
        .admit(&caller.access_key_id, &caller.account_id)
        .map_err(|retry_after_ms| AccessError::Throttled { retry_after_ms })?;
    let facts = crate::access::Facts {
        source_ip: request.peer.ip(),
        current_time: now,
        secure_transport: state.secure_transport,
    };
    let operation = authorize::Operation {
        // Every action's version is a product's (the table test checks it).
        service: product(action.version).map_or("slb", |product| product.service),
        action: action.name,
        refs: action.refs,
    };
    let ram = state
        .directory
        .for_caller(state.store.as_ref(), &caller)
        .await?;
    let lookup = authorize::Lookup {
        store: state.store.as_ref(),
        params,
        host: api::host_id(&request.headers),
    };
    authorize::authorize(ram.as_deref(), &operation, &lookup, &caller, &facts).await?;
    let context = Context {
        store: state.store.as_ref(),
        vault: &state.vault,
        verifier: &state.verifier,
        directory: &state.directory,
        facts: &facts,
        caller: &caller,
        params,
        limits: &state.limits,
        host: api::host_id(&request.headers),
        audit,
        edit_locks: &state.edit_locks,
        health: state.health.as_deref(),
        now,
    };
    (action.handler)(&context).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_actions_by_product_version() {
        assert_eq!(
            resolve(SLB, "UploadServerCertificate").unwrap().name,
            "UploadServerCertificate"
        );
        assert_eq!(resolve(CAS, "UploadUserCertificate").unwrap().version, CAS);
        // Each product has its own actions.
        let cases = [
            (CAS, "UploadServerCertificate", "InvalidAction.NotFound"),
            (
                SLB,
                "CreateLoadBalancerFTPListener",
                "InvalidAction.NotFound",
            ),
            ("2016-01-01", "UploadServerCertificate", "InvalidVersion"),
        ];
        for (version, name, code) in cases {
            assert_eq!(resolve(version, name).unwrap_err().code(), code, "{name}");
        }
    }

    #[test]
    fn rows_are_unique_and_reads_are_named_as_reads() {
        let mut seen = std::collections::HashSet::new();
        for spec in ACTIONS {
            assert!(seen.insert((spec.version, spec.name)), "{spec:?} twice");
            let reads = ["Describe", "List", "Get"]
                .iter()
                .any(|p| spec.name.starts_with(p));
            assert_eq!(spec.access == Access::Read, reads, "{spec:?}");
            assert!(product(spec.version).is_some(), "{spec:?}");
        }
    }
}
