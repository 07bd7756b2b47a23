"""Another account's load balancers, listeners, domain extensions and VServer groups answer
exactly like missing ones, through every action that names them; limits and the address pool
as flags; load balancers survive kill -9."""

import json

import pytest

from conftest import Server, expect_failure, UNVERIFIED_404
from slb import Api, backends, upload_server_certificate


def test_another_accounts_resources_answer_like_missing_ones(server, account, other_account):
    owner = Api("v3", server, account)
    intruder = Api("v3", server, other_account)
    certificate = upload_server_certificate(owner)
    lb = owner("CreateLoadBalancer", LoadBalancerName="mine")["LoadBalancerId"]
    owner("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
          BackendServerPort=80, HealthCheck="on", ServerCertificateId=certificate)
    extension = owner("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443,
                      Domain="a.example.com", ServerCertificateId=certificate)["DomainExtensionId"]
    group = owner("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="g")["VServerGroupId"]
    before = owner("DescribeLoadBalancerAttribute", LoadBalancerId=lb)

    intruder_cert = upload_server_certificate(intruder)
    missing_lb = "lb-" + "0" * 23
    by_lb = [
        ("DescribeLoadBalancerAttribute", {}),
        ("DeleteLoadBalancer", {}),
        ("SetLoadBalancerName", {"LoadBalancerName": "theirs"}),
        ("SetLoadBalancerStatus", {"LoadBalancerStatus": "inactive"}),
        ("SetLoadBalancerDeleteProtection", {"DeleteProtection": "on"}),
        ("ModifyLoadBalancerInstanceSpec", {"LoadBalancerSpec": "slb.s3.large"}),
        ("CreateLoadBalancerTCPListener", {"ListenerPort": 22, "Bandwidth": -1,
                                           "BackendServerPort": 22}),
        ("StartLoadBalancerListener", {"ListenerPort": 443}),
        ("StopLoadBalancerListener", {"ListenerPort": 443}),
        ("DeleteLoadBalancerListener", {"ListenerPort": 443}),
        ("CreateDomainExtension", {"ListenerPort": 443, "Domain": "b.example.com",
                                   "ServerCertificateId": intruder_cert}),
        ("DescribeDomainExtensions", {"ListenerPort": 443}),
        ("AddBackendServers", {"BackendServers": backends({"ServerId": "i-x"})}),
        ("RemoveBackendServers", {"BackendServers": backends({"ServerId": "i-x"})}),
        ("SetBackendServers", {"BackendServers": backends({"ServerId": "i-x"})}),
        ("DescribeHealthStatus", {}),
        ("CreateVServerGroup", {"VServerGroupName": "x"}),
        ("DescribeVServerGroups", {}),
    ]
    for action, params in by_lb:
        theirs = expect_failure(lambda: intruder(action, LoadBalancerId=lb, **params),
                                "InvalidLoadBalancerId.NotFound", status=UNVERIFIED_404)
        absent = expect_failure(lambda: intruder(action, LoadBalancerId=missing_lb, **params),
                                "InvalidLoadBalancerId.NotFound", status=UNVERIFIED_404)
        assert theirs.message.replace(lb, missing_lb).split("request id")[0] == \
            absent.message.split("request id")[0], action
    # Listener reads and sets answer "does not exist", like a missing listener.
    for action in ("DescribeLoadBalancerHTTPSListenerAttribute",
                   "SetLoadBalancerHTTPSListenerAttribute"):
        failure = expect_failure(lambda: intruder(action, LoadBalancerId=lb, ListenerPort=443),
                                 "InvalidParameter")
        assert "The specified resource does not exist." in failure.message
    for action, params in [("DescribeDomainExtensionAttribute", {}),
                           ("SetDomainExtensionAttribute", {"ServerCertificateId": intruder_cert}),
                           ("DeleteDomainExtension", {})]:
        expect_failure(lambda: intruder(action, DomainExtensionId=extension, **params),
                       "InvalidParameter.DomainExtensionId")
    for action, params in [("DescribeVServerGroupAttribute", {}),
                           ("SetVServerGroupAttribute", {"VServerGroupName": "x"}),
                           ("DeleteVServerGroup", {}),
                           ("AddVServerGroupBackendServers",
                            {"BackendServers": backends({"ServerId": "i-x", "Port": 80})}),
                           ("RemoveVServerGroupBackendServers",
                            {"BackendServers": backends({"ServerId": "i-x", "Port": 80})})]:
        expect_failure(lambda: intruder(action, VServerGroupId=group, **params),
                       "InvalidParameter", status=404)
    expect_failure(lambda: intruder("TagResources", ResourceType="instance", ResourceId=[lb],
                                    Tag=[{"Key": "k", "Value": "v"}]),
                   "InvalidResourceId.NotFound")
    # Their lists do not show it, and their certificate cannot be bound to it or anything.
    assert intruder("DescribeLoadBalancers")["TotalCount"] == 0
    assert not intruder("DescribeLoadBalancerListeners").get("Listeners")
    assert intruder("ListTagResources", ResourceType="instance")["TagResources"]["TagResource"] == []
    # The owner's cannot be bound by another account's listener either.
    theirs = intruder("CreateLoadBalancer")["LoadBalancerId"]
    expect_failure(lambda: intruder("CreateLoadBalancerHTTPSListener", LoadBalancerId=theirs,
                                    ListenerPort=443, Bandwidth=-1, BackendServerPort=80,
                                    HealthCheck="on", ServerCertificateId=certificate),
                   "InvalidParameter")
    # Nothing of the owner's changed.
    after = owner("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    for volatile in ("RequestId",):
        before.pop(volatile), after.pop(volatile)
    assert after == before


@pytest.fixture
def small_server(tmp_path):
    server = Server(tmp_path, args=["--address-pool", "127.30.0.0/30", "--max-listeners", "1",
                                    "--max-domain-extensions", "1"]).start()
    yield server
    server.stop()


def test_limits_and_the_address_pool(small_server):
    api = Api("v1", small_server, small_server.credentials)
    first = api("CreateLoadBalancer")
    second = api("CreateLoadBalancer")
    assert {first["Address"], second["Address"]} == {"127.30.0.1", "127.30.0.2"}
    expect_failure(lambda: api("CreateLoadBalancer"), "ObtainIpFail")
    api("DeleteLoadBalancer", LoadBalancerId=first["LoadBalancerId"])
    # A freed address is handed out again, never one in use.
    assert api("CreateLoadBalancer")["Address"] == first["Address"]
    lb = second["LoadBalancerId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=22, BackendServerPort=22,
        Bandwidth=-1)
    expect_failure(lambda: api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=23,
                               BackendServerPort=23, Bandwidth=-1), "ListenerNumberOverLimit")


def test_load_balancers_survive_kill_9(server, account):
    api = Api("v1", server, account)
    certificate = upload_server_certificate(api)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=80, HealthCheck="on", ServerCertificateId=certificate)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    server.kill9()
    server.start()
    api = Api("v1", server, account)
    listener = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert (listener["Status"], listener["ServerCertificateId"]) == ("running", certificate)
    expect_failure(lambda: api("DeleteServerCertificate", ServerCertificateId=certificate),
                   "CertificateAndPrivateKeyIsRefered")
    # Mutations are audited with the load balancer they act on.
    lines = [line for line in server.audit_lines()
             if line.get("action") == "StartLoadBalancerListener"]
    assert lines and json.dumps(lines[0]).count(lb) >= 1
