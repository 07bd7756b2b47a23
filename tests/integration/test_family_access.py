"""Who may touch the resources issue 22 added: listener tags, and, for access control lists,
forwarding rules, master-slave groups and TLS cipher policies, a RAM user denied one is refused
(403 `Forbidden.RAM`, nothing changed) and another account sees none (answered as missing).
Their XML answers keep the JSON shapes."""

import json
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import V1, expect_failure, UNVERIFIED_404
from ram import V3, allow, deny, policy
from slb import Api, upload_server_certificate
from test_ram_escapes import slb_as, user_with


def listener_tags(api, lb, **filters):
    listeners = api("DescribeLoadBalancerListeners", LoadBalancerId=[lb], **filters)
    return {(l["ListenerProtocol"], l["ListenerPort"]): [(t["TagKey"], t["TagValue"])
                                                         for t in l["Tags"]]
            for l in listeners.get("Listeners", [])}


def test_listeners_are_tagged_by_load_balancer_protocol_and_port(server, account, other_account):
    api = Api("v3", server, account)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=80)
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=80)
    tcp, udp = f"{lb}-tcp-80", f"{lb}-udp-80"
    api("TagResources", ResourceType="listener", ResourceId=[tcp],
        Tag=[{"Key": "env", "Value": "prod"}, {"Key": "app", "Value": "dns"}])
    # aliyun-python-sdk-slb names them ResourceIds and Tags.
    V1(server, account).call("TagResources", ResourceType="listener", ResourceIds=[udp],
                             Tags=[{"Key": "env", "Value": "dev"}])
    rows = api("ListTagResources", ResourceType="listener")["TagResources"]["TagResource"]
    assert [(r["ResourceId"], r["ResourceType"], r["TagKey"], r["TagValue"]) for r in rows] == [
        (tcp, "listener", "app", "dns"), (tcp, "listener", "env", "prod"),
        (udp, "listener", "env", "dev")]
    assert listener_tags(api, lb) == {("tcp", 80): [("app", "dns"), ("env", "prod")],
                                      ("udp", 80): [("env", "dev")]}
    # DescribeLoadBalancerListeners filters by them.
    prod = listener_tags(api, lb, Tag=[{"Key": "env", "Value": "prod"}])
    assert list(prod) == [("tcp", 80)]

    api("UntagResources", ResourceType="listener", ResourceId=[tcp], TagKey=["app"])
    assert listener_tags(api, lb)[("tcp", 80)] == [("env", "prod")]
    # A listener that is not there, or a malformed name, changes nothing.
    for missing in (f"{lb}-http-80", f"{lb}-tcp-81", "lb-nothing-tcp-80", lb, f"{lb}-TCP-80"):
        expect_failure(lambda: api("TagResources", ResourceType="listener",
                                   ResourceId=[tcp, missing], Tag=[{"Key": "x", "Value": "y"}]),
                       "InvalidResourceId.NotFound")
    assert listener_tags(api, lb)[("tcp", 80)] == [("env", "prod")]
    # Deleting the listener takes its tags with it.
    api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80, ListenerProtocol="udp")
    rows = api("ListTagResources", ResourceType="listener")["TagResources"]["TagResource"]
    assert {r["ResourceId"] for r in rows} == {tcp}

    theirs = Api("v3", server, other_account)
    expect_failure(lambda: theirs("TagResources", ResourceType="listener", ResourceId=[tcp],
                                  Tag=[{"Key": "x", "Value": "y"}]), "InvalidResourceId.NotFound")
    assert theirs("ListTagResources", ResourceType="listener")["TagResources"]["TagResource"] == []


