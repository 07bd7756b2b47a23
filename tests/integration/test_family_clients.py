"""The call sequences of Terraform's alicloud provider, the Kubernetes cloud controller manager
and Ansible's footmark for the families of issue 22, replayed on the wire as each client sends
them (slb-families.md, slb-listeners.md §9): Terraform's tea-rpc (form body, Format=json) and
go-sdk (all in the URL, an empty SignatureType), the controller's go-sdk, and footmark's
aliyun-python-sdk-slb request classes. Each answer is read the way that client reads it."""

import json

from slb import Api
from test_terraform import go, ok, tea  # noqa: F401 (fixtures)


def failed(result, code):
    status, body = result
    assert status >= 400 and body["Code"] == code, body
    return body


def test_terraform_acl_with_entries_and_an_entry_attachment(tea):
    """alicloud_slb_acl (entry_list of 120, added in slices of 50) and
    alicloud_slb_acl_entry_attachment, then delete while bound (AclInUsed, retried)."""
    acl = ok(tea.call("CreateAccessControlList", {"AclName": "tf-acl", "AddressIPVersion": "ipv4",
                                                  "ResourceGroupId": "rg-tf"}))["AclId"]
    ok(tea.call("TagResources", {"ResourceType": "acl", "ResourceId.1": acl,
                                 "Tag.1.Key": "managed", "Tag.1.Value": "tf"}))
    wanted = [{"entry": f"10.{n // 256}.{n % 256}.0/24", "comment": f"e{n}"} for n in range(120)]
    for start in range(0, len(wanted), 50):
        ok(tea.call("AddAccessControlListEntry",
                    {"AclId": acl, "AclEntrys": json.dumps(wanted[start:start + 50])}))
    read = ok(tea.call("DescribeAccessControlListAttribute", {"AclId": acl}))
    assert (read["AclName"], read["AddressIPVersion"], read["ResourceGroupId"]) == \
        ("tf-acl", "ipv4", "rg-tf")
    entries = read["AclEntrys"]["AclEntry"]
    assert {(e["AclEntryIP"], e["AclEntryComment"]) for e in entries} == \
        {(e["entry"], e["comment"]) for e in wanted}
    assert read["Tags"]["Tag"] == [{"TagKey": "managed", "TagValue": "tf"}]

    # alicloud_slb_acl_entry_attachment: one entry, read back through the attribute.
    ok(tea.call("AddAccessControlListEntry", {"AclId": acl, "AclEntrys": json.dumps(
        [{"entry": "192.168.0.0/16", "comment": "vpn"}])}))
    read = ok(tea.call("DescribeAccessControlListAttribute", {"AclId": acl}))
    assert {"AclEntryIP": "192.168.0.0/16", "AclEntryComment": "vpn"} in read["AclEntrys"]["AclEntry"]
    ok(tea.call("RemoveAccessControlListEntry", {"AclId": acl, "AclEntrys": json.dumps(
        [{"entry": "192.168.0.0/16"}])}))
    assert ok(tea.call("DescribeAccessControlListAttribute", {"AclId": acl}))["TotalAclEntry"] == 120

    # A listener binds it; Delete answers AclInUsed (tf retries) until it is unbound.
    lb = ok(tea.call("CreateLoadBalancer", {}))["LoadBalancerId"]
    ok(tea.call("CreateLoadBalancerTCPListener", {
        "LoadBalancerId": lb, "ListenerPort": "22", "BackendServerPort": "22", "Bandwidth": "-1",
        "AclStatus": "on", "AclType": "white", "AclId": acl}))
    failed(tea.call("DeleteAccessControlList", {"AclId": acl}), "AclInUsed")
    related = ok(tea.call("DescribeAccessControlListAttribute", {"AclId": acl}))
    assert related["RelatedListeners"]["RelatedListener"] == [
        {"LoadBalancerId": lb, "ListenerPort": 22, "Protocol": "tcp", "AclType": "white"}]
    ok(tea.call("SetLoadBalancerTCPListenerAttribute", {"LoadBalancerId": lb, "ListenerPort": "22",
                                                        "AclStatus": "off"}))
    ok(tea.call("DeleteAccessControlList", {"AclId": acl}))
    # Read after delete: AclNotExist removes it from the state.
    failed(tea.call("DescribeAccessControlListAttribute", {"AclId": acl}), "AclNotExist")


