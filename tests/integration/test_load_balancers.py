"""Load balancers, listeners, domain extensions, backend servers and VServer groups through both
official SDKs (aliyun-python-sdk-slb request classes, V1; alibabacloud-slb20140515, V3): every
action, the shapes and JSON types of the official models, and the documented refusals."""

import pytest

from conftest import Failure, expect_failure, UNVERIFIED_404, unverified
from slb import Api, backends, upload_ca_certificate, upload_server_certificate


@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def https_listener(api, lb, port, certificate, **extra):
    return api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=port,
               BackendServerPort=80, Bandwidth=-1, HealthCheck="on",
               ServerCertificateId=certificate, **extra)


def test_load_balancer_attributes_and_lookups(api):
    created = api("CreateLoadBalancer", LoadBalancerName="web-1", ClientToken="token-1",
                  Tag=[{"Key": "env", "Value": "ci"}], DeleteProtection="on")
    lb = created["LoadBalancerId"]
    assert lb.startswith("lb-") and len(lb) == 26
    assert created["Address"].startswith("127.18.")
    # ClientToken makes the create idempotent: same load balancer, nothing new.
    again = api("CreateLoadBalancer", LoadBalancerName="web-1", ClientToken="token-1")
    assert again["LoadBalancerId"] == lb and again["Address"] == created["Address"]
    other = api("CreateLoadBalancer", LoadBalancerName="web-2")["LoadBalancerId"]

    attribute = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert attribute["LoadBalancerName"] == "web-1"
    assert attribute["LoadBalancerStatus"] == "active"
    assert attribute["DeleteProtection"] == "on"
    assert attribute["AddressType"] == "internet" and attribute["NetworkType"] == "classic"
    assert isinstance(attribute["CreateTimeStamp"], int)
    assert isinstance(attribute["Bandwidth"], int)
    assert attribute["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "ci"}]

    everything = api("DescribeLoadBalancers")
    assert everything["TotalCount"] == 2
    ids = [item["LoadBalancerId"] for item in everything["LoadBalancers"]["LoadBalancer"]]
    assert ids == [lb, other]
    page = api("DescribeLoadBalancers", PageSize=1, PageNumber=2)
    assert [i["LoadBalancerId"] for i in page["LoadBalancers"]["LoadBalancer"]] == [other]
    assert (page["PageNumber"], page["PageSize"], page["TotalCount"]) == (2, 1, 2)
    by_tag = api("DescribeLoadBalancers", Tag=[{"Key": "env", "Value": "ci"}])
    assert [i["LoadBalancerId"] for i in by_tag["LoadBalancers"]["LoadBalancer"]] == [lb]
    by_name = api("DescribeLoadBalancers", LoadBalancerName="web-2")
    assert [i["LoadBalancerId"] for i in by_name["LoadBalancers"]["LoadBalancer"]] == [other]
    by_address = api("DescribeLoadBalancers", Address=created["Address"])
    assert by_address["TotalCount"] == 1

    api("SetLoadBalancerName", LoadBalancerId=lb, LoadBalancerName="renamed")
    api("SetLoadBalancerStatus", LoadBalancerId=lb, LoadBalancerStatus="inactive")
    api("ModifyLoadBalancerInstanceSpec", LoadBalancerId=lb, LoadBalancerSpec="slb.s2.small")
    attribute = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert attribute["LoadBalancerName"] == "renamed"
    assert attribute["LoadBalancerStatus"] == "inactive"
    assert attribute["LoadBalancerSpec"] == "slb.s2.small"
    expect_failure(lambda: api("SetLoadBalancerName", LoadBalancerId=lb, LoadBalancerName="9bad"),
                   "InvalidParameter")
    expect_failure(lambda: api("SetLoadBalancerStatus", LoadBalancerId=lb,
                               LoadBalancerStatus="locked"), "InvalidParameter")

    # Delete protection is honoured; switched off, the load balancer goes.
    expect_failure(lambda: api("DeleteLoadBalancer", LoadBalancerId=lb),
                   "OperationDenied.DeleteProtectionIsOn")
    api("SetLoadBalancerDeleteProtection", LoadBalancerId=lb, DeleteProtection="off")
    api("DeleteLoadBalancer", LoadBalancerId=lb)
    failure = expect_failure(lambda: api("DescribeLoadBalancerAttribute", LoadBalancerId=lb),
                             "InvalidLoadBalancerId.NotFound", status=UNVERIFIED_404)
    assert "The specified LoadBalancerId does not exist." in failure.message
    assert api("DescribeLoadBalancers")["TotalCount"] == 1


def test_listeners_of_every_protocol(api):
    certificate = upload_server_certificate(api)
    ca = upload_ca_certificate(api)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    https_listener(api, lb, 443, certificate, CACertificateId=ca, TLSCipherPolicy="tls_cipher_policy_1_2")
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        HealthCheck="off", ListenerForward="on", ForwardPort=443, BackendServerPort=80)
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=53, BackendServerPort=53,
        Bandwidth=-1, HealthCheckInterval=7, PersistenceTimeout=10)
    # UDP shares nothing with TCP: the same port is free for it.
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=53, BackendServerPort=53,
        Bandwidth=-1)
    expect_failure(lambda: https_listener(api, lb, 53, certificate), "ListenerAlreadyExists")
    # Refusals of bad settings store nothing.
    for bad, code in [({"Bandwidth": 5121}, "InvalidParameter"),
                      ({"Scheduler": "fastest"}, "InvalidParameter"),
                      ({"AclStatus": "on"}, "MissingAclId"),
                      ({"StickySession": "on"}, "MissingStickySessionType"),
                      ({"HealthCheckHttpCode": "http_2xx,http_6xx"}, "InvalidParameter")]:
        params = {"Bandwidth": -1, **bad}
        expect_failure(lambda: api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb,
                                   ListenerPort=8443, BackendServerPort=80, HealthCheck="on",
                                   ServerCertificateId=certificate, **params), code)
    expect_failure(lambda: api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb,
                               ListenerPort=8443, BackendServerPort=80, Bandwidth=-1,
                               ServerCertificateId=certificate), "MissingHealthCheck")
    expect_failure(lambda: api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb,
                               ListenerPort=70000, BackendServerPort=80, Bandwidth=-1,
                               HealthCheck="on", ServerCertificateId=certificate),
                   "InvalidParameter")

    https = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert https["Status"] == "stopped"  # a new listener is stopped
    assert https["ServerCertificateId"] == certificate and https["CACertificateId"] == ca
    assert https["TLSCipherPolicy"] == "tls_cipher_policy_1_2"
    assert https["Bandwidth"] == -1 and https["BackendServerPort"] == 80
    assert https["ListenerPort"] == 443
    # Defaults are echoed, so that Terraform sees no drift.
    assert (https["Scheduler"], https["StickySession"], https["Gzip"], https["EnableHttp2"]) == \
        ("wrr", "off", "on", "on")
    assert (https["HealthyThreshold"], https["IdleTimeout"], https["RequestTimeout"]) == (3, 15, 60)
    assert https["AclIds"] == {"AclId": []}
    http = api("DescribeLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert (http["ListenerForward"], http["ForwardPort"]) == ("on", 443)
    tcp = api("DescribeLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=53)
    assert tcp["HealthCheckInterval"] == 7 and tcp["PersistenceTimeout"] == 10
    assert tcp["EstablishedTimeout"] == 900
    udp = api("DescribeLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53)
    assert udp["Status"] == "stopped"

    api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
        Scheduler="rr", StickySession="on", StickySessionType="insert", CookieTimeout=600,
        CACertificateId="")
    https = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert (https["Scheduler"], https["CookieTimeout"]) == ("rr", 600)
    assert "CACertificateId" not in https  # an empty CACertificateId removes it
    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=53,
        HealthCheckSwitch="off")
    api("SetLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53, Scheduler="rr")
    expect_failure(lambda: api("SetLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=80, Scheduler="rr"), "Operation.NotAllowed")

    # Two listeners on port 53: Start needs the protocol.
    expect_failure(lambda: api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=53),
                   "TooManyListeners")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=53, ListenerProtocol="udp")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    assert api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
               ListenerPort=443)["Status"] == "running"
    api("StopLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    assert api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
               ListenerPort=443)["Status"] == "stopped"

    attribute = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert sorted(attribute["ListenerPorts"]["ListenerPort"]) == [53, 53, 80, 443]
    pairs = attribute["ListenerPortsAndProtocol"]["ListenerPortAndProtocol"]
    assert {(p["ListenerPort"], p["ListenerProtocol"]) for p in pairs} == \
        {(443, "https"), (80, "http"), (53, "tcp"), (53, "udp")}
    assert [p for p in pairs if p["ListenerPort"] == 80][0]["ForwardPort"] == 443
    misspelled = attribute["ListenerPortsAndProtocal"]["ListenerPortAndProtocal"]
    assert {(p["ListenerPort"], p["ListenerProtocal"]) for p in misspelled} == \
        {(p["ListenerPort"], p["ListenerProtocol"]) for p in pairs}

    # The forwarding target cannot go while it is forwarded to; the forwarder can.
    expect_failure(lambda: api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443),
                   "Operation.NotAllowed")
    api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
    api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=53, ListenerProtocol="tcp")
    failure = expect_failure(lambda: api("DescribeLoadBalancerHTTPListenerAttribute",
                                         LoadBalancerId=lb, ListenerPort=80), "InvalidParameter")
    assert "The specified resource does not exist." in failure.message
    expect_failure(lambda: api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80),
                   "ListenerNotFound", status=404)


