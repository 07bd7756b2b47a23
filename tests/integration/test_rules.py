"""Forwarding rules through both official SDKs, and routing by them on a running listener:
Host and path send requests to distinct VServer groups, SetRule moves traffic within a
second, and a request no rule matches goes to the listener's own backends."""

import json

import pytest

from backends import HttpBackend
from conftest import expect_failure
from slb import Api, backends
from test_data_plane import OFFSET, eventually, http_get, plane  # noqa: F401


@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def group(api, lb, name, port):
    servers = [{"ServerId": f"i-{name}", "ServerIp": "127.0.0.1", "Port": port}]
    return api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName=name,
               BackendServers=json.dumps(servers))["VServerGroupId"]


def http_listener(api, lb, port=80):
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=port, Bandwidth=-1,
        BackendServerPort=port, HealthCheck="off")


def test_rules_are_created_described_changed_and_deleted(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    http_listener(api, lb)
    images, static = group(api, lb, "images", 8001), group(api, lb, "static", 8002)
    created = api("CreateRules", LoadBalancerId=lb, ListenerPort=80, RuleList=json.dumps([
        {"RuleName": "img", "Domain": "*.Example.com", "Url": "/img", "VServerGroupId": images},
        {"RuleName": "static", "Url": "/static", "VServerGroupId": static},
    ]))["Rules"]["Rule"]
    assert [rule["RuleName"] for rule in created] == ["img", "static"]
    assert all(rule["RuleId"].startswith("rule-") for rule in created)
    img = created[0]["RuleId"]

    described = api("DescribeRules", LoadBalancerId=lb, ListenerPort=80)["Rules"]["Rule"]
    assert described[0]["Domain"] == "*.example.com" and described[0]["Url"] == "/img"
    assert described[0]["VServerGroupId"] == images and described[0]["ListenerSync"] == "on"
    assert "Domain" not in described[1]
    seen = api("DescribeRuleAttribute", RuleId=img)
    assert (seen["LoadBalancerId"], seen["ListenerPort"], seen["RuleName"]) == (lb, "80", "img")
    listener = api("DescribeLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb,
                   ListenerPort=80)
    assert [r["RuleId"] for r in listener["Rules"]["Rule"]] == [img, created[1]["RuleId"]]
    groups = api("DescribeVServerGroups", LoadBalancerId=lb, IncludeRule=True)
    used = {g["VServerGroupId"]: g["AssociatedObjects"]["Rules"]["Rule"]
            for g in groups["VServerGroups"]["VServerGroup"]}
    assert [r["RuleId"] for r in used[images]] == [img]

    # Refusals change nothing.
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                               RuleList=json.dumps([{"RuleName": "again", "Domain": "*.example.com",
                                                     "Url": "/img", "VServerGroupId": images}])),
                   "DomainExist")
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                               RuleList=json.dumps([{"RuleName": "x", "Url": "/x",
                                                     "VServerGroupId": "rsp-missing"}])),
                   "InvalidParameter", status=404)
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                               RuleList=json.dumps([{"RuleName": "bad", "Url": "/",
                                                     "VServerGroupId": images}])),
                   "InvalidParameter")
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                               RuleList=json.dumps([{"RuleName": "none",
                                                     "VServerGroupId": images}])),
                   "InvalidParameter")
    expect_failure(lambda: api("DeleteVServerGroup", VServerGroupId=images),
                   "RspoolVipExist")
    assert len(api("DescribeRules", LoadBalancerId=lb, ListenerPort=80)["Rules"]["Rule"]) == 2

    api("SetRule", RuleId=img, RuleName="pictures", VServerGroupId=static)
    expect_failure(lambda: api("SetRule", RuleId=img, ListenerSync="off"), "MissingScheduler")
    api("SetRule", RuleId=img, ListenerSync="off", Scheduler="rr", StickySession="off",
        HealthCheck="off")
    seen = api("DescribeRuleAttribute", RuleId=img)
    assert (seen["RuleName"], seen["VServerGroupId"], seen["Scheduler"]) == \
        ("pictures", static, "rr")

    # Old Terraform's single quotes; a missing rule is the code Terraform ignores.
    api("DeleteRules", RuleIds=f"['{img}']")
    expect_failure(lambda: api("DescribeRuleAttribute", RuleId=img), "InvalidRuleId.NotFound",
                   status=404)
    expect_failure(lambda: api("DeleteRules", RuleIds=json.dumps([img])),
                   "InvalidRuleId.NotFound", status=404)
    api("DeleteVServerGroup", VServerGroupId=images)


