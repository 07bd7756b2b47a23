"""Access control lists through both official SDKs, and enforced by running listeners: a white
list lets in only its blocks, a black list keeps them out, before any byte is proxied, and a
change applies within a second."""

import json
import re
import socket
import ssl

import pytest

from backends import EchoBackend
from conftest import V3, Server, expect_failure, UNVERIFIED_404
from slb import Api, backends
from test_data_plane import OFFSET, eventually, plane  # noqa: F401



@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def entries(*pairs):
    return json.dumps([{"entry": entry, "comment": comment} for entry, comment in pairs])


def attribute(api, acl):
    return api("DescribeAccessControlListAttribute", AclId=acl)


def test_lists_are_created_filled_renamed_and_deleted(api):
    acl = api("CreateAccessControlList", AclName="office-v4",
              Tag=[{"Key": "team", "Value": "edge"}])["AclId"]
    assert re.fullmatch(r"acl-[a-z0-9]{20}", acl)
    api("CreateAccessControlList", AclName="lab")
    expect_failure(lambda: api("CreateAccessControlList", AclName="lab"), "AclNameExist")
    expect_failure(lambda: api("CreateAccessControlList", AclName="no spaces"), "InvalidParameter")

    api("AddAccessControlListEntry", AclId=acl,
        AclEntrys=entries(("10.1.2.3/8", "office"), ("192.0.2.7", "vpn"), ("10.0.0.0/8", "again")))
    seen = attribute(api, acl)
    assert seen["AclName"] == "office-v4" and seen["AddressIPVersion"] == "ipv4"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", seen["CreateTime"])
    assert seen["TotalAclEntry"] == 2
    # Canonical blocks, each once, the first comment kept.
    assert seen["AclEntrys"]["AclEntry"] == [
        {"AclEntryIP": "10.0.0.0/8", "AclEntryComment": "office"},
        {"AclEntryIP": "192.0.2.7/32", "AclEntryComment": "vpn"},
    ]
    assert seen["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": "edge"}]
    assert seen["RelatedListeners"]["RelatedListener"] == []

    # Bad entries change nothing.
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=acl,
                               AclEntrys=entries(("10.0.0.0/8", "dup"))),
                   "InvalidParam.AclEntryExists")
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=acl,
                               AclEntrys=entries(("10.0.0.0/33", ""))), "AclEntryIllegal")
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=acl,
                               AclEntrys=entries(("2001:db8::/32", ""))), "IllegalEntry")
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=acl, AclEntrys="not json"),
                   "AclEntryIllegal")
    many = entries(*((f"10.{n}.0.0/16", "") for n in range(51)))
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=acl, AclEntrys=many),
                   "AclEntryExceedLimit")
    assert attribute(api, acl)["TotalAclEntry"] == 2

    # Old Terraform's single-quoted pseudo-JSON.
    api("AddAccessControlListEntry", AclId=acl,
        AclEntrys="[{'entry':'172.16.0.0/12','comment':'tf'}]")
    paged = api("DescribeAccessControlListAttribute", AclId=acl, Page=2, PageSize=2)
    assert paged["TotalAclEntry"] == 3
    assert [e["AclEntryIP"] for e in paged["AclEntrys"]["AclEntry"]] == ["172.16.0.0/12"]
    commented = api("DescribeAccessControlListAttribute", AclId=acl, AclEntryComment="vpn")
    assert [e["AclEntryIP"] for e in commented["AclEntrys"]["AclEntry"]] == ["192.0.2.7/32"]

    api("RemoveAccessControlListEntry", AclId=acl, AclEntrys=entries(("192.0.2.7/32", "")))
    expect_failure(lambda: api("RemoveAccessControlListEntry", AclId=acl,
                               AclEntrys=entries(("192.0.2.7/32", ""))), "AclEntryIllegal")
    assert attribute(api, acl)["TotalAclEntry"] == 2

    expect_failure(lambda: api("SetAccessControlListAttribute", AclId=acl, AclName="lab"),
                   "AclNameExist")
    api("SetAccessControlListAttribute", AclId=acl, AclName="office.renamed")
    listed = api("DescribeAccessControlLists", AclName="renamed")
    assert listed["TotalCount"] == 1 and listed["Count"] == 1
    assert listed["Acls"]["Acl"][0]["AclId"] == acl
    assert listed["Acls"]["Acl"][0]["AclName"] == "office.renamed"
    everything = api("DescribeAccessControlLists", PageSize=1, PageNumber=2)
    assert (everything["TotalCount"], everything["Count"], everything["PageSize"]) == (2, 1, 1)

    api("DeleteAccessControlList", AclId=acl)
    expect_failure(lambda: attribute(api, acl), "AclNotExist", status=UNVERIFIED_404)
    expect_failure(lambda: api("DeleteAccessControlList", AclId=acl), "AclNotExist", status=UNVERIFIED_404)


