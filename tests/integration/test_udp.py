"""UDP listeners are served: datagrams reach a backend per client flow and its answers come
back from the listener's address; health checks send healthCheckReq and expect healthCheckExp;
access control lists filter datagrams; a master-slave group fails over."""

import json
import socket
import time

from backends import UdpEchoBackend
from slb import Api, backends
from test_data_plane import OFFSET, eventually, plane  # noqa: F401


def exchange(address, payload, source="127.0.0.1", timeout=1.0):
    """The answer to one datagram sent from `source`, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind((source, 0))
        client.settimeout(timeout)
        client.sendto(payload, address)
        try:
            answer, sender = client.recvfrom(65535)
        except socket.timeout:
            return None
        assert sender == address, "answers come from the listener's address"
        return answer


def test_datagrams_are_forwarded_and_answered(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    first, second = UdpEchoBackend("first"), UdpEchoBackend("second")
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 5300 + OFFSET)
    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="dns",
                BackendServers=json.dumps([
                    {"ServerId": "i-1", "ServerIp": "127.0.0.1", "Port": first.port},
                    {"ServerId": "i-2", "ServerIp": "127.0.0.1", "Port": second.port}]))
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=5300, Bandwidth=-1,
        VServerGroupId=group["VServerGroupId"], Scheduler="rr", HealthCheckSwitch="on",
        HealthCheckInterval=1, HealthyThreshold=2, UnhealthyThreshold=2,
        HealthCheckConnectTimeout=1, healthCheckReq="ping", healthCheckExp="pong")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=5300)

    def answered():
        answer = exchange(address, b"hello")
        assert answer in (b"first:hello", b"second:hello"), answer
        return answer

    eventually(answered, seconds=10.0)
    # One client is one flow: its datagrams stay with one backend.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(2)
        answers = set()
        for n in range(5):
            client.sendto(b"n%d" % n, address)
            answers.add(client.recvfrom(65535)[0].split(b":")[0])
        assert len(answers) == 1
    # Round robin gives new flows the other backend too.
    names = {exchange(address, b"x", timeout=2).split(b":")[0] for _ in range(6)}
    assert names == {b"first", b"second"}

    # A backend that stops answering its health check takes no new flows.
    second.stop()

    def only_first():
        for _ in range(4):
            assert exchange(address, b"y", timeout=2) == b"first:y"

    eventually(only_first, seconds=10.0)
    health = api("DescribeHealthStatus", LoadBalancerId=lb, ListenerPort=5300)
    states = {s["Port"]: s["ServerHealthStatus"]
              for s in health["BackendServers"]["BackendServer"]}
    assert states[second.port] == "abnormal" and states[first.port] == "normal"
    first.stop()


def test_access_control_lists_filter_datagrams(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    echo = UdpEchoBackend("echo")
    acl = api("CreateAccessControlList", AclName="udp")["AclId"]
    api("AddAccessControlListEntry", AclId=acl,
        AclEntrys=json.dumps([{"entry": "127.0.0.2/32", "comment": ""}]))
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 5400 + OFFSET)
    api("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=5400, Bandwidth=-1,
        BackendServerPort=echo.port, HealthCheckSwitch="off", AclStatus="on", AclType="white",
        AclId=acl)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=5400)
    def admitted():
        assert exchange(address, b"a", source="127.0.0.2") == b"echo:a"

    eventually(admitted, seconds=10.0)
    before = echo.received
    assert exchange(address, b"b", source="127.0.0.3", timeout=0.5) is None
    assert exchange(address, b"c", source="127.0.0.2") == b"echo:c"
    # The refused datagram never reached the backend.
    assert echo.received == before + 1
    echo.stop()