def test_listener_list_pages_with_a_token_left_out_on_the_last_page(api):
    certificate = upload_server_certificate(api)
    first = api("CreateLoadBalancer")["LoadBalancerId"]
    second = api("CreateLoadBalancer")["LoadBalancerId"]
    for port in (443, 8443, 9443):
        https_listener(api, first, port, certificate, Description=f"port-{port}")
    api("CreateLoadBalancerTCPListener", LoadBalancerId=second, ListenerPort=22,
        BackendServerPort=22, Bandwidth=-1)
    seen, token, pages = [], None, 0
    while True:
        params = {"LoadBalancerId": [first], "ListenerProtocol": "https", "MaxResults": 2}
        if token:
            params["NextToken"] = token
        page = api("DescribeLoadBalancerListeners", **params)
        pages += 1
        assert page["TotalCount"] == 3 and page["MaxResults"] == 2
        for item in page["Listeners"]:  # a bare array
            assert item["LoadBalancerId"] == first and item["ListenerProtocol"] == "https"
            assert item["HTTPSListenerConfig"]["ServerCertificateId"] == certificate
            assert item["Bandwidth"] == -1 and item["Tags"] == [] and item["AclIds"] == []
            seen.append(item["ListenerPort"])
        token = page.get("NextToken")
        if token is None:
            break
        assert token != ""
    assert (seen, pages) == ([443, 8443, 9443], 2)
    everything = api("DescribeLoadBalancerListeners")
    assert everything["TotalCount"] == 4 and "NextToken" not in everything
    tcp = [i for i in everything["Listeners"] if i["ListenerProtocol"] == "tcp"][0]
    assert tcp["TCPListenerConfig"]["ProxyProtocolV2Enabled"] in ("false", False)
    described = api("DescribeLoadBalancerListeners", Description="port-8443")
    assert [i["ListenerPort"] for i in described["Listeners"]] == [8443]
    none = api("DescribeLoadBalancerListeners", ListenerProtocol="udp")
    # Absent on the wire (test_listener_wire.py); the V3 model shows an absent list as [].
    assert none["TotalCount"] == 0 and not none.get("Listeners")
    expect_failure(lambda: api("DescribeLoadBalancerListeners", NextToken="garbage"),
                   "InvalidParameter")