def test_terraform_rule_with_single_quoted_lists(go):
    """alicloud_slb_rule as the go-sdk provider sends it: single-quoted pseudo-JSON."""
    lb = ok(go.call("CreateLoadBalancer", {}))["LoadBalancerId"]
    ok(go.call("CreateLoadBalancerHTTPListener", {"LoadBalancerId": lb, "ListenerPort": "80",
                                                  "BackendServerPort": "80", "Bandwidth": "-1",
                                                  "StickySession": "off", "HealthCheck": "off"}))
    group = ok(go.call("CreateVServerGroup", {"LoadBalancerId": lb, "VServerGroupName": "tf-img",
                                              "BackendServers": "[]"}))["VServerGroupId"]
    created = ok(go.call("CreateRules", {
        "LoadBalancerId": lb, "ListenerPort": "80",
        "RuleList": f"[{{'RuleName':'tf-rule','Domain':'*.example.com','Url':'/img',"
                    f"'VServerGroupId':'{group}'}}]"}))
    rule = created["Rules"]["Rule"][0]["RuleId"]
    # Read: DescribeRuleAttribute, ListenerPort as a string tf Atoi's.
    read = ok(go.call("DescribeRuleAttribute", {"RuleId": rule}))
    assert (read["RuleName"], read["Domain"], read["Url"], read["VServerGroupId"]) == \
        ("tf-rule", "*.example.com", "/img", group)
    assert int(read["ListenerPort"]) == 80 and read["LoadBalancerId"] == lb
    # Update: SetRule with the listener's own settings off.
    ok(go.call("SetRule", {"RuleId": rule, "ListenerSync": "off", "Scheduler": "rr",
                           "StickySession": "off", "HealthCheck": "off"}))
    assert ok(go.call("DescribeRuleAttribute", {"RuleId": rule}))["Scheduler"] == "rr"
    # The group cannot go while the rule uses it (tf retries on RspoolVipExist).
    failed(go.call("DeleteVServerGroup", {"VServerGroupId": group}), "RspoolVipExist")
    ok(go.call("DeleteRules", {"RuleIds": f"['{rule}']"}))
    # Delete again: InvalidRuleId.NotFound, which tf ignores.
    failed(go.call("DeleteRules", {"RuleIds": f"['{rule}']"}), "InvalidRuleId.NotFound")
    ok(go.call("DeleteVServerGroup", {"VServerGroupId": group}))


