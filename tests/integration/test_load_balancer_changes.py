"""In-place changes of a load balancer (internet spec, pay type, charge type, modification
protection) and the zone actions, through both official SDKs: what Terraform's
alicloud_slb_load_balancer, its alicloud_slb_zones data source and the Kubernetes cloud
controller call."""

import pytest

import certs
from conftest import expect_failure, UNVERIFIED_404
from slb import Api, upload_server_certificate


@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def attribute(api, lb):
    return api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)


def test_internet_spec_and_pay_type(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    answer = api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb,
                 InternetChargeType="paybybandwidth", Bandwidth=20)
    assert "OrderId" not in answer
    seen = attribute(api, lb)
    assert (seen["InternetChargeType"], seen["Bandwidth"]) == ("paybybandwidth", 20)
    expect_failure(lambda: api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb,
                               Bandwidth=5001), "InvalidParameter")
    expect_failure(lambda: api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb,
                               InternetChargeType="free"), "InvalidParameter")
    expect_failure(lambda: api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb),
                   "InvalidParameter")
    assert attribute(api, lb)["Bandwidth"] == 20

    expect_failure(lambda: api("ModifyLoadBalancerPayType", LoadBalancerId=lb,
                               PayType="PayOnDemand"), "InvalidParameter")
    expect_failure(lambda: api("ModifyLoadBalancerPayType", LoadBalancerId=lb, PayType="PrePay",
                               PricingCycle="year", Duration=4), "InvalidParameter")
    assert attribute(api, lb)["PayType"] == "PayOnDemand"
    answer = api("ModifyLoadBalancerPayType", LoadBalancerId=lb, PayType="PrePay",
                 PricingCycle="month", Duration=3)
    assert isinstance(answer["OrderId"], int)
    assert attribute(api, lb)["PayType"] == "PrePay"
    # A subscription's change is an order too.
    answer = api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb, Bandwidth=30)
    assert isinstance(answer["OrderId"], int)
    expect_failure(lambda: api("ModifyLoadBalancerPayType", LoadBalancerId="lb-missing",
                               PayType="PrePay"), "InvalidLoadBalancerId.NotFound", status=UNVERIFIED_404)


def test_charge_type_becomes_pay_by_clcu(api):
    lb = api("CreateLoadBalancer", LoadBalancerSpec="slb.s2.small",
             InternetChargeType="paybybandwidth")["LoadBalancerId"]
    expect_failure(lambda: api("ModifyLoadBalancerInstanceChargeType", LoadBalancerId=lb,
                               InstanceChargeType="PayBySpec"), "InvalidParameter")
    expect_failure(lambda: api("ModifyLoadBalancerInstanceChargeType", LoadBalancerId=lb,
                               InstanceChargeType="PayByCLCU",
                               InternetChargeType="paybybandwidth"), "InvalidParameter")
    api("ModifyLoadBalancerInstanceChargeType", LoadBalancerId=lb, InstanceChargeType="PayByCLCU")
    seen = attribute(api, lb)
    assert (seen["InstanceChargeType"], seen["LoadBalancerSpec"], seen["InternetChargeType"]) == \
        ("PayByCLCU", "slb.lcu.elastic", "paybytraffic")