def test_domain_extensions(api):
    default = upload_server_certificate(api)
    extra = upload_server_certificate(api, cn="*.example.org", sans=("*.example.org",))
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    https_listener(api, lb, 443, default)
    ids = []
    for domain in ("www.example.com", "*.example.org", "api.example.net"):
        created = api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443, Domain=domain,
                      ServerCertificateId=extra)
        assert created["ListenerPort"] == 443 and created["DomainExtensionId"].startswith("de-")
        ids.append(created["DomainExtensionId"])
    expect_failure(lambda: api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443,
                               Domain="four.example.com", ServerCertificateId=extra),
                   unverified("DomainExtensionNumberOverLimit",
                              "the service's code for a listener's 4th domain extension is undocumented"))
    expect_failure(lambda: api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443,
                               Domain="not a domain", ServerCertificateId=extra),
                   "InvalidParameter")
    listed = api("DescribeDomainExtensions", LoadBalancerId=lb, ListenerPort=443)
    assert [e["DomainExtensionId"] for e in listed["DomainExtensions"]["DomainExtension"]] == ids
    one = api("DescribeDomainExtensions", LoadBalancerId=lb, ListenerPort=443,
              DomainExtensionId=ids[1])
    assert one["DomainExtensions"]["DomainExtension"] == [
        {"DomainExtensionId": ids[1], "Domain": "*.example.org", "ServerCertificateId": extra}]
    attribute = api("DescribeDomainExtensionAttribute", DomainExtensionId=ids[0])
    assert (attribute["LoadBalancerId"], attribute["ListenerPort"], attribute["Domain"],
            attribute["ServerCertificateId"]) == (lb, 443, "www.example.com", extra)
    api("SetDomainExtensionAttribute", DomainExtensionId=ids[0], ServerCertificateId=default)
    assert api("DescribeDomainExtensionAttribute",
               DomainExtensionId=ids[0])["ServerCertificateId"] == default
    https = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert len(https["DomainExtensions"]["DomainExtension"]) == 3
    api("DeleteDomainExtension", DomainExtensionId=ids[0])
    expect_failure(lambda: api("DescribeDomainExtensionAttribute", DomainExtensionId=ids[0]),
                   "InvalidParameter.DomainExtensionId")
    # Deleting the listener takes its domain extensions with it.
    api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    expect_failure(lambda: api("DescribeDomainExtensionAttribute", DomainExtensionId=ids[1]),
                   "InvalidParameter.DomainExtensionId")