def test_terraform_master_slave_group_and_tls_policy(tea):
    lb = ok(tea.call("CreateLoadBalancer", {}))["LoadBalancerId"]
    servers = [{"ServerId": "i-primary", "Port": "3306", "Weight": "100", "ServerType": "Master",
                "Type": "ecs"},
               {"ServerId": "i-standby", "Port": "3306", "Weight": "100", "ServerType": "Slave"}]
    created = ok(tea.call("CreateMasterSlaveServerGroup", {
        "LoadBalancerId": lb, "MasterSlaveServerGroupName": "tf-db",
        "MasterSlaveBackendServers": json.dumps(servers)}))
    group = created["MasterSlaveServerGroupId"]
    read = ok(tea.call("DescribeMasterSlaveServerGroupAttribute",
                       {"MasterSlaveServerGroupId": group}))
    assert read["MasterSlaveServerGroupName"] == "tf-db" and read["LoadBalancerId"] == lb
    assert [(s["ServerId"], s["Port"], s["ServerType"])
            for s in read["MasterSlaveBackendServers"]["MasterSlaveBackendServer"]] == \
        [("i-primary", 3306, "Master"), ("i-standby", 3306, "Slave")]
    ok(tea.call("CreateLoadBalancerTCPListener", {
        "LoadBalancerId": lb, "ListenerPort": "3306", "BackendServerPort": "3306",
        "Bandwidth": "-1", "MasterSlaveServerGroupId": group}))
    failed(tea.call("DeleteMasterSlaveServerGroup", {"MasterSlaveServerGroupId": group}),
           "RspoolVipExist")
    ok(tea.call("SetLoadBalancerTCPListenerAttribute", {
        "LoadBalancerId": lb, "ListenerPort": "3306", "MasterSlaveServerGroup": "off"}))
    ok(tea.call("DeleteMasterSlaveServerGroup", {"MasterSlaveServerGroupId": group}))
    # Gone: tf reads InvalidParameter / "does not exist" as deleted.
    gone = failed(tea.call("DeleteMasterSlaveServerGroup", {"MasterSlaveServerGroupId": group}),
                  "InvalidParameter")
    assert "The specified MasterSlaveGroupId does not exist" in gone["Message"]

    # alicloud_slb_tls_cipher_policy: TLSVersions.N and Ciphers.N.
    policy = ok(tea.call("CreateTLSCipherPolicy", {
        "TLSCipherPolicyName": "ignored", "Name": "tf-policy", "TLSVersions.1": "TLSv1.2",
        "TLSVersions.2": "TLSv1.3", "Ciphers.1": "ECDHE-RSA-AES128-GCM-SHA256",
        "Ciphers.2": "TLS_AES_128_GCM_SHA256"}))["TLSCipherPolicyId"]
    listed = ok(tea.call("ListTLSCipherPolicies", {"TLSCipherPolicyId": policy}))
    item = listed["TLSCipherPolicies"][0]
    assert (item["InstanceId"], item["Name"], item["Status"]) == (policy, "tf-policy", "normal")
    assert item["TLSVersions"] == ["TLSv1.2", "TLSv1.3"]
    ok(tea.call("SetTLSCipherPolicyAttribute", {
        "TLSCipherPolicyId": policy, "Name": "tf-policy-2", "TLSVersions.1": "TLSv1.2",
        "Ciphers.1": "ECDHE-RSA-AES256-GCM-SHA384"}))
    item = ok(tea.call("ListTLSCipherPolicies", {"TLSCipherPolicyId": policy}))["TLSCipherPolicies"][0]
    assert (item["Name"], item["Ciphers"]) == ("tf-policy-2", ["ECDHE-RSA-AES256-GCM-SHA384"])
    ok(tea.call("DeleteTLSCipherPolicy", {"TLSCipherPolicyId": policy}))
    assert ok(tea.call("ListTLSCipherPolicies", {"TLSCipherPolicyId": policy}))[
        "TLSCipherPolicies"] == []


def test_terraform_load_balancer_changes_in_place(tea):
    """alicloud_slb_load_balancer updates: bandwidth, charge types, modification protection."""
    lb = ok(tea.call("CreateLoadBalancer", {"AddressType": "internet",
                                            "InternetChargeType": "paybytraffic"}))["LoadBalancerId"]
    ok(tea.call("ModifyLoadBalancerInternetSpec", {"LoadBalancerId": lb,
                                                   "InternetChargeType": "paybybandwidth",
                                                   "Bandwidth": "20"}))
    # Pay-by-CLCU instances pay by traffic, whatever the bandwidth was.
    ok(tea.call("ModifyLoadBalancerInstanceChargeType", {"LoadBalancerId": lb,
                                                         "InstanceChargeType": "PayByCLCU"}))
    ok(tea.call("SetLoadBalancerModificationProtection", {
        "LoadBalancerId": lb, "ModificationProtectionStatus": "ConsoleProtection",
        "ModificationProtectionReason": "managed-by-terraform"}))
    read = ok(tea.call("DescribeLoadBalancerAttribute", {"LoadBalancerId": lb}))
    assert (read["InternetChargeType"], read["Bandwidth"], read["InstanceChargeType"]) == \
        ("paybytraffic", 20, "PayByCLCU")
    assert (read["ModificationProtectionStatus"], read["ModificationProtectionReason"]) == \
        ("ConsoleProtection", "managed-by-terraform")
    # The data source alicloud_slb_zones.
    zones = ok(tea.call("DescribeAvailableResource", {"AddressType": "classic_internet",
                                                      "AddressIPVersion": "ipv4"}))
    assert zones["AvailableResources"]["AvailableResource"]