@pytest.fixture
def estate(server, account):
    """A load balancer `prod` with a TCP listener, a master-slave group, an HTTP listener with
    a rule, a custom TLS policy and an ACL; the root's clients."""
    root = slb_as(server, account)
    ram = V3("ram", server, account)
    lb = root("CreateLoadBalancer", LoadBalancerName="prod")["LoadBalancerId"]
    servers = json.dumps([{"ServerId": "i-a", "Port": 80, "ServerType": "Master"},
                          {"ServerId": "i-b", "Port": 80, "ServerType": "Slave"}])
    pair = root("CreateMasterSlaveServerGroup", LoadBalancerId=lb,
                MasterSlaveBackendServers=servers)["MasterSlaveServerGroupId"]
    group = root("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="web",
                 BackendServers=json.dumps([{"ServerId": "i-c", "Port": 80}]))["VServerGroupId"]
    root("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
         BackendServerPort=80, HealthCheck="off")
    rule = root("CreateRules", LoadBalancerId=lb, ListenerPort=80, RuleList=json.dumps(
        [{"RuleName": "img", "Url": "/img", "VServerGroupId": group}]))["Rules"]["Rule"][0]["RuleId"]
    tls = root("CreateTLSCipherPolicy", Name="modern", TLSVersions=["TLSv1.2"],
               Ciphers=["ECDHE-RSA-AES128-GCM-SHA256"])["TLSCipherPolicyId"]
    acl = root("CreateAccessControlList", AclName="office")["AclId"]
    return dict(root=root, ram=ram, lb=lb, pair=pair, group=group, rule=rule, tls=tls, acl=acl)


def test_ram_judges_each_new_resource_type(server, estate):
    e, root = estate, estate["root"]
    user = user_with(e["ram"], "ops", policy(
        allow("slb:*"),
        deny("slb:*", f"acs:slb:*:*:acl/{e['acl']}"),
        deny("slb:*", f"acs:slb:*:*:tlscipherpolicy/{e['tls']}"),
        deny("slb:*", f"acs:slb:*:*:loadbalancer/{e['lb']}")))
    slb = slb_as(server, user)
    refused = [
        ("AddAccessControlListEntry", dict(AclId=e["acl"], AclEntrys=json.dumps(
            [{"entry": "10.0.0.0/8", "comment": "evil"}]))),
        ("SetAccessControlListAttribute", dict(AclId=e["acl"], AclName="renamed")),
        ("DeleteAccessControlList", dict(AclId=e["acl"])),
        ("SetTLSCipherPolicyAttribute", dict(TLSCipherPolicyId=e["tls"], Name="weak",
                                             TLSVersions=["TLSv1.2"],
                                             Ciphers=["ECDHE-RSA-AES256-GCM-SHA384"])),
        ("DeleteTLSCipherPolicy", dict(TLSCipherPolicyId=e["tls"])),
        # A rule, a group and their tags are judged as their load balancer.
        ("SetRule", dict(RuleId=e["rule"], RuleName="moved")),
        ("DeleteRules", dict(RuleIds=json.dumps([e["rule"]]))),
        ("DeleteMasterSlaveServerGroup", dict(MasterSlaveServerGroupId=e["pair"])),
        ("TagResources", dict(ResourceType="listener", ResourceId=[f"{e['lb']}-http-80"],
                              Tag=[{"Key": "x", "Value": "y"}])),
        ("TagResources", dict(ResourceType="masterslaveservergroup", ResourceId=[e["pair"]],
                              Tag=[{"Key": "x", "Value": "y"}])),
        ("TagResources", dict(ResourceType="acl", ResourceId=[e["acl"]],
                              Tag=[{"Key": "x", "Value": "y"}])),
    ]
    for action, params in refused:
        expect_failure(lambda: slb(action, **params), "Forbidden.RAM", 403)
    # Nothing changed.
    seen = root("DescribeAccessControlListAttribute", AclId=e["acl"])
    assert (seen["AclName"], seen["TotalAclEntry"]) == ("office", 0)
    assert seen["Tags"]["Tag"] == []
    listed = root("ListTLSCipherPolicies", TLSCipherPolicyId=e["tls"])["TLSCipherPolicies"]
    assert (listed[0]["Name"], listed[0]["Ciphers"]) == ("modern", ["ECDHE-RSA-AES128-GCM-SHA256"])
    assert root("DescribeRuleAttribute", RuleId=e["rule"])["RuleName"] == "img"
    assert root("DescribeMasterSlaveServerGroupAttribute",
                MasterSlaveServerGroupId=e["pair"])["Tags"]["Tag"] == []
    assert root("ListTagResources", ResourceType="listener")["TagResources"]["TagResource"] == []

    # An allowed load balancer may not bind a denied list or policy.
    other = root("CreateLoadBalancer", LoadBalancerName="other")["LoadBalancerId"]
    expect_failure(lambda: slb("CreateLoadBalancerTCPListener", LoadBalancerId=other,
                               ListenerPort=81, Bandwidth=-1, BackendServerPort=81,
                               AclStatus="on", AclType="white", AclId=e["acl"]),
                   "Forbidden.RAM", 403)
    assert root("DescribeLoadBalancerListeners", LoadBalancerId=[other])["TotalCount"] == 0
    # And what is not denied is allowed.
    slb("CreateLoadBalancerTCPListener", LoadBalancerId=other, ListenerPort=81, Bandwidth=-1,
        BackendServerPort=81)
    slb("TagResources", ResourceType="listener", ResourceId=[f"{other}-tcp-81"],
        Tag=[{"Key": "team", "Value": "ops"}])


