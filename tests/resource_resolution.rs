//! Every action of the action table, and the resources its authorization judges: the table
//! below must name each action (so no action can be added without saying what it acts on),
//! and resolving its sample request must give exactly the (action, ARN) pairs listed.

mod common;

use std::collections::BTreeSet;

use serde_json::json;
use slbcert::access::ram_state::RamState;
use slbcert::access::resources::{Subject, resolve};
use slbcert::api::params::RpcParams;
use slbcert::audit::AuditRecord;
use slbcert::dispatch::ACTIONS;
use slbcert::store::load_balancers::{AddressPool, LoadBalancer};
use slbcert::store::prelude::*;
use slbcert::store::{Certificate, CertificateKind, CertificateMaterial, Scope, Store};

const ACCOUNT: &str = "1234567890123456";

/// A load balancer in cn-shanghai with a VServer group and a domain extension.
fn prod() -> LoadBalancer {
    serde_json::from_value(json!({
        "id": "lb-prod", "account_id": ACCOUNT, "region_id": "cn-shanghai",
        "address": "10.0.0.1", "status": "active", "delete_protection": false,
        "created_ms": 1, "client_token": null, "revision": 0, "resource_group_id": "rg-1",
        "attributes": {}, "tags": [], "backend_servers": [],
        "listeners": [{
            "port": 443, "protocol": "https", "status": "stopped",
            "server_certificate_id": null, "ca_certificate_id": null, "settings": {},
            "domain_extensions": [{"id": "de-prod", "domain": "a.example", "server_certificate_id": "c"}],
            "tags": []
        }],
        "vserver_groups": [{"id": "rsp-prod", "name": "g", "created_ms": 1, "servers": [], "tags": []}],
    }))
    .unwrap()
}

/// Server certificate `id` in cn-shanghai, which prod's domain extension names.
async fn insert_certificate(store: &impl Store, id: &str) {
    let certificate = Certificate {
        id: id.into(),
        kind: CertificateKind::Server,
        scope: Scope {
            account_id: ACCOUNT.into(),
            region_id: "cn-shanghai".into(),
        },
        name: id.into(),
        resource_group_id: "rg-1".into(),
        fingerprint: "aa".into(),
        common_name: "a.example".into(),
        subject_alternative_names: vec![],
        encryption_algorithm: "RSA".into(),
        encryption_key_length: 2048,
        expire_ms: 4_000_000_000_000,
        created_ms: 1,
        ali_cloud: None,
        tags: vec![],
    };
    let material = CertificateMaterial {
        certificate_pem: String::new(),
        private_key: None,
    };
    let line = AuditRecord::new("r", "UploadServerCertificate", "test").success(id, None);
    store
        .insert_certificate(certificate, material, None, line)
        .await
        .unwrap();
}

fn ram() -> RamState {
    RamState::from_document(Some(
        r#"{"roles":[{"id":"r1","name":"Deploy-Admin","description":"","trust_policy":"{}",
            "max_session_duration":3600,"created_ms":1,"updated_ms":1,"policies":[]}]}"#,
    ))
    .unwrap()
}

const SH: &str = "acs:slb:cn-shanghai:1234567890123456";
const HZ: &str = "acs:slb:cn-hangzhou:1234567890123456";
const BJ: &str = "acs:slb:cn-beijing:1234567890123456";
const RAM: &str = "acs:ram:*:1234567890123456";
const CAS: &str = "acs:yundun-cert:*:1234567890123456";

