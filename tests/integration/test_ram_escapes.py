"""The ways around a RAM policy that attackers tried (issue 25), each closed: a user is judged
on what the handler will act on — every ID of every list form, a child resource as its load
balancer too, a region-less call in the resource's real region, another product's resource
under that product's permission."""

import json

import pytest

import certs
from conftest import expect_failure
from ram import V3, allow, credentials, deny, make_user, policy
from rawclient import RawClient


def slb_as(server, creds):
    return V3("slb", server, creds)


def raw_as(server, creds):
    return RawClient(server.port, creds["AccessKeyId"], creds["AccessKeySecret"])


def user_with(ram, name, document):
    """A user whose only policy is `document`; its credentials."""
    ram("CreatePolicy", PolicyName=f"{name}-policy", PolicyDocument=document)
    ram("CreateUser", UserName=name)
    ram("AttachPolicyToUser", PolicyType="Custom", PolicyName=f"{name}-policy", UserName=name)
    key = ram("CreateAccessKey", UserName=name)["AccessKey"]
    return credentials(key["AccessKeyId"], key["AccessKeySecret"])


def upload(slb, cn):
    key = certs.rsa_key()
    cert = certs.make_cert(key, cn=cn, sans=(cn,))
    return slb("UploadServerCertificate", ServerCertificate=certs.cert_pem(cert),
               PrivateKey=certs.key_pem(key))["ServerCertificateId"]


def forbidden(response):
    assert response.status == 403, response.text
    assert response.json()["Code"] == "Forbidden.RAM", response.text


@pytest.fixture
def estate(server, account):
    """Two load balancers of one account, prod and mine, and the root's clients."""
    root = slb_as(server, account)
    ram = V3("ram", server, account)
    prod = root("CreateLoadBalancer", LoadBalancerName="prod")["LoadBalancerId"]
    mine = root("CreateLoadBalancer", LoadBalancerName="mine")["LoadBalancerId"]
    return root, ram, prod, mine


def test_a_child_of_a_denied_load_balancer_is_denied_too(server, estate):
    root, ram, prod, _ = estate
    group = root("CreateVServerGroup", LoadBalancerId=prod, VServerGroupName="prod-web",
                 BackendServers=json.dumps([{"ServerId": "i-a", "Port": 80,
                                             "ServerIp": "127.0.0.7"}]))["VServerGroupId"]
    good, other = upload(root, "prod.example.com"), upload(root, "evil.example.com")
    root("CreateLoadBalancerHTTPSListener", LoadBalancerId=prod, ListenerPort=443,
         BackendServerPort=80, Bandwidth=-1, HealthCheck="off", ServerCertificateId=good)
    extension = root("CreateDomainExtension", LoadBalancerId=prod, ListenerPort=443,
                     Domain="shop.example.com", ServerCertificateId=good)["DomainExtensionId"]
    user = user_with(ram, "dev", policy(
        allow("slb:*"), deny("slb:*", f"acs:slb:*:*:loadbalancer/{prod}")))
    slb = slb_as(server, user)
    expect_failure(lambda: slb("AddVServerGroupBackendServers", VServerGroupId=group,
                               BackendServers=json.dumps([{"ServerId": "i-evil", "Port": 80,
                                                           "ServerIp": "127.0.0.9"}])),
                   "Forbidden.RAM", 403)
    expect_failure(lambda: slb("SetDomainExtensionAttribute", DomainExtensionId=extension,
                               ServerCertificateId=other), "Forbidden.RAM", 403)
    expect_failure(lambda: slb("DescribeVServerGroupAttribute", VServerGroupId=group),
                   "Forbidden.RAM", 403)
    servers = root("DescribeVServerGroupAttribute", VServerGroupId=group)["BackendServers"]
    assert [s["ServerId"] for s in servers["BackendServer"]] == ["i-a"]
    assert root("DescribeDomainExtensionAttribute",
                DomainExtensionId=extension)["ServerCertificateId"] == good


def test_a_region_less_call_is_judged_in_the_load_balancers_region(server, estate):
    root, ram, prod, mine = estate
    user = user_with(ram, "elsewhere", policy(
        allow("slb:*"), deny("slb:*", "acs:slb:cn-hangzhou:*:*")))
    raw = raw_as(server, user)
    params = {"LoadBalancerId": prod, "LoadBalancerStatus": "inactive"}
    forbidden(raw.v1("SetLoadBalancerStatus", {**params, "RegionId": "cn-hangzhou"}))
    forbidden(raw.v1("SetLoadBalancerStatus", params, region=False))
    # An unknown region is refused as such, not judged as "any region".
    answer = raw.v1("SetLoadBalancerStatus", {**params, "RegionId": "cn-atlantis"})
    assert answer.json()["Code"] == "InvalidRegionId.NotFound", answer.text
    assert root("DescribeLoadBalancerAttribute", LoadBalancerId=prod)["LoadBalancerStatus"] \
        == "active"