def test_modification_protection_is_kept_and_does_not_stop_the_api(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    assert attribute(api, lb)["ModificationProtectionStatus"] == "NonProtection"
    expect_failure(lambda: api("SetLoadBalancerModificationProtection", LoadBalancerId=lb,
                               ModificationProtectionStatus="ConsoleProtection",
                               ModificationProtectionReason="1 starts with a digit"),
                   "InvalidParameter")
    api("SetLoadBalancerModificationProtection", LoadBalancerId=lb,
        ModificationProtectionStatus="ConsoleProtection",
        ModificationProtectionReason="managed.by-k8s")
    seen = attribute(api, lb)
    assert (seen["ModificationProtectionStatus"], seen["ModificationProtectionReason"]) == \
        ("ConsoleProtection", "managed.by-k8s")
    # Console protection guards the console only: the API still changes the load balancer.
    api("SetLoadBalancerName", LoadBalancerId=lb, LoadBalancerName="renamed")
    assert attribute(api, lb)["LoadBalancerName"] == "renamed"
    api("SetLoadBalancerModificationProtection", LoadBalancerId=lb,
        ModificationProtectionStatus="NonProtection")
    seen = attribute(api, lb)
    assert seen["ModificationProtectionStatus"] == "NonProtection"
    assert "ModificationProtectionReason" not in seen


def test_another_accounts_load_balancer_cannot_be_changed(server, account, other_account):
    mine = Api("v3", server, account)
    lb = mine("CreateLoadBalancer")["LoadBalancerId"]
    theirs = Api("v3", server, other_account)
    for action, params in [
        ("ModifyLoadBalancerInternetSpec", {"Bandwidth": 10}),
        ("ModifyLoadBalancerPayType", {"PayType": "PrePay"}),
        ("ModifyLoadBalancerInstanceChargeType", {"InstanceChargeType": "PayByCLCU"}),
        ("SetLoadBalancerModificationProtection",
         {"ModificationProtectionStatus": "ConsoleProtection"}),
    ]:
        expect_failure(lambda: theirs(action, LoadBalancerId=lb, **params),
                       "InvalidLoadBalancerId.NotFound", status=UNVERIFIED_404)
    seen = attribute(mine, lb)
    assert (seen["PayType"], seen["InstanceChargeType"], seen["ModificationProtectionStatus"]) == \
        ("PayOnDemand", "PayBySpec", "NonProtection")


def test_zones_and_available_resources(api):
    zones = api("DescribeZones")["Zones"]["Zone"]
    assert [zone["ZoneId"] for zone in zones] == ["cn-hangzhou-a", "cn-hangzhou-b"]
    assert zones[0]["SlaveZones"]["SlaveZone"][0]["ZoneId"] == "cn-hangzhou-b"
    assert all(zone["LocalName"] for zone in zones)
    # The zones a load balancer is created in by default are among them.
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    seen = attribute(api, lb)
    assert (seen["MasterZoneId"], seen["SlaveZoneId"]) == ("cn-hangzhou-a", "cn-hangzhou-b")

    everything = api("DescribeAvailableResource")["AvailableResources"]["AvailableResource"]
    assert [r["MasterZoneId"] for r in everything] == ["cn-hangzhou-a", "cn-hangzhou-b"]
    assert len(everything[0]["SupportResources"]["SupportResource"]) == 6
    vpc = api("DescribeAvailableResource", AddressType="vpc", AddressIPVersion="ipv4")
    assert vpc["AvailableResources"]["AvailableResource"][0]["SupportResources"] == {
        "SupportResource": [{"AddressType": "vpc", "AddressIPVersion": "ipv4"}]}
    # The model's text spells it with a dash too.
    dashed = api("DescribeAvailableResource", AddressType="classic-internet")
    first = dashed["AvailableResources"]["AvailableResource"][0]["SupportResources"]
    assert {r["AddressType"] for r in first["SupportResource"]} == {"classic_internet"}
    expect_failure(lambda: api("DescribeAvailableResource", AddressType="public"),
                   "InvalidParameter")


def test_vserver_group_servers_are_replaced_in_one_call(api):
    import json
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    servers = [{"ServerId": "i-a", "ServerIp": "10.0.0.1", "Port": 80, "Weight": 100},
               {"ServerId": "i-b", "ServerIp": "10.0.0.2", "Port": 80, "Weight": 50}]
    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="web",
                BackendServers=json.dumps(servers))["VServerGroupId"]
    answer = api("ModifyVServerGroupBackendServers", VServerGroupId=group,
                 OldBackendServers=json.dumps([servers[1]]),
                 NewBackendServers=json.dumps([{"ServerId": "i-b", "ServerIp": "10.0.0.2",
                                                "Port": 8080, "Weight": 70}]))
    assert answer["VServerGroupId"] == group
    seen = api("DescribeVServerGroupAttribute", VServerGroupId=group)
    ports = {(s["ServerId"], s["Port"], s["Weight"]) for s in seen["BackendServers"]["BackendServer"]}
    assert ports == {("i-a", 80, 100), ("i-b", 8080, 70)}
    # An old server that is not in the group changes nothing.
    expect_failure(lambda: api("ModifyVServerGroupBackendServers", VServerGroupId=group,
                               OldBackendServers=json.dumps([{"ServerId": "i-z", "Port": 80}]),
                               NewBackendServers=json.dumps([{"ServerId": "i-y",
                                                              "ServerIp": "10.0.0.9",
                                                              "Port": 80}])),
                   "InvalidServerId.NotFound", status=404)
    expect_failure(lambda: api("ModifyVServerGroupBackendServers", VServerGroupId=group,
                               OldBackendServers=json.dumps([servers[0]])),
                   "MissingNewBackendServers")
    after = api("DescribeVServerGroupAttribute", VServerGroupId=group)
    assert len(after["BackendServers"]["BackendServer"]) == 2


