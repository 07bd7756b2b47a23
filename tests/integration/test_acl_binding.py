"""The rules on the lists one listener uses together: of the load balancer's IP version, no
entry in two of them, at most 1,000 entries across them, a list bound to at most 50
listeners; each refusal changes nothing, whether it comes from binding or from adding entries."""

import json

from conftest import Server, expect_failure
from slb import Api


def entries(blocks):
    return json.dumps([{"entry": block, "comment": ""} for block in blocks])


def tcp(api, lb, port, acl_ids, **extra):
    return api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=port, Bandwidth=-1,
               BackendServerPort=port, AclStatus="on", AclType="black", AclId=acl_ids, **extra)


def acl_of(api, lb, port):
    return api("DescribeLoadBalancerTCPListenerAttribute", LoadBalancerId=lb,
               ListenerPort=port).get("AclId", "")


def test_a_listeners_lists_share_no_entry_and_match_its_ip_version(server, account):
    api = Api("v3", server, account)
    office = api("CreateAccessControlList", AclName="office")["AclId"]
    lab = api("CreateAccessControlList", AclName="lab")["AclId"]
    six = api("CreateAccessControlList", AclName="six", AddressIPVersion="ipv6")["AclId"]
    api("AddAccessControlListEntry", AclId=office, AclEntrys=entries(["10.0.0.0/8"]))
    api("AddAccessControlListEntry", AclId=lab, AclEntrys=entries(["10.0.0.0/8", "192.0.2.0/24"]))
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    failure = expect_failure(lambda: tcp(api, lb, 80, f"{office},{lab}"),
                             "InvalidParam.AclEntryExists")
    assert "10.0.0.0/8" in failure.message
    expect_failure(lambda: tcp(api, lb, 80, six), "InvalidParameter", contains="ipv6")
    assert api("DescribeLoadBalancerListeners", LoadBalancerId=[lb])["TotalCount"] == 0

    # Bound apart, then an entry that the other list holds may not join.
    api("RemoveAccessControlListEntry", AclId=lab, AclEntrys=entries(["10.0.0.0/8"]))
    tcp(api, lb, 80, f"{office},{lab}")
    expect_failure(lambda: api("AddAccessControlListEntry", AclId=lab,
                               AclEntrys=entries(["10.0.0.0/8"])), "InvalidParam.AclEntryExists")
    assert api("DescribeAccessControlListAttribute", AclId=lab)["TotalAclEntry"] == 1
    # A list no listener shares with `office` takes it.
    spare = api("CreateAccessControlList", AclName="spare")["AclId"]
    api("AddAccessControlListEntry", AclId=spare, AclEntrys=entries(["10.0.0.0/8"]))
    # Set may not bring the two together either.
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=81, Bandwidth=-1,
        BackendServerPort=81)
    expect_failure(lambda: api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb,
                               ListenerPort=81, AclStatus="on", AclType="white",
                               AclId=f"{office},{spare}"), "InvalidParam.AclEntryExists")
    assert acl_of(api, lb, 81) == ""


def test_at_most_1000_entries_across_a_listeners_lists(tmp_path):
    server = Server(tmp_path, args=["--max-acl-entries", "600"]).start()
    try:
        api = Api("v3", server, server.credentials)
        big, small = (api("CreateAccessControlList", AclName=name)["AclId"]
                      for name in ("big", "small"))
        blocks = [f"10.{n // 256}.{n % 256}.0/24" for n in range(1000)]
        for start in range(0, 600, 50):
            api("AddAccessControlListEntry", AclId=big,
                AclEntrys=entries(blocks[start:start + 50]))
        for start in range(600, 1000, 50):
            api("AddAccessControlListEntry", AclId=small,
                AclEntrys=entries(blocks[start:start + 50]))
        lb = api("CreateLoadBalancer")["LoadBalancerId"]
        tcp(api, lb, 80, f"{big},{small}")  # exactly 1,000
        expect_failure(lambda: api("AddAccessControlListEntry", AclId=small,
                                   AclEntrys=entries(["172.16.0.0/12"])), "AclEntryExceedLimit")
        assert api("DescribeAccessControlListAttribute", AclId=small)["TotalAclEntry"] == 400
        api("RemoveAccessControlListEntry", AclId=small, AclEntrys=entries([blocks[999]]))
        third = api("CreateAccessControlList", AclName="third")["AclId"]
        api("AddAccessControlListEntry", AclId=third, AclEntrys=entries(["172.16.0.0/12",
                                                                       "192.168.0.0/16"]))
        expect_failure(lambda: api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb,
                                   ListenerPort=80, AclStatus="on", AclType="black",
                                   AclId=f"{big},{small},{third}"), "AclEntryExceedLimit")
        assert acl_of(api, lb, 80) == f"{big},{small}"
    finally:
        server.stop()


def test_a_list_serves_at_most_50_listeners(server, account):
    api = Api("v3", server, account)
    acl = api("CreateAccessControlList", AclName="shared")["AclId"]
    first, second = (api("CreateLoadBalancer")["LoadBalancerId"] for _ in range(2))
    for port in range(1, 41):
        tcp(api, first, port, acl)
    for port in range(1, 11):
        tcp(api, second, port, acl)
    expect_failure(lambda: tcp(api, second, 11, acl), "AclListenerOverLimit")
    related = api("DescribeAccessControlListAttribute", AclId=acl)["RelatedListeners"]
    assert len(related["RelatedListener"]) == 50
    # Set on a listener that already uses it is not one more.
    api("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=second, ListenerPort=10,
        AclStatus="on", AclType="white", AclId=acl)
    api("DeleteLoadBalancerListener", LoadBalancerId=first, ListenerPort=1)
    tcp(api, second, 11, acl)