def test_another_account_sees_no_tls_policy(server, account, other_account):
    mine, theirs = Api("v3", server, account), Api("v3", server, other_account)
    tls = mine("CreateTLSCipherPolicy", Name="modern", TLSVersions=["TLSv1.2"],
               Ciphers=["ECDHE-RSA-AES128-GCM-SHA256"])["TLSCipherPolicyId"]
    assert theirs("ListTLSCipherPolicies")["TLSCipherPolicies"] == []
    assert theirs("ListTLSCipherPolicies", TLSCipherPolicyId=tls)["TLSCipherPolicies"] == []
    for action, extra in [("DeleteTLSCipherPolicy", {}),
                          ("SetTLSCipherPolicyAttribute",
                           dict(Name="x1", TLSVersions=["TLSv1.2"],
                                Ciphers=["ECDHE-RSA-AES256-GCM-SHA384"]))]:
        expect_failure(lambda: theirs(action, TLSCipherPolicyId=tls, **extra),
                       "TLSCipherPolicyId.NotFound", UNVERIFIED_404)
    lb = theirs("CreateLoadBalancer")["LoadBalancerId"]
    certificate = upload_server_certificate(theirs)
    expect_failure(lambda: theirs("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb,
                                  ListenerPort=443, Bandwidth=-1, BackendServerPort=80,
                                  HealthCheck="off", ServerCertificateId=certificate,
                                  TLSCipherPolicy=tls),
                   "TLSCipherPolicyId.NotFound", UNVERIFIED_404)
    assert len(mine("ListTLSCipherPolicies")["TLSCipherPolicies"]) == 1


def test_xml_answers_of_the_new_families(raw, estate):
    e = estate
    raw.v1("AddAccessControlListEntry", {"AclId": e["acl"], "AclEntrys": json.dumps(
        [{"entry": "10.0.0.0/8", "comment": "office"}])})

    def xml(action, params):
        answer = raw.v1(action, params, fmt="XML")
        assert answer.status == 200, answer.text
        return ElementTree.fromstring(answer.text)

    acl = xml("DescribeAccessControlListAttribute", {"AclId": e["acl"]})
    assert acl.tag == "DescribeAccessControlListAttributeResponse"
    entries = acl.findall("AclEntrys/AclEntry")
    assert [(x.findtext("AclEntryIP"), x.findtext("AclEntryComment")) for x in entries] == [
        ("10.0.0.0/8", "office")]
    assert acl.findtext("TotalAclEntry") == "1"
    rules = xml("DescribeRules", {"LoadBalancerId": e["lb"], "ListenerPort": "80"})
    assert [r.findtext("RuleId") for r in rules.findall("Rules/Rule")] == [e["rule"]]
    pairs = xml("DescribeMasterSlaveServerGroupAttribute", {"MasterSlaveServerGroupId": e["pair"]})
    servers = pairs.findall("MasterSlaveBackendServers/MasterSlaveBackendServer")
    assert [s.findtext("ServerType") for s in servers] == ["Master", "Slave"]
    # A bare list repeats its element (as SLB's XML does for TLSCipherPolicies).
    policies = xml("ListTLSCipherPolicies", {"TLSCipherPolicyId": e["tls"]})
    listed = policies.findall("TLSCipherPolicies")
    assert [p.findtext("InstanceId") for p in listed] == [e["tls"]]
    assert [c.text for c in listed[0].findall("Ciphers")] == ["ECDHE-RSA-AES128-GCM-SHA256"]
    zones = xml("DescribeZones", {})
    assert len(zones.findall("Zones/Zone")) == 2