/// (action, query, resources): each resource judged under the action itself unless it starts
/// with `service:Action@`.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let s = |text: &str| text.to_owned();
    let lb = |region: &str, id: &str| format!("{region}:loadbalancer/{id}");
    let prod_lb = lb(SH, "lb-prod");
    vec![
        ("UploadServerCertificate", "RegionId=cn-beijing", vec![format!("{BJ}:certificate/*")]),
        ("UploadServerCertificate", "RegionId=cn-beijing&AliCloudCertificateId=7",
            vec![format!("{BJ}:certificate/*"), format!("yundun-cert:GetUserCertificateDetail@{CAS}:certificate/7")]),
        ("DescribeServerCertificates", "RegionId=cn-beijing&ServerCertificateId=a,b",
            vec![format!("{BJ}:certificate/a"), format!("{BJ}:certificate/b")]),
        ("DeleteServerCertificate", "RegionId=cn-beijing&ServerCertificateId=a", vec![format!("{BJ}:certificate/a")]),
        ("SetServerCertificateName", "ServerCertificateId=a", vec![format!("{HZ}:certificate/a")]),
        ("UploadCACertificate", "RegionId=cn-beijing", vec![format!("{BJ}:cacertificate/*")]),
        ("DescribeCACertificates", "RegionId=cn-beijing&CACertificateId=a", vec![format!("{BJ}:cacertificate/a")]),
        ("DeleteCACertificate", "RegionId=cn-beijing&CACertificateId=a", vec![format!("{BJ}:cacertificate/a")]),
        ("SetCACertificateName", "RegionId=cn-beijing&CACertificateId=a", vec![format!("{BJ}:cacertificate/a")]),
        ("TagResources", "RegionId=cn-beijing&ResourceType=instance&ResourceId.1=lb-a&ResourceId.3=lb-b",
            vec![lb(BJ, "lb-a"), lb(BJ, "lb-b")]),
        ("UntagResources", "RegionId=cn-beijing&ResourceType=certificate&ResourceId.2=c",
            vec![format!("{BJ}:certificate/c")]),
        ("ListTagResources", "RegionId=cn-beijing&ResourceType=instance", vec![format!("{BJ}:*")]),
        ("MoveResourceGroup", "RegionId=cn-beijing&ResourceType=acl&ResourceId=acl-a&NewResourceGroupId=rg-b",
            vec![format!("{BJ}:acl/acl-a")]),
        ("CreateTLSCipherPolicy", "RegionId=cn-beijing&Name=p", vec![format!("{BJ}:tlscipherpolicy/*")]),
        ("SetTLSCipherPolicyAttribute", "RegionId=cn-beijing&TLSCipherPolicyId=tls-a",
            vec![format!("{BJ}:tlscipherpolicy/tls-a")]),
        ("DeleteTLSCipherPolicy", "RegionId=cn-beijing&TLSCipherPolicyId=tls-a",
            vec![format!("{BJ}:tlscipherpolicy/tls-a")]),
        ("ListTLSCipherPolicies", "RegionId=cn-beijing", vec![format!("{BJ}:tlscipherpolicy/*")]),
        ("SetAccessLogsDownloadAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DeleteAccessLogsDownloadAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeAccessLogsDownloadAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("EnableHighDefinationMonitor", "RegionId=cn-beijing", vec![format!("{BJ}:*")]),
        ("ModifyHighDefinationMonitor", "RegionId=cn-beijing", vec![format!("{BJ}:*")]),
        ("DescribeHighDefinationMonitor", "", vec![format!("{HZ}:*")]),
        ("AddTags", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("RemoveTags", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeTags", "RegionId=cn-beijing", vec![lb(BJ, "*")]),
        ("DescribeRegions", "", vec![format!("{HZ}:*")]),
        ("DescribeZones", "RegionId=cn-beijing", vec![format!("{BJ}:*")]),
        ("DescribeAvailableResource", "", vec![format!("{HZ}:*")]),
        ("CreateAccessControlList", "RegionId=cn-beijing&AclName=a", vec![format!("{BJ}:acl/*")]),
        ("DescribeAccessControlLists", "RegionId=cn-beijing", vec![format!("{BJ}:acl/*")]),
        ("DeleteAccessControlList", "RegionId=cn-beijing&AclId=acl-a", vec![format!("{BJ}:acl/acl-a")]),
        ("SetAccessControlListAttribute", "AclId=acl-a", vec![format!("{HZ}:acl/acl-a")]),
        ("DescribeAccessControlListAttribute", "RegionId=cn-beijing&AclId=acl-a",
            vec![format!("{BJ}:acl/acl-a")]),
        ("AddAccessControlListEntry", "RegionId=cn-beijing&AclId=acl-a", vec![format!("{BJ}:acl/acl-a")]),
        ("RemoveAccessControlListEntry", "RegionId=cn-beijing&AclId=acl-a",
            vec![format!("{BJ}:acl/acl-a")]),
        ("CreateLoadBalancer", "RegionId=cn-beijing", vec![lb(BJ, "*")]),
        ("DescribeLoadBalancers", "LoadBalancerId=lb-prod,lb-x", vec![prod_lb.clone(), lb(HZ, "lb-x")]),
        // Region-less: judged in the load balancer's own region.
        ("DescribeLoadBalancerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DeleteLoadBalancer", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerName", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerStatus", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerDeleteProtection", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        // A missing one in the region the handler would look in.
        ("ModifyLoadBalancerInstanceSpec", "LoadBalancerId=lb-gone", vec![lb(HZ, "lb-gone")]),
        ("ModifyLoadBalancerInternetSpec", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("ModifyLoadBalancerPayType", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("ModifyLoadBalancerInstanceChargeType", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerModificationProtection", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("CreateLoadBalancerHTTPSListener",
            "LoadBalancerId=lb-prod&ServerCertificateId=c1&CACertificateId=ca1&VServerGroupId=rsp-prod",
            vec![prod_lb.clone(), format!("{SH}:certificate/c1"), format!("{SH}:cacertificate/ca1"),
                 format!("{SH}:vservergroup/rsp-prod")]),
        ("CreateLoadBalancerHTTPListener", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        // The access control lists a listener names, in the load balancer's region.
        ("CreateLoadBalancerTCPListener", "LoadBalancerId=lb-prod&VServerGroupId=rsp-prod&AclId=acl-a,acl-b",
            vec![prod_lb.clone(), format!("{SH}:vservergroup/rsp-prod"), format!("{SH}:acl/acl-a"),
                 format!("{SH}:acl/acl-b")]),
        ("CreateLoadBalancerUDPListener", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerHTTPSListenerAttribute",
            "LoadBalancerId=lb-prod&ServerCertificateId=c2&TLSCipherPolicy=tls-p",
            vec![prod_lb.clone(), format!("{SH}:certificate/c2"), format!("{SH}:tlscipherpolicy/tls-p")]),
        ("SetLoadBalancerHTTPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerTCPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetLoadBalancerUDPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeLoadBalancerHTTPSListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeLoadBalancerHTTPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeLoadBalancerTCPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeLoadBalancerUDPListenerAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        // The groups a RuleList sends traffic to are judged as well.
        ("CreateRules", r#"LoadBalancerId=lb-prod&RuleList=[{"RuleName":"a","Url":"/a","VServerGroupId":"rsp-prod"}]"#,
            vec![prod_lb.clone(), format!("{SH}:vservergroup/rsp-prod")]),
        ("DeleteRules", "RuleIds=['rule-gone']", vec![format!("{HZ}:rule/rule-gone")]),
        ("SetRule", "RuleId=rule-gone&VServerGroupId=rsp-prod",
            vec![format!("{HZ}:rule/rule-gone"), format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("DescribeRules", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeRuleAttribute", "RuleId=rule-gone", vec![format!("{HZ}:rule/rule-gone")]),
        ("CreateMasterSlaveServerGroup", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DeleteMasterSlaveServerGroup", "MasterSlaveServerGroupId=rsp-gone",
            vec![format!("{HZ}:masterslaveservergroup/rsp-gone")]),
        ("DescribeMasterSlaveServerGroups", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeMasterSlaveServerGroupAttribute", "MasterSlaveServerGroupId=rsp-gone",
            vec![format!("{HZ}:masterslaveservergroup/rsp-gone")]),
        ("SetListenerAccessControlStatus", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("AddListenerWhiteListItem", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("RemoveListenerWhiteListItem", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeListenerAccessControlAttribute", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("StartLoadBalancerListener", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("StopLoadBalancerListener", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DeleteLoadBalancerListener", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        // Every index, gaps and all.
        ("DescribeLoadBalancerListeners", "LoadBalancerId.1=lb-mine&LoadBalancerId.3=lb-prod",
            vec![lb(HZ, "lb-mine"), prod_lb.clone()]),
        ("CreateDomainExtension", "LoadBalancerId=lb-prod&ServerCertificateId=c1",
            vec![prod_lb.clone(), format!("{SH}:certificate/c1")]),
        ("DescribeDomainExtensions", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        // Children: as themselves and as their load balancer.
        ("DescribeDomainExtensionAttribute", "DomainExtensionId=de-prod",
            vec![format!("{SH}:domainextension/de-prod"), prod_lb.clone()]),
        ("SetDomainExtensionAttribute", "DomainExtensionId=de-prod&ServerCertificateId=c9",
            vec![format!("{SH}:domainextension/de-prod"), prod_lb.clone(), format!("{SH}:certificate/c9")]),
        ("DeleteDomainExtension", "DomainExtensionId=de-gone", vec![format!("{HZ}:domainextension/de-gone")]),
        ("AddBackendServers", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("RemoveBackendServers", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("SetBackendServers", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeHealthStatus", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("CreateVServerGroup", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeVServerGroups", "LoadBalancerId=lb-prod", vec![prod_lb.clone()]),
        ("DescribeVServerGroupAttribute", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("SetVServerGroupAttribute", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("DeleteVServerGroup", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("AddVServerGroupBackendServers", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("RemoveVServerGroupBackendServers", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("ModifyVServerGroupBackendServers", "VServerGroupId=rsp-prod",
            vec![format!("{SH}:vservergroup/rsp-prod"), prod_lb.clone()]),
        ("UploadUserCertificate", "", vec![format!("{CAS}:certificate/*")]),
        ("GetUserCertificateDetail", "CertId=7", vec![format!("{CAS}:certificate/7")]),
        ("ListUserCertificateOrder", "", vec![format!("{CAS}:certificate/*")]),
        ("DeleteUserCertificate", "CertId=7", vec![format!("{CAS}:certificate/7")]),
        ("CreateCertificateRequest", "", vec![format!("{CAS}:order/*")]),
        ("CreateCertificateWithCsrRequest", "", vec![format!("{CAS}:order/*")]),
        ("DescribeCertificateState", "OrderId=9", vec![format!("{CAS}:order/9")]),
        ("DeleteCertificateRequest", "OrderId=9", vec![format!("{CAS}:order/9")]),
        ("RenewCertificateOrderForPackageRequest", "OrderId=9", vec![format!("{CAS}:order/9")]),
        ("CancelCertificateForPackageRequest", "OrderId=9", vec![format!("{CAS}:order/9")]),
        ("CreateUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("GetUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("ListUsers", "", vec![format!("{RAM}:user/*")]),
        ("UpdateUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("DeleteUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("CreateAccessKey", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("ListAccessKeys", "", vec![format!("{RAM}:user/*")]),
        ("UpdateAccessKey", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("DeleteAccessKey", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("CreatePolicy", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("GetPolicy", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("ListPolicies", "", vec![format!("{RAM}:policy/*")]),
        ("DeletePolicy", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("CreatePolicyVersion", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("GetPolicyVersion", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("ListPolicyVersions", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("DeletePolicyVersion", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("SetDefaultPolicyVersion", "PolicyName=p", vec![format!("{RAM}:policy/p")]),
        ("AttachPolicyToUser", "UserName=bob&PolicyName=p", vec![format!("{RAM}:user/bob")]),
        ("DetachPolicyFromUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("ListPoliciesForUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("AttachPolicyToGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("DetachPolicyFromGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("ListPoliciesForGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        // Role names as stored: RAM matches them ignoring case.
        ("AttachPolicyToRole", "RoleName=deploy-admin", vec![format!("{RAM}:role/Deploy-Admin")]),
        ("DetachPolicyFromRole", "RoleName=DEPLOY-ADMIN", vec![format!("{RAM}:role/Deploy-Admin")]),
        ("ListPoliciesForRole", "RoleName=other", vec![format!("{RAM}:role/other")]),
        ("CreateGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("GetGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("ListGroups", "", vec![format!("{RAM}:group/*")]),
        ("DeleteGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("AddUserToGroup", "GroupName=g&UserName=bob", vec![format!("{RAM}:group/g")]),
        ("RemoveUserFromGroup", "GroupName=g&UserName=bob", vec![format!("{RAM}:group/g")]),
        ("ListGroupsForUser", "UserName=bob", vec![format!("{RAM}:user/bob")]),
        ("ListUsersForGroup", "GroupName=g", vec![format!("{RAM}:group/g")]),
        ("CreateRole", "RoleName=new", vec![format!("{RAM}:role/new")]),
        ("GetRole", "RoleName=deploy-admin", vec![format!("{RAM}:role/Deploy-Admin")]),
        ("ListRoles", "", vec![format!("{RAM}:role/*")]),
        ("DeleteRole", "RoleName=Deploy-Admin", vec![format!("{RAM}:role/Deploy-Admin")]),
        ("AssumeRole", "RoleArn=acs:ram::1234567890123456:role/deploy-admin",
            vec![s("acs:ram::1234567890123456:role/Deploy-Admin")]),
        ("GetCallerIdentity", "", vec![s("acs:sts:*:1234567890123456:*")]),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_declares_what_it_acts_on_and_is_judged_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path());
    common::insert_account(&store, ACCOUNT).await;
    insert_certificate(&store, "c").await;
    store
        .insert_load_balancer(
            prod(),
            Some(100),
            AddressPool::from_cidr("10.0.0.0/24").unwrap(),
            AuditRecord::new("r", "CreateLoadBalancer", "test").success("lb-prod", None),
        )
        .await
        .unwrap();
    let ram = ram();
    let table = table();
    let named: BTreeSet<&str> = table.iter().map(|(action, ..)| *action).collect();
    let actions: BTreeSet<&str> = ACTIONS.iter().map(|spec| spec.name).collect();
    assert_eq!(named, actions, "the table names every action, and no other");
    for (name, query, expected) in table {
        let spec = ACTIONS.iter().find(|spec| spec.name == name).unwrap();
        let service = slbcert::products::product(spec.version).unwrap().service;
        let params = RpcParams::parse(query, b"", None).unwrap();
        let subject = Subject {
            store: &store as &dyn Store,
            params: &params,
            account_id: ACCOUNT,
            host: "slb.aliyuncs.com",
            ram: &ram,
        };
        let needs = resolve(&subject, service, name, spec.refs).await.unwrap();
        let own = format!("{service}:{name}");
        let got: BTreeSet<String> = needs
            .iter()
            .map(|need| match need.action == own {
                true => need.resource.clone(),
                false => format!("{}@{}", need.action, need.resource),
            })
            .collect();
        assert_eq!(got.len(), needs.len(), "{name}: each judged once");
        assert_eq!(got, expected.into_iter().collect(), "{name} {query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_in_odd_forms_and_unknown_regions_are_judged_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path());
    let ram = RamState::default();
    let resolve_query = |query: &'static str, action: &'static str| {
        let store = &store;
        let ram = &ram;
        async move {
            let spec = ACTIONS.iter().find(|spec| spec.name == action).unwrap();
            let params = RpcParams::parse(query, b"", None).unwrap();
            let subject = Subject {
                store: store as &dyn Store,
                params: &params,
                account_id: ACCOUNT,
                host: "",
                ram,
            };
            resolve(&subject, "slb", action, spec.refs)
                .await
                .map(|needs| needs.into_iter().map(|n| n.resource).collect::<Vec<_>>())
        }
    };
    let got = resolve_query(
        "LoadBalancerId=%5B%22lb-a%22%2C%22lb-b%22%5D",
        "DescribeLoadBalancerListeners",
    )
    .await
    .unwrap();
    assert_eq!(
        got,
        [
            format!("{HZ}:loadbalancer/lb-a"),
            format!("{HZ}:loadbalancer/lb-b")
        ]
    );
    let got = resolve_query(
        "RegionId=cn-beijing&ResourceType=instance&ResourceId.01=lb-a&ResourceId.7=lb-b",
        "UntagResources",
    )
    .await
    .unwrap();
    assert_eq!(
        got,
        [
            format!("{BJ}:loadbalancer/lb-a"),
            format!("{BJ}:loadbalancer/lb-b")
        ]
    );
    // Each ID costs a read before the handler could refuse the list: at most 100 are looked up.
    let many: &'static str = format!("LoadBalancerId={}", ["lb-x"; 101].join(",")).leak();
    for (query, code) in [
        (many, "InvalidParameter"),
        (
            "RegionId=cn-atlantis&LoadBalancerId=lb-a",
            "InvalidRegionId.NotFound",
        ),
        ("LoadBalancerId.1=a&LoadBalancerId.01=b", "InvalidParameter"),
        ("LoadBalancerId=%5Bnot-json", "InvalidParameter"),
    ] {
        let error = resolve_query(query, "DescribeLoadBalancerListeners")
            .await
            .unwrap_err();
        assert_eq!(error.code(), code, "{query}");
    }
}