def test_rules_are_for_web_listeners_and_their_own_account(server, account, other_account):
    api = Api("v3", server, account)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=90, Bandwidth=-1,
        BackendServerPort=90)
    pool = group(api, lb, "tcp", 90)
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=90,
                               RuleList=json.dumps([{"RuleName": "r", "Url": "/a",
                                                     "VServerGroupId": pool}])),
                   "InvalidParameter")
    http_listener(api, lb)
    rule = api("CreateRules", LoadBalancerId=lb, ListenerPort=80, RuleList=json.dumps(
        [{"RuleName": "r", "Url": "/a", "VServerGroupId": pool}]))["Rules"]["Rule"][0]["RuleId"]
    theirs = Api("v3", server, other_account)
    expect_failure(lambda: theirs("DescribeRuleAttribute", RuleId=rule),
                   "InvalidRuleId.NotFound", status=404)
    expect_failure(lambda: theirs("DeleteRules", RuleIds=json.dumps([rule])),
                   "InvalidRuleId.NotFound", status=404)
    assert api("DescribeRuleAttribute", RuleId=rule)["RuleName"] == "r"


def test_requests_are_routed_by_host_and_path_and_set_rule_moves_them(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    default, images, shop = HttpBackend("default"), HttpBackend("images"), HttpBackend("shop")
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 80 + OFFSET)
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=default.port, HealthCheck="off")
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-d", "ServerIp": "127.0.0.1"}))
    images_group = group(api, lb, "images", images.port)
    shop_group = group(api, lb, "shop", shop.port)
    rules = api("CreateRules", LoadBalancerId=lb, ListenerPort=80, RuleList=json.dumps([
        {"RuleName": "images", "Url": "/images", "VServerGroupId": images_group},
        {"RuleName": "shop", "Domain": "shop.example.com", "VServerGroupId": shop_group},
    ]))["Rules"]["Rule"]
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)

    def served_by(host, path):
        status, _, body = http_get(address, host, path, tls=False)
        assert status == 200, (status, body)
        return json.loads(body)["backend"]

    assert eventually(lambda: served_by("www.example.com", "/")) == "default"
    assert served_by("www.example.com", "/images/a.png") == "images"
    assert served_by("shop.example.com", "/cart") == "shop"
    # The domain rule wins over the domain-less one.
    assert served_by("shop.example.com:80", "/images/a.png") == "shop"

    api("SetRule", RuleId=rules[0]["RuleId"], VServerGroupId=shop_group)

    def moved():
        assert served_by("www.example.com", "/images/a.png") == "shop"

    eventually(moved, seconds=1.0)
    api("DeleteRules", RuleIds=json.dumps([rule["RuleId"] for rule in rules]))

    def all_default():
        assert served_by("shop.example.com", "/images/a.png") == "default"

    eventually(all_default, seconds=1.0)
    for backend in (default, images, shop):
        backend.stop()


def test_dry_run_validates_and_changes_nothing(server, account):
    api = Api("v3", server, account)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    http_listener(api, lb)
    pool = group(api, lb, "web", 8080)
    rule_list = json.dumps([{"RuleName": "r", "Url": "/a", "VServerGroupId": pool}])
    failure = expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                                         RuleList=rule_list, DryRun=True), "DryRunOperation")
    assert "DryRun" in failure.message
    assert api("DescribeRules", LoadBalancerId=lb, ListenerPort=80)["Rules"]["Rule"] == []
    expect_failure(lambda: api("SetLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=80, Scheduler="rr", DryRun=True), "DryRunOperation")
    seen = api("DescribeLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert seen["Scheduler"] == "wrr"
    # A request that would fail answers its own error, dry run or not.
    expect_failure(lambda: api("SetLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=80, Scheduler="fastest", DryRun=True),
                   "InvalidParameter")
    rule = api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
               RuleList=rule_list)["Rules"]["Rule"][0]["RuleId"]
    expect_failure(lambda: api("SetRule", RuleId=rule, RuleName="renamed", DryRun=True),
                   "DryRunOperation")
    assert api("DescribeRuleAttribute", RuleId=rule)["RuleName"] == "r"


def test_a_listener_has_at_most_40_rules(server, account):
    api = Api("v3", server, account)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    http_listener(api, lb)
    pool = group(api, lb, "pool", 80)

    def batch(first, count):
        return json.dumps([{"RuleName": f"r{n}", "Url": f"/r{n}", "VServerGroupId": pool}
                           for n in range(first, first + count)])
    for first in range(0, 40, 10):
        api("CreateRules", LoadBalancerId=lb, ListenerPort=80, RuleList=batch(first, 10))
    expect_failure(lambda: api("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                               RuleList=batch(40, 1)), "OverQuota", contains="at most 40")
    assert len(api("DescribeRules", LoadBalancerId=lb, ListenerPort=80)["Rules"]["Rule"]) == 40