def test_legacy_tags_share_the_tags_of_tag_resources(api):
    import json
    first = api("CreateLoadBalancer")["LoadBalancerId"]
    second = api("CreateLoadBalancer")["LoadBalancerId"]
    tags = json.dumps([{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "a"}])
    api("AddTags", LoadBalancerId=first, Tags=tags)
    api("AddTags", LoadBalancerId=second, Tags=json.dumps([{"TagKey": "env", "TagValue": "prod"}]))
    # Given again, a key's value is replaced.
    api("AddTags", LoadBalancerId=first, Tags=json.dumps([{"TagKey": "team", "TagValue": "b"}]))
    sets = api("DescribeTags")["TagSets"]["TagSet"]
    assert {(s["TagKey"], s["TagValue"], s["InstanceCount"]) for s in sets} == \
        {("env", "prod", 2), ("team", "b", 1)}
    mine = api("DescribeTags", LoadBalancerId=first, Tags=json.dumps([{"TagKey": "team"}]))
    assert mine["TotalCount"] == 2
    # The same tags as TagResources sets: DescribeLoadBalancerAttribute shows them.
    pairs = {(t["TagKey"], t["TagValue"]) for t in attribute(api, first)["Tags"]["Tag"]}
    assert pairs == {("env", "prod"), ("team", "b")}

    six = json.dumps([{"TagKey": f"k{n}", "TagValue": "v"} for n in range(6)])
    expect_failure(lambda: api("AddTags", LoadBalancerId=first, Tags=six), "InvalidParameter")
    expect_failure(lambda: api("AddTags", LoadBalancerId=first,
                               Tags=json.dumps([{"TagKey": "aliyun:x", "TagValue": "v"}])),
                   "InvalidTagKey.Malformed")
    api("RemoveTags", LoadBalancerId=first, Tags=json.dumps([{"TagKey": "team"}]))
    api("RemoveTags", LoadBalancerId=second,
        Tags=json.dumps([{"TagKey": "env", "TagValue": "other"}]))
    sets = api("DescribeTags", DistinctKey="true")["TagSets"]["TagSet"]
    assert [(s["TagKey"], s["InstanceCount"]) for s in sets] == [("env", 2)]