def test_ipv6_lists_take_ipv6_blocks(v3):
    acl = v3.call("CreateAccessControlList", AclName="v6", AddressIPVersion="ipv6")["AclId"]
    v3.call("AddAccessControlListEntry", AclId=acl, AclEntrys=entries(("2001:db8::1/32", "")))
    assert v3.call("DescribeAccessControlListAttribute", AclId=acl)["AclEntrys"]["AclEntry"] == [
        {"AclEntryIP": "2001:db8::/32", "AclEntryComment": ""}]
    expect_failure(lambda: v3.call("AddAccessControlListEntry", AclId=acl,
                                   AclEntrys=entries(("10.0.0.0/8", ""))), "IllegalEntry")


def test_listeners_name_only_existing_lists_and_a_named_list_stays(server, account,
                                                                   other_account):
    api = Api("v3", server, account)
    acl = api("CreateAccessControlList", AclName="office")["AclId"]
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    expect_failure(lambda: api("CreateLoadBalancerTCPListener", LoadBalancerId=lb,
                               ListenerPort=80, Bandwidth=-1, BackendServerPort=80,
                               AclStatus="on", AclType="white", AclId="acl-doesnotexist"),
                   "AclNotExist", status=UNVERIFIED_404)
    # Another account's list answers as a missing one, and cannot be bound.
    theirs = Api("v3", server, other_account)
    expect_failure(lambda: theirs("DescribeAccessControlListAttribute", AclId=acl),
                   "AclNotExist", status=UNVERIFIED_404)
    expect_failure(lambda: theirs("DeleteAccessControlList", AclId=acl), "AclNotExist",
                   status=UNVERIFIED_404)
    their_lb = theirs("CreateLoadBalancer")["LoadBalancerId"]
    expect_failure(lambda: theirs("CreateLoadBalancerTCPListener", LoadBalancerId=their_lb,
                                  ListenerPort=80, Bandwidth=-1, BackendServerPort=80,
                                  AclStatus="on", AclType="white", AclId=acl),
                   "AclNotExist", status=UNVERIFIED_404)
    assert theirs("DescribeAccessControlLists")["TotalCount"] == 0

    expect_failure(lambda: api("CreateLoadBalancerTCPListener", LoadBalancerId=lb,
                               ListenerPort=80, Bandwidth=-1, BackendServerPort=80,
                               AclStatus="on", AclId=acl), "MissingAclType")
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=80, AclStatus="on", AclType="black", AclId=acl)
    related = attribute(api, acl)["RelatedListeners"]["RelatedListener"]
    assert related == [{"LoadBalancerId": lb, "ListenerPort": 80, "Protocol": "tcp",
                        "AclType": "black"}]
    shown = api("DescribeLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert (shown["AclStatus"], shown["AclType"], shown["AclId"]) == ("on", "black", acl)
    expect_failure(lambda: api("DeleteAccessControlList", AclId=acl), "AclInUsed")
    # Unbound by another list, it can go.
    other = api("CreateAccessControlList", AclName="other")["AclId"]
    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=80, AclId=other)
    api("DeleteAccessControlList", AclId=acl)
    api("DeleteLoadBalancer", LoadBalancerId=lb)
    api("DeleteAccessControlList", AclId=other)


def test_the_quota_of_lists_per_region(tmp_path):
    server = Server(tmp_path, args=["--quota-acls", "2"]).start()
    try:
        v3 = V3(server, server.credentials)
        for name in ("a", "b"):
            v3.call("CreateAccessControlList", AclName=name)
        expect_failure(lambda: v3.call("CreateAccessControlList", AclName="c"),
                       "AclNumberOverLimit")
        other_region = V3(server, server.credentials, region="cn-beijing")
        other_region.call("CreateAccessControlList", AclName="c")
    finally:
        server.stop()


def echoed_from(source, address):
    """What the listener answers to `ping` from `source`; b"" when it closes at once."""
    with socket.create_connection(address, timeout=5, source_address=(source, 0)) as connection:
        try:
            connection.sendall(b"ping")
            return connection.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            return b""