@pytest.mark.parametrize("form", ["gap", "second", "leading-zero", "comma", "json"])
@pytest.mark.parametrize("grant", ["allowed-mine", "denied-prod"])
def test_every_id_of_a_list_is_judged(server, estate, form, grant):
    root, ram, prod, mine = estate
    user = user_with(ram, "lister", policy(
        allow("slb:*", f"acs:slb:*:*:loadbalancer/{mine}") if grant == "allowed-mine"
        else allow("slb:*"), deny("slb:*", f"acs:slb:*:*:loadbalancer/{prod}")))
    raw = raw_as(server, user)
    ids = {
        "gap": {"LoadBalancerId.1": mine, "LoadBalancerId.3": prod},
        "second": {"LoadBalancerId.1": mine, "LoadBalancerId.2": prod},
        "leading-zero": {"LoadBalancerId.1": mine, "LoadBalancerId.02": prod},
        "comma": {"LoadBalancerId": f"{mine},{prod}"},
        "json": {"LoadBalancerId": json.dumps([mine, prod])},
    }[form]
    forbidden(raw.v1("DescribeLoadBalancerListeners", ids))
    assert raw.v1("DescribeLoadBalancerListeners", {"LoadBalancerId.1": mine}).status == 200


def test_untagging_through_a_gap_in_resource_ids_is_refused(server, estate):
    root, ram, prod, mine = estate
    for lb in (prod, mine):
        root("TagResources", ResourceType="instance", ResourceId=[lb],
             Tag=[{"Key": "team", "Value": "web"}])
    user = user_with(ram, "tagger", policy(
        allow("slb:*", f"acs:slb:*:*:loadbalancer/{mine}")))
    raw = raw_as(server, user)
    forbidden(raw.v1("UntagResources", {"ResourceType": "instance", "ResourceId.1": mine,
                                        "ResourceId.3": prod, "All": "true"}))
    listed = root("ListTagResources", ResourceType="instance", ResourceId=[prod])
    assert [t["TagKey"] for t in listed["TagResources"]["TagResource"]] == ["team"]
    answer = raw.v1("UntagResources", {"ResourceType": "instance", "ResourceId.1": mine,
                                       "All": "true"})
    assert answer.status == 200, answer.text


def test_an_upload_from_the_ssl_certificates_service_needs_its_permission(server, account):
    from conftest import Cas
    key = certs.ec_key()
    leaf = certs.make_cert(key, cn="shop.example.com", sans=("shop.example.com",))
    cert_id = Cas(server, account).call("UploadUserCertificate", Name="shop",
                                        Cert=certs.cert_pem(leaf),
                                        Key=certs.key_pem(key))["CertId"]
    ram = V3("ram", server, account)
    slb_only = slb_as(server, make_user(ram, "slb-only", "AliyunSLBFullAccess"))
    expect_failure(lambda: slb_only("UploadServerCertificate", AliCloudCertificateId=str(cert_id),
                                    AliCloudCertificateName="shop"), "Forbidden.RAM", 403)
    assert slb_only("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"] == []
    both = user_with(ram, "both", policy(
        allow("slb:*"),
        allow("yundun-cert:GetUserCertificateDetail",
              f"acs:yundun-cert:*:*:certificate/{cert_id}")))
    made = slb_as(server, both)("UploadServerCertificate", AliCloudCertificateId=str(cert_id),
                                AliCloudCertificateName="shop")
    assert made["Fingerprint"] == certs.fingerprint(leaf)


def test_role_names_are_unique_and_judged_ignoring_case(server, account):
    ram = V3("ram", server, account)
    trust = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{account['AccountId']}:root"]}}]})
    ram("CreateRole", RoleName="Deploy-Admin", AssumeRolePolicyDocument=trust)
    expect_failure(lambda: ram("CreateRole", RoleName="deploy-admin",
                               AssumeRolePolicyDocument=trust), "EntityAlreadyExists.Role", 409)
    assert [r["RoleName"] for r in ram("ListRoles")["Roles"]["Role"]] == ["Deploy-Admin"]
    # Denied the role by its stored name: asking for it in other case is denied too.
    user = user_with(ram, "assumer", policy(
        allow("sts:AssumeRole"),
        deny("sts:AssumeRole", f"acs:ram::{account['AccountId']}:role/Deploy-Admin")))
    sts = V3("sts", server, user)
    expect_failure(lambda: sts("AssumeRole", RoleSessionName="s",
                               RoleArn=f"acs:ram::{account['AccountId']}:role/deploy-admin"),
                   "NoPermission", 403)


def test_backends_at_metadata_or_the_apis_own_address_are_refused(server, estate):
    root, _, prod, _ = estate
    metadata = [{"ServerId": "i-meta", "Type": "eni", "ServerIp": "169.254.169.254"}]
    expect_failure(lambda: root("AddBackendServers", LoadBalancerId=prod,
                                BackendServers=json.dumps(metadata)), "InvalidParameter", 400,
                   contains="169.254.0.0/16")
    relay = [{"ServerId": "i-relay", "Port": server.port, "ServerIp": "127.0.0.1"}]
    expect_failure(lambda: root("CreateVServerGroup", LoadBalancerId=prod,
                                VServerGroupName="relay", BackendServers=json.dumps(relay)),
                   "InvalidParameter", 400, contains="this server's own address")
    assert root("DescribeVServerGroups", LoadBalancerId=prod)["VServerGroups"]["VServerGroup"] \
        == []
    assert root("DescribeLoadBalancerAttribute", LoadBalancerId=prod)["BackendServers"][
        "BackendServer"] == []
    # The same address on another port is an ordinary backend.
    relay[0]["Port"] = server.port + 1
    root("CreateVServerGroup", LoadBalancerId=prod, VServerGroupName="ok",
         BackendServers=json.dumps(relay))