def test_cloud_controller_protected_load_balancer_with_an_acl(go):
    """The controller makes every load balancer ConsoleProtection, then listeners with
    AclStatus/AclType/AclId from annotations, then changes bandwidth and ACLs in place."""
    acl = ok(go.call("CreateAccessControlList", {"AclName": "k8s-office"}))["AclId"]
    lb = ok(go.call("CreateLoadBalancer", {
        "LoadBalancerName": "k8s-svc", "AddressType": "internet", "LoadBalancerSpec": "slb.s1.small",
        "ModificationProtectionStatus": "ConsoleProtection",
        "ModificationProtectionReason": "managed.by.ack"}))["LoadBalancerId"]
    ok(go.call("CreateLoadBalancerTCPListener", {
        "LoadBalancerId": lb, "ListenerPort": "443", "BackendServerPort": "30443",
        "Bandwidth": "-1", "AclStatus": "on", "AclType": "white", "AclId": acl}))
    ok(go.call("StartLoadBalancerListener", {"LoadBalancerId": lb, "ListenerPort": "443",
                                             "ListenerProtocol": "tcp"}))
    listeners = ok(go.call("DescribeLoadBalancerListeners", {"LoadBalancerId.1": lb,
                                                             "MaxResults": "50"}))
    item = listeners["Listeners"][0]
    assert (item["AclStatus"], item["AclType"], item["AclId"], item["Status"]) == \
        ("on", "white", acl, "running")
    # Protection keeps the console out, not the API.
    ok(go.call("ModifyLoadBalancerInternetSpec", {"LoadBalancerId": lb, "Bandwidth": "50"}))
    ok(go.call("SetLoadBalancerTCPListenerAttribute", {
        "LoadBalancerId": lb, "ListenerPort": "443", "AclStatus": "on", "AclType": "black",
        "AclId": acl}))
    read = ok(go.call("DescribeLoadBalancerTCPListenerAttribute", {"LoadBalancerId": lb,
                                                                    "ListenerPort": "443"}))
    assert (read["AclStatus"], read["AclType"]) == ("on", "black")
    ok(go.call("SetLoadBalancerModificationProtection", {
        "LoadBalancerId": lb, "ModificationProtectionStatus": "NonProtection"}))
    assert ok(go.call("DescribeLoadBalancerAttribute", {"LoadBalancerId": lb}))[
        "ModificationProtectionStatus"] == "NonProtection"


def test_footmark_whitelist_and_group_backends(server, account):
    """Ansible's alicloud modules through footmark, which calls aliyun-python-sdk-slb's request
    classes: the legacy whitelist, ModifyVServerGroupBackendServers, the bandwidth."""
    api = Api("v1", server, account)
    lb = api("CreateLoadBalancer", AddressType="internet")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80,
        BackendServerPort=8080, Bandwidth=-1, StickySession="off", HealthCheck="off")
    api("SetListenerAccessControlStatus", LoadBalancerId=lb, ListenerPort=80,
        AccessControlStatus="open_white_list")
    api("AddListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=80,
        SourceItems="10.0.0.1,192.168.0.0/16")
    seen = api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert seen["AccessControlStatus"] == "open_white_list"
    assert set(seen["SourceItems"].split(",")) == {"10.0.0.1", "192.168.0.0/16"}
    api("RemoveListenerWhiteListItem", LoadBalancerId=lb, ListenerPort=80, SourceItems="10.0.0.1")
    seen = api("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert seen["SourceItems"] == "192.168.0.0/16"
    api("SetListenerAccessControlStatus", LoadBalancerId=lb, ListenerPort=80,
        AccessControlStatus="close")

    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="ansible",
                BackendServers=json.dumps([{"ServerId": "i-old", "Port": 80, "Weight": 100}]))
    group = group["VServerGroupId"]
    changed = api("ModifyVServerGroupBackendServers", VServerGroupId=group,
                  OldBackendServers=json.dumps([{"ServerId": "i-old", "Port": 80}]),
                  NewBackendServers=json.dumps([{"ServerId": "i-new", "Port": 8080,
                                                 "Weight": 50}]))
    assert [(s["ServerId"], s["Port"], s["Weight"])
            for s in changed["BackendServers"]["BackendServer"]] == [("i-new", 8080, 50)]
    api("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb, InternetChargeType="paybybandwidth",
        Bandwidth=10)
    read = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert (read["InternetChargeType"], read["Bandwidth"]) == ("paybybandwidth", 10)
