"""Custom TLS cipher policies through both official SDKs, and on running HTTPS listeners: the
handshake offers exactly the policy's versions and ciphers, before and after a change; what
rustls cannot offer is refused when the policy is made."""

import socket
import ssl

import pytest

import certs
from conftest import expect_failure, UNVERIFIED_404
from slb import Api
from test_data_plane import OFFSET, eventually, plane, upload  # noqa: F401


@pytest.fixture(params=["v1", "v3"])
def api(request, server, account):
    return Api(request.param, server, account)


def create(api, name, versions, ciphers):
    if api.kind == "v1":
        return api("CreateTLSCipherPolicy", Name=name, TLSVersionss=versions, Cipherss=ciphers)
    return api("CreateTLSCipherPolicy", Name=name, TLSVersions=versions, Ciphers=ciphers)


def test_policies_are_created_listed_changed_and_deleted(api, server, account):
    policy = create(api, "modern", ["TLSv1.2", "TLSv1.3"],
                    ["ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"])["TLSCipherPolicyId"]
    assert policy.startswith("tls-")
    for versions, ciphers, says in [
        (["TLSv1.0"], ["ECDHE-RSA-AES128-SHA"], "TLS 1.2 and 1.3 only"),
        (["TLSv1.2"], ["AES128-SHA"], "rustls offers only"),
        (["TLSv1.2"], ["RC4-MD5"], "not a cipher SLB knows"),
        (["TLSv1.2", "TLSv1.3"], ["TLS_AES_128_GCM_SHA256"], "TLSv1.2 cipher"),
    ]:
        expect_failure(lambda: create(api, "bad", versions, ciphers), "InvalidParameter",
                       contains=says)
    expect_failure(lambda: create(api, "9starts-with-a-digit", ["TLSv1.2"],
                                  ["ECDHE-RSA-AES128-GCM-SHA256"]), "InvalidParameter")
    listed = api("ListTLSCipherPolicies", TLSCipherPolicyId=policy, IncludeListener=True)
    item = listed["TLSCipherPolicies"][0]
    assert (item["InstanceId"], item["Name"], item["TLSVersions"], item["Status"]) == \
        (policy, "modern", ["TLSv1.2", "TLSv1.3"], "normal")
    assert listed["TotalCount"] == 1 and listed["IsTruncated"] is False

    # A listener names it; then it stays until the listener names another.
    v3 = Api("v3", server, account)
    certificate = upload(v3, "www.example.com")
    lb = v3("CreateLoadBalancer")["LoadBalancerId"]
    v3("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
       BackendServerPort=80, HealthCheck="off", ServerCertificateId=certificate,
       TLSCipherPolicy=policy)
    shown = v3("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert shown["TLSCipherPolicy"] == policy
    related = api("ListTLSCipherPolicies", IncludeListener=True)["TLSCipherPolicies"][0]
    assert related["RelateListeners"] == [{"LoadBalancerId": lb, "Port": 443, "Protocol": "https"}]
    expect_failure(lambda: api("DeleteTLSCipherPolicy", TLSCipherPolicyId=policy),
                   "Operation.NotAllowed")
    expect_failure(lambda: v3("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
                              ListenerPort=443, TLSCipherPolicy="tls-doesnotexist"),
                   "TLSCipherPolicyId.NotFound", status=UNVERIFIED_404)
    v3("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
       TLSCipherPolicy="tls_cipher_policy_1_2")
    if api.kind == "v1":
        api("SetTLSCipherPolicyAttribute", TLSCipherPolicyId=policy, Name="renamed",
            TLSVersionss=["TLSv1.3"], Cipherss=["TLS_AES_256_GCM_SHA384"])
    else:
        api("SetTLSCipherPolicyAttribute", TLSCipherPolicyId=policy, Name="renamed",
            TLSVersions=["TLSv1.3"], Ciphers=["TLS_AES_256_GCM_SHA384"])
    item = api("ListTLSCipherPolicies", Name="renamed")["TLSCipherPolicies"][0]
    assert (item["TLSVersions"], item["Ciphers"]) == (["TLSv1.3"], ["TLS_AES_256_GCM_SHA384"])
    api("DeleteTLSCipherPolicy", TLSCipherPolicyId=policy)
    assert api("ListTLSCipherPolicies")["TotalCount"] == 0


def handshake(address, tls13, cipher=None):
    """The cipher agreed on, or the exception class of a refused handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    context.minimum_version = context.maximum_version = version
    if cipher:
        context.set_ciphers(cipher)
    try:
        with socket.create_connection(address, timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="www.example.com") as tls:
                return tls.cipher()[0]
    except (ssl.SSLError, ConnectionResetError) as error:
        return type(error)


def test_listeners_offer_exactly_the_policy(plane):  # noqa: F811
    api = Api("v3", plane, plane.credentials)
    policy = api("CreateTLSCipherPolicy", Name="narrow", TLSVersions=["TLSv1.2"],
                 Ciphers=["ECDHE-ECDSA-AES128-GCM-SHA256"])["TLSCipherPolicyId"]
    certificate = upload(api, "www.example.com", key=certs.ec_key())
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], (created["Address"], 443 + OFFSET)
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=9, HealthCheck="off", ServerCertificateId=certificate,
        TLSCipherPolicy=policy)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)

    def narrow():
        assert handshake(address, False) == "ECDHE-ECDSA-AES128-GCM-SHA256"

    eventually(narrow, seconds=10.0)
    assert handshake(address, False, "ECDHE-ECDSA-AES256-GCM-SHA384") is ssl.SSLError
    assert handshake(address, True) is ssl.SSLError

    api("SetTLSCipherPolicyAttribute", TLSCipherPolicyId=policy, Name="narrow",
        TLSVersions=["TLSv1.3"], Ciphers=["TLS_AES_256_GCM_SHA384"])

    def only_13():
        assert handshake(address, True) == "TLS_AES_256_GCM_SHA384"
        assert handshake(address, False) is ssl.SSLError

    eventually(only_13, seconds=1.0)
