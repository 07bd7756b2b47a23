"""Primary/secondary ("master-slave") server groups through both official SDKs, and failover on
a running TCP listener: the master takes the traffic while it is healthy, the slave once
health checks fail the master."""

import json
import socket

import pytest

from backends import EchoBackend
from conftest import expect_failure
from slb import Api
from test_data_plane import OFFSET, eventually, plane  # noqa: F401


@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def pair(master_port=80, slave_port=80, master_ip=None, slave_ip=None):
    master = {"ServerId": "i-master", "Port": str(master_port), "Weight": "100",
              "ServerType": "Master", "Type": "ecs"}
    slave = {"ServerId": "i-slave", "Port": slave_port, "ServerType": "Slave"}
    if master_ip:
        master["ServerIp"], slave["ServerIp"] = master_ip, slave_ip
    return json.dumps([master, slave])


def test_groups_are_created_described_used_and_deleted(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    created = api("CreateMasterSlaveServerGroup", LoadBalancerId=lb,
                  MasterSlaveServerGroupName="pair", MasterSlaveBackendServers=pair())
    group = created["MasterSlaveServerGroupId"]
    servers = created["MasterSlaveBackendServers"]["MasterSlaveBackendServer"]
    assert [(s["ServerId"], s["ServerType"], s["Port"]) for s in servers] == \
        [("i-master", "Master", 80), ("i-slave", "Slave", 80)]
    if api.kind == "v1":
        # Older Terraform reads IsBackup; the V3 model has no such field and drops it.
        assert [s["IsBackup"] for s in servers] == [0, 1]
    for bad in (json.dumps([{"ServerId": "i-a", "Port": 80}]),
                json.dumps([{"ServerId": "i-a", "Port": 80}, {"ServerId": "i-b", "Port": 80}]),
                json.dumps([{"ServerId": "i-a", "Port": 80, "ServerType": "Backup"},
                            {"ServerId": "i-b", "Port": 80, "ServerType": "Slave"}])):
        expect_failure(lambda: api("CreateMasterSlaveServerGroup", LoadBalancerId=lb,
                                   MasterSlaveBackendServers=bad), "InvalidParameter")

    seen = api("DescribeMasterSlaveServerGroupAttribute", MasterSlaveServerGroupId=group)
    assert (seen["MasterSlaveServerGroupName"], seen["LoadBalancerId"]) == ("pair", lb)
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=80, MasterSlaveServerGroupId=group)
    listed = api("DescribeMasterSlaveServerGroups", LoadBalancerId=lb, IncludeListener=True)
    item = listed["MasterSlaveServerGroups"]["MasterSlaveServerGroup"][0]
    assert item["MasterSlaveServerGroupId"] == group
    assert item["AssociatedObjects"]["Listeners"]["Listener"] == [{"Port": 80, "Protocol": "tcp"}]
    expect_failure(lambda: api("DeleteMasterSlaveServerGroup", MasterSlaveServerGroupId=group),
                   "RspoolVipExist")

    # A listener takes one kind of group; an unknown one is refused.
    vsg = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="web",
              BackendServers=json.dumps([{"ServerId": "i-w", "Port": 81}]))["VServerGroupId"]
    expect_failure(lambda: api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=80, VServerGroupId=vsg),
                   "Abs.VServerGroupIdAndMasterSlaveServerGroupId.MissMatch")
    expect_failure(lambda: api("CreateLoadBalancerTCPListener", LoadBalancerId=lb,
                               ListenerPort=81, Bandwidth=-1,
                               MasterSlaveServerGroupId="rsp-missing"),
                   "InvalidParameter", contains="MasterSlaveGroupId does not exist")
    # MasterSlaveServerGroup=off unbinds it.
    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=80,
        MasterSlaveServerGroup="off")
    shown = api("DescribeLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert "MasterSlaveServerGroupId" not in shown
    api("DeleteMasterSlaveServerGroup", MasterSlaveServerGroupId=group)
    expect_failure(lambda: api("DescribeMasterSlaveServerGroupAttribute",
                               MasterSlaveServerGroupId=group),
                   "InvalidParameter", contains="MasterSlaveGroupId does not exist")


def test_another_account_cannot_see_a_group(server, account, other_account):
    mine = Api("v3", server, account)
    lb = mine("CreateLoadBalancer")["LoadBalancerId"]
    group = mine("CreateMasterSlaveServerGroup", LoadBalancerId=lb,
                 MasterSlaveBackendServers=pair())["MasterSlaveServerGroupId"]
    theirs = Api("v3", server, other_account)
    for action in ("DescribeMasterSlaveServerGroupAttribute", "DeleteMasterSlaveServerGroup"):
        expect_failure(lambda: theirs(action, MasterSlaveServerGroupId=group),
                       "InvalidParameter", contains="does not exist")
    assert mine("DescribeMasterSlaveServerGroupAttribute",
                MasterSlaveServerGroupId=group)["LoadBalancerId"] == lb


def test_the_slave_takes_over_when_the_master_fails(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    master, slave = EchoBackend("master"), EchoBackend("slave")
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 7200 + OFFSET)
    group = api("CreateMasterSlaveServerGroup", LoadBalancerId=lb, MasterSlaveBackendServers=pair(
        master.port, slave.port, "127.0.0.1", "127.0.0.1"))["MasterSlaveServerGroupId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=7200, Bandwidth=-1,
        MasterSlaveServerGroupId=group, HealthCheckSwitch="on", HealthCheckInterval=1,
        HealthyThreshold=2, UnhealthyThreshold=2, HealthCheckConnectTimeout=1)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=7200)

    def answer():
        with socket.create_connection(address, timeout=5) as connection:
            connection.sendall(b"ping")
            return connection.recv(100)

    def served_by(name):
        def check():
            assert answer() == name + b":ping"
        return check

    eventually(served_by(b"master"), seconds=10.0)
    for _ in range(5):
        assert answer() == b"master:ping"
    master.stop()
    eventually(served_by(b"slave"), seconds=10.0)
    slave.stop()