def test_load_balancers_certificates_and_acls_move_between_resource_groups(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("MoveResourceGroup", ResourceType="loadbalancer", ResourceId=lb,
        NewResourceGroupId="rg-aek2moved")
    assert attribute(api, lb)["ResourceGroupId"] == "rg-aek2moved"
    acl = api("CreateAccessControlList", AclName="moving")["AclId"]
    api("MoveResourceGroup", ResourceType="acl", ResourceId=acl, NewResourceGroupId="rg-aek2acl")
    seen = api("DescribeAccessControlListAttribute", AclId=acl)
    assert seen["ResourceGroupId"] == "rg-aek2acl"
    expect_failure(lambda: api("MoveResourceGroup", ResourceType="loadbalancer", ResourceId=lb,
                               NewResourceGroupId="not-a-group"), "InvalidParameter")
    expect_failure(lambda: api("MoveResourceGroup", ResourceType="disk", ResourceId=lb,
                               NewResourceGroupId="rg-aek2moved"), "InvalidParameter")
    expect_failure(lambda: api("MoveResourceGroup", ResourceType="acl", ResourceId="acl-none",
                               NewResourceGroupId="rg-aek2moved"), "AclNotExist", status=UNVERIFIED_404)
    assert attribute(api, lb)["ResourceGroupId"] == "rg-aek2moved"

    # Server and CA certificates share the type `certificate`.
    server = upload_server_certificate(api)
    ca = api("UploadCACertificate", CACertificate=certs.cert_pem(
        certs.make_cert(certs.ec_key(), cn="CA", sans=(), ca=True)))["CACertificateId"]
    for certificate in (server, ca):
        api("MoveResourceGroup", ResourceType="certificate", ResourceId=certificate,
            NewResourceGroupId="rg-aek2certs")
    listed = api("DescribeServerCertificates", ServerCertificateId=server)
    assert listed["ServerCertificates"]["ServerCertificate"][0]["ResourceGroupId"] == "rg-aek2certs"
    listed = api("DescribeCACertificates", CACertificateId=ca)
    assert listed["CACertificates"]["CACertificate"][0]["ResourceGroupId"] == "rg-aek2certs"
    expect_failure(lambda: api("MoveResourceGroup", ResourceType="certificate",
                               ResourceId="123-cn-hangzhou", NewResourceGroupId="rg-aek2certs"),
                   "InvalidResourceId.NotFound")


def test_udp_health_check_request_and_answer_in_the_sdks_spelling(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=53, Bandwidth=-1,
        BackendServerPort=53, healthCheckReq="ping", healthCheckExp="pong")
    seen = api("DescribeLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53)
    assert (seen["HealthCheckReq"], seen["HealthCheckExp"]) == ("ping", "pong")
    api("SetLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53,
        healthCheckReq="hello")
    seen = api("DescribeLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53)
    assert (seen["HealthCheckReq"], seen["HealthCheckExp"]) == ("hello", "pong")


def test_access_log_destinations_are_kept_per_load_balancer(api):
    import json
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    # The help's example spells one key in lower camel case.
    attribute_json = json.dumps([{"logProject": "my-project", "LogStore": "my_store",
                                  "LoadBalancerId": lb}])
    api("SetAccessLogsDownloadAttribute", LoadBalancerId=lb, LogsDownloadAttributes=attribute_json)
    expect_failure(lambda: api("SetAccessLogsDownloadAttribute", LoadBalancerId=lb,
                               LogsDownloadAttributes=attribute_json), "Operation.NotAllowed",
                   contains="already exists")
    seen = api("DescribeAccessLogsDownloadAttribute", LoadBalancerId=lb, LogType="layer7")
    assert seen["TotalCount"] == 1
    entry = seen["LogsDownloadAttributes"]["LogsDownloadAttribute"][0]
    assert (entry["LoadBalancerId"], entry["LogProject"], entry["LogStore"], entry["LogType"]) == \
        (lb, "my-project", "my_store", "layer7")
    bad = json.dumps([{"LogProject": "Upper", "LogStore": "s1"}])
    other = api("CreateLoadBalancer")["LoadBalancerId"]
    expect_failure(lambda: api("SetAccessLogsDownloadAttribute", LoadBalancerId=other,
                               LogsDownloadAttributes=bad), "InvalidParameter")
    api("DeleteAccessLogsDownloadAttribute", LoadBalancerId=lb,
        LogsDownloadAttributes=attribute_json)
    assert api("DescribeAccessLogsDownloadAttribute")["TotalCount"] == 0


def test_high_definition_monitoring_is_kept_per_region(api):
    assert api("DescribeHighDefinationMonitor")["Success"] == "false"
    expect_failure(lambda: api("ModifyHighDefinationMonitor", LogProject="proj-a",
                               LogStore="store-a"), "Operation.NotAllowed")
    assert api("EnableHighDefinationMonitor", LogProject="proj-a",
               LogStore="store-a")["Success"] == "true"
    expect_failure(lambda: api("EnableHighDefinationMonitor", LogProject="proj-a",
                               LogStore="store-a"), "Operation.NotAllowed")
    api("ModifyHighDefinationMonitor", LogProject="proj-b", LogStore="store_b")
    seen = api("DescribeHighDefinationMonitor")
    assert (seen["Success"], seen["LogProject"], seen["LogStore"]) == \
        ("true", "proj-b", "store_b")
    expect_failure(lambda: api("ModifyHighDefinationMonitor", LogProject="x",
                               LogStore="store_b"), "InvalidParameter")


def test_vserver_groups_are_tagged_as_terraform_tags_them(server, account, other_account):
    import json
    api = Api("v3", server, account)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="web",
                BackendServers=json.dumps([{"ServerId": "i-1", "Port": 80}]))["VServerGroupId"]
    api("TagResources", ResourceType="vservergroup", ResourceId=[group],
        Tag=[{"Key": "env", "Value": "prod"}, {"Key": "app", "Value": "web"}])
    listed = api("ListTagResources", ResourceType="vservergroup", ResourceId=[group])
    rows = listed["TagResources"]["TagResource"]
    assert [(r["ResourceId"], r["ResourceType"], r["TagKey"], r["TagValue"]) for r in rows] == [
        (group, "vservergroup", "app", "web"), (group, "vservergroup", "env", "prod")]
    seen = api("DescribeVServerGroupAttribute", VServerGroupId=group)
    assert {t["TagKey"] for t in seen["Tags"]["Tag"]} == {"app", "env"}
    api("UntagResources", ResourceType="vservergroup", ResourceId=[group], TagKey=["app"])
    rows = api("ListTagResources", ResourceType="vservergroup")["TagResources"]["TagResource"]
    assert [(r["TagKey"], r["TagValue"]) for r in rows] == [("env", "prod")]
    # The load balancer's own tags are apart.
    assert api("ListTagResources", ResourceType="instance")["TagResources"]["TagResource"] == []
    theirs = Api("v3", server, other_account)
    expect_failure(lambda: theirs("TagResources", ResourceType="vservergroup", ResourceId=[group],
                                  Tag=[{"Key": "x", "Value": "y"}]),
                   "InvalidResourceId.NotFound")


def test_acls_and_master_slave_groups_are_tagged(server, account):
    import json
    api = Api("v3", server, account)
    acl = api("CreateAccessControlList", AclName="office",
              Tag=[{"Key": "team", "Value": "edge"}])["AclId"]
    api("TagResources", ResourceType="acl", ResourceId=[acl], Tag=[{"Key": "env", "Value": "prod"}])
    rows = api("ListTagResources", ResourceType="acl")["TagResources"]["TagResource"]
    assert [(r["ResourceId"], r["ResourceType"], r["TagKey"]) for r in rows] == [
        (acl, "acl", "env"), (acl, "acl", "team")]
    api("UntagResources", ResourceType="acl", ResourceId=[acl], TagKey=["team"])
    seen = api("DescribeAccessControlListAttribute", AclId=acl)
    assert seen["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "prod"}]
    expect_failure(lambda: api("TagResources", ResourceType="acl", ResourceId=[acl, "acl-none"],
                               Tag=[{"Key": "x", "Value": "y"}]), "InvalidResourceId.NotFound")
    assert len(api("ListTagResources", ResourceType="acl")["TagResources"]["TagResource"]) == 1

    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    servers = json.dumps([{"ServerId": "i-a", "Port": 80, "ServerType": "Master"},
                          {"ServerId": "i-b", "Port": 80, "ServerType": "Slave"}])
    group = api("CreateMasterSlaveServerGroup", LoadBalancerId=lb,
                MasterSlaveBackendServers=servers)["MasterSlaveServerGroupId"]
    api("TagResources", ResourceType="masterslaveservergroup", ResourceId=[group],
        Tag=[{"Key": "tier", "Value": "db"}])
    rows = api("ListTagResources", ResourceType="masterslaveservergroup",
               ResourceId=[group])["TagResources"]["TagResource"]
    assert [(r["ResourceId"], r["TagKey"], r["TagValue"]) for r in rows] == [(group, "tier", "db")]