def test_backend_servers_health_and_vserver_groups(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, BackendServerPort=8080,
        HealthCheck="on")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
    added = api("AddBackendServers", LoadBalancerId=lb, BackendServers=backends(
        {"ServerId": "i-web1", "Weight": "50", "ServerIp": "127.0.0.5"},
        {"ServerId": "i-noip", "Weight": 100},
        {"ServerId": "eni-x", "Type": "eni", "ServerIp": "127.0.0.6", "Description": "eni"}))
    servers = {s["ServerId"]: s for s in added["BackendServers"]["BackendServer"]}
    assert set(servers) == {"i-web1", "i-noip", "eni-x"}
    assert int(servers["i-web1"]["Weight"]) == 50 and servers["eni-x"]["Type"] == "eni"
    set_ = api("SetBackendServers", LoadBalancerId=lb,
               BackendServers=backends({"ServerId": "i-web1", "Weight": "0"}))
    assert int({s["ServerId"]: s for s in set_["BackendServers"]["BackendServer"]}["i-web1"]["Weight"]) == 0
    health = api("DescribeHealthStatus", LoadBalancerId=lb)["BackendServers"]["BackendServer"]
    status = {h["ServerId"]: h["ServerHealthStatus"] for h in health}
    assert status == {"i-web1": "normal", "i-noip": "abnormal", "eni-x": "normal"}
    assert all(h["Port"] == 8080 and h["ListenerPort"] == 80 for h in health)
    expect_failure(lambda: api("DescribeHealthStatus", LoadBalancerId=lb, ListenerProtocol="ftp"),
                   "InvalidParameter")
    attribute = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert len(attribute["BackendServers"]["BackendServer"]) == 3
    removed = api("RemoveBackendServers", LoadBalancerId=lb,
                  BackendServers=backends({"ServerId": "i-noip"}))
    assert {s["ServerId"] for s in removed["BackendServers"]["BackendServer"]} == {"i-web1", "eni-x"}
    expect_failure(lambda: api("AddBackendServers", LoadBalancerId=lb, BackendServers="[{]"),
                   "InvalidParameter")
    expect_failure(lambda: api("AddBackendServers", LoadBalancerId=lb, BackendServers=backends(
        *({"ServerId": f"i-{n}"} for n in range(21)))), "TooManyBackendServers")
    by_server = api("DescribeLoadBalancers", ServerId="i-web1")
    assert by_server["TotalCount"] == 1

    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="blue",
                BackendServers=backends({"ServerId": "i-a", "Port": 8081, "ServerIp": "127.0.0.7"}))
    group_id = group["VServerGroupId"]
    assert group_id.startswith("rsp-")
    api("AddVServerGroupBackendServers", VServerGroupId=group_id,
        BackendServers=backends({"ServerId": "i-b", "Port": "8082", "Weight": "20",
                                 "ServerIp": "127.0.0.8"}))
    api("SetVServerGroupAttribute", VServerGroupId=group_id, VServerGroupName="green",
        BackendServers=backends({"ServerId": "i-a", "Port": 8081, "Weight": 30}))
    attribute = api("DescribeVServerGroupAttribute", VServerGroupId=group_id)
    assert attribute["VServerGroupName"] == "green" and attribute["LoadBalancerId"] == lb
    weights = {(s["ServerId"], s["Port"]): int(s["Weight"])
               for s in attribute["BackendServers"]["BackendServer"]}
    assert weights == {("i-a", 8081): 30, ("i-b", 8082): 20}
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=22, Bandwidth=-1,
        VServerGroupId=group_id)
    listed = api("DescribeVServerGroups", LoadBalancerId=lb, IncludeListener=True)
    only = listed["VServerGroups"]["VServerGroup"][0]
    assert (only["VServerGroupId"], only["ServerCount"]) == (group_id, 2)
    assert only["AssociatedObjects"]["Listeners"]["Listener"] == [{"Port": 22, "Protocol": "tcp"}]
    expect_failure(lambda: api("DeleteVServerGroup", VServerGroupId=group_id), "RspoolVipExist")
    api("RemoveVServerGroupBackendServers", VServerGroupId=group_id,
        BackendServers=backends({"ServerId": "i-b", "Port": 8082}))
    assert api("DescribeVServerGroupAttribute",
               VServerGroupId=group_id)["BackendServers"]["BackendServer"][0]["ServerId"] == "i-a"
    expect_failure(lambda: api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=23,
                               Bandwidth=-1, VServerGroupId="rsp-missing"),
                   "InvalidParameter", status=404)
    api("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=22)
    api("DeleteVServerGroup", VServerGroupId=group_id)
    expect_failure(lambda: api("DescribeVServerGroupAttribute", VServerGroupId=group_id),
                   "InvalidParameter", status=404)


def test_load_balancer_tags(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("TagResources", ResourceType="instance", ResourceId=[lb],
        Tag=[{"Key": "team", "Value": "edge"}]) if api.kind == "v3" else \
        api("TagResources", ResourceType="instance", ResourceIds=[lb],
            Tags=[{"Key": "team", "Value": "edge"}])
    listed = api("ListTagResources", ResourceType="instance", **(
        {"ResourceId": [lb]} if api.kind == "v3" else {"ResourceIds": [lb]}))
    assert listed["TagResources"]["TagResource"] == [
        {"ResourceId": lb, "ResourceType": "instance", "TagKey": "team", "TagValue": "edge"}]
    assert api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Tags"]["Tag"] == [
        {"TagKey": "team", "TagValue": "edge"}]
    api("UntagResources", ResourceType="instance", All=True, **(
        {"ResourceId": [lb]} if api.kind == "v3" else {"ResourceIds": [lb]}))
    assert api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Tags"]["Tag"] == []


def test_concurrent_edits_of_one_load_balancer_all_land(server, account):
    """Terraform creates a load balancer's listeners ten at a time: every edit rewrites the
    load balancer, and none may be lost or refused for racing another."""
    from concurrent.futures import ThreadPoolExecutor
    setup = Api("v1", server, account)
    certificate = upload_server_certificate(setup)
    lb = setup("CreateLoadBalancer")["LoadBalancerId"]

    def create(port):
        api = Api("v1", server, account)
        https_listener(api, lb, port, certificate)
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
        api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=port,
            Description=f"listener-{port}")

    ports = list(range(8000, 8048))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(create, ports))
    listed = setup("DescribeLoadBalancerListeners", LoadBalancerId=[lb], MaxResults=100)
    assert sorted(item["ListenerPort"] for item in listed["Listeners"]) == ports
    assert all(item["Status"] == "running" and item["Description"] == f"listener-{item['ListenerPort']}"
               for item in listed["Listeners"])
