//! The action table: one row per action ([`ActionSpec`]) with its name, product version,
//! whether it writes, the parameters that name what it acts on, and its handler.

use super::{Access, ActionSpec};
use crate::access::resources::{Kind, Ref};
use crate::products::{CAS_VERSION, RAM_VERSION, SLB_VERSION, STS_VERSION, cas, ram, slb, sts};

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

use cas::certificate_requests as requests;
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
const ORDER: Ref = Ref::new("OrderId", Kind::CertificateOrder);
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
    row!(ListUserCertificateOrder, CAS, Read, [CAS_CERT], cas::listing::list),
    row!(DeleteUserCertificate, CAS, Write, [CAS_CERT], user::delete),
    row!(CreateCertificateRequest, CAS, Write, [ORDER], requests::create),
    row!(CreateCertificateWithCsrRequest, CAS, Write, [ORDER], requests::create_with_csr),
    row!(DescribeCertificateState, CAS, Read, [ORDER], requests::describe),
    row!(DeleteCertificateRequest, CAS, Write, [ORDER], requests::delete),
    row!(RenewCertificateOrderForPackageRequest, CAS, Write, [ORDER], requests::renew),
    row!(CancelCertificateForPackageRequest, CAS, Write, [ORDER], requests::cancel),
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