def test_white_and_black_lists_filter_clients_live(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    echo = EchoBackend("echo")
    acl = api("CreateAccessControlList", AclName="office")["AclId"]
    api("AddAccessControlListEntry", AclId=acl, AclEntrys=entries(("127.0.0.2/32", "desk")))
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 7000 + OFFSET)
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=7000, Bandwidth=-1,
        BackendServerPort=echo.port, HealthCheckSwitch="off",
        AclStatus="on", AclType="white", AclId=acl)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=7000)

    def white():
        assert echoed_from("127.0.0.2", address) == b"echo:ping"
        assert echoed_from("127.0.0.3", address) == b""

    eventually(white, seconds=10.0)
    # The refused client never reached the backend: after a refused connection and an admitted
    # one, the backend accepted one more connection, not two.
    before = echo.accepted
    assert echoed_from("127.0.0.3", address) == b""
    assert echoed_from("127.0.0.2", address) == b"echo:ping"
    assert echo.accepted == before + 1

    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=7000,
        AclType="black")

    def black():
        assert echoed_from("127.0.0.2", address) == b""
        assert echoed_from("127.0.0.3", address) == b"echo:ping"

    eventually(black, seconds=1.0)
    # A change of the list itself applies as fast.
    api("AddAccessControlListEntry", AclId=acl, AclEntrys=entries(("127.0.0.3/32", "lab")))

    def both_out():
        assert echoed_from("127.0.0.3", address) == b""
        assert echoed_from("127.0.0.4", address) == b"echo:ping"

    eventually(both_out, seconds=1.0)
    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=7000,
        AclStatus="off")

    def open_to_all():
        assert echoed_from("127.0.0.3", address) == b"echo:ping"

    eventually(open_to_all, seconds=1.0)
    echo.stop()


def test_a_refused_client_gets_no_tls_handshake(plane):  # noqa: F811
    import certs
    api = Api("v3", plane, plane.credentials)
    key = certs.ec_key()
    cert = certs.make_cert(key, cn="www.example.com", sans=("www.example.com",))
    certificate = api("UploadServerCertificate", ServerCertificate=certs.cert_pem(cert),
                      PrivateKey=certs.key_pem(key))["ServerCertificateId"]
    acl = api("CreateAccessControlList", AclName="blocked")["AclId"]
    api("AddAccessControlListEntry", AclId=acl, AclEntrys=entries(("127.0.0.5/32", "")))
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 443 + OFFSET)
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=9, HealthCheck="off", ServerCertificateId=certificate,
        AclStatus="on", AclType="black", AclId=acl)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    def handshake(source):
        with socket.create_connection(address, timeout=5, source_address=(source, 0)) as raw:
            with context.wrap_socket(raw, server_hostname="www.example.com") as tls:
                return tls.version()

    assert eventually(lambda: handshake("127.0.0.6"), seconds=10.0).startswith("TLS")
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        handshake("127.0.0.5")


def test_the_legacy_whitelist_through_both_sdks(api):
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=80)
    seen = api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert (seen["AccessControlStatus"], seen["SourceItems"]) == ("close", "")
    api("SetListenerAccessControlStatus", LoadBalancerId=lb, ListenerPort=80,
        AccessControlStatus="open_white_list")
    api("AddListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=80,
        SourceItems="192.0.2.1, 10.1.0.0/16,192.0.2.1")
    for everyone in ("0.0.0.0", "0.0.0.0/0"):
        expect_failure(lambda: api("AddListenerWhiteListItem", LoadBalancerId=lb,
                                   ListenerPort=80, SourceItems=everyone), "InvalidParameter")
    expect_failure(lambda: api("AddListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=80,
                               SourceItems="10.0.0.300"), "InvalidParameter")
    seen = api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert (seen["AccessControlStatus"], seen["SourceItems"]) == \
        ("open_white_list", "192.0.2.1,10.1.0.0/16")
    api("RemoveListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=80,
        SourceItems="192.0.2.1")
    seen = api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert seen["SourceItems"] == "10.1.0.0/16"
    expect_failure(lambda: api("SetListenerAccessControlStatus", LoadBalancerId=lb,
                               ListenerPort=80, AccessControlStatus="open"), "InvalidParameter")
    expect_failure(lambda: api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb,
                               ListenerPort=81), "ListenerNotFound", status=404)


def test_the_legacy_whitelist_is_enforced(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    echo = EchoBackend("echo")
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 7100 + OFFSET)
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=7100, Bandwidth=-1,
        BackendServerPort=echo.port, HealthCheckSwitch="off")
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("AddListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=7100,
        SourceItems="127.0.0.2")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=7100)

    def everyone():
        assert echoed_from("127.0.0.3", address) == b"echo:ping"

    # Listed items matter only while the whitelist is open.
    eventually(everyone, seconds=10.0)
    api("SetListenerAccessControlStatus", LoadBalancerId=lb, ListenerPort=7100,
        AccessControlStatus="open_white_list")

    def listed_only():
        assert echoed_from("127.0.0.2", address) == b"echo:ping"
        assert echoed_from("127.0.0.3", address) == b""

    eventually(listed_only, seconds=1.0)
    api("SetListenerAccessControlStatus", LoadBalancerId=lb, ListenerPort=7100,
        AccessControlStatus="close")
    eventually(everyone, seconds=1.0)
    echo.stop()
