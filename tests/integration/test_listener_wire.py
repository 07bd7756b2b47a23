"""The listener workflows of other tools, reproduced on the wire from slb-listeners.md §9:
Terraform's load balancer, HTTPS listener and domain extension (its listener calls always over
HTTPS, so against `serve --tls`), libcloud's GET + XML calls, and a certificate rotation the
way renewal tools (certimate, certd) run it."""

import json
import time
import xml.etree.ElementTree as ET

import pytest

import certs
from conftest import Server, V3, expect_failure, UNVERIFIED_404
from rawclient import RawClient
from slb import Api, upload_ca_certificate, upload_server_certificate


@pytest.fixture
def tls_server(tmp_path):
    server = Server(tmp_path, args=["--tls"]).start()
    yield server
    server.stop()


def go_sdk(raw, action, params):
    """terraform's CommonRequest through alibaba-cloud-sdk-go: V1, every parameter in the URL."""
    response = raw.v1(action, params, extra_common={"SignatureType": ""},
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    return response.status, response.json()


def tea_rpc(raw, action, params):
    """terraform's tea-rpc client: V1, API parameters in a form body."""
    response = raw.v1(action, params, body=True, fmt="json")
    return response.status, response.json()


def ok(result):
    status, body = result
    assert status == 200, body
    assert "Code" not in body  # certd treats any Code as a failure
    return body


@pytest.mark.parametrize("with_ca", [True, False], ids=["with-ca", "without-ca"])
def test_terraform_https_listener_and_domain_extension_over_tls(tls_server, with_ca):
    account = tls_server.credentials
    raw = RawClient(tls_server.port, account["AccessKeyId"], account["AccessKeySecret"],
                    ca_file=tls_server.ca_file)
    assert raw.base.startswith("https://")
    server_cert = upload_with(raw, "www.example.com")
    ca_cert = ok(go_sdk(raw, "UploadCACertificate", {"CACertificate": certs.cert_pem(
        certs.make_cert(certs.ec_key(), cn="Root", sans=(), ca=True))}))["CACertificateId"]

    # alicloud_slb_load_balancer (tea-rpc): create with a ClientToken, poll until active.
    token = "tf-token-0001"
    created = ok(tea_rpc(raw, "CreateLoadBalancer", {"LoadBalancerName": "tf-lb",
                                                      "ClientToken": token,
                                                      "LoadBalancerSpec": "slb.s2.small"}))
    lb = created["LoadBalancerId"]
    assert ok(tea_rpc(raw, "CreateLoadBalancer", {"LoadBalancerName": "tf-lb",
                                                   "ClientToken": token}))["LoadBalancerId"] == lb
    assert ok(tea_rpc(raw, "DescribeLoadBalancerAttribute",
                      {"LoadBalancerId": lb}))["LoadBalancerStatus"] == "active"
    ok(tea_rpc(raw, "TagResources", {"ResourceType": "instance", "ResourceId.1": lb,
                                     "Tag.1.Key": "Created", "Tag.1.Value": "TF"}))
    # SetLoadBalancerStatus without RegionId (terraform sends none).
    ok(raw_without_region(raw, "SetLoadBalancerStatus",
                          {"LoadBalancerId": lb, "LoadBalancerStatus": "active"}))
    tags = ok(tea_rpc(raw, "ListTagResources", {"ResourceType": "instance", "ResourceId.1": lb}))
    assert tags["TagResources"]["TagResource"][0]["TagKey"] == "Created"

    # alicloud_slb_listener, protocol https, with a CA certificate.
    ok(go_sdk(raw, "CreateLoadBalancerHTTPSListener", {
        "LoadBalancerId": lb, "ListenerPort": "443", "BackendServerPort": "80", "Bandwidth": "-1",
        "AclStatus": "off", "Scheduler": "wrr", "StickySession": "off", "HealthCheck": "on",
        "RequestTimeout": "60", "IdleTimeout": "15", "HealthCheckConnectPort": "80",
        "HealthyThreshold": "3", "UnhealthyThreshold": "3", "HealthCheckTimeout": "5",
        "HealthCheckInterval": "2", "HealthCheckHttpCode": "http_2xx",
        "ServerCertificateId": server_cert, **({"CACertificateId": ca_cert} if with_ca else {})}))
    read = ok(go_sdk(raw, "DescribeLoadBalancerHTTPSListenerAttribute",
                     {"LoadBalancerId": lb, "ListenerPort": "443"}))
    assert read["Status"] == "stopped" and read["ListenerPort"] == 443
    ok(go_sdk(raw, "StartLoadBalancerListener",
              {"LoadBalancerId": lb, "ListenerPort": "443", "ListenerProtocol": "https"}))
    # Update always issues the Set, with fields of other protocols (a shared request object)
    # that must be ignored, and the empty-named pair of its HTTP forwarding arguments, signed.
    ok(go_sdk(raw, "SetLoadBalancerHTTPSListenerAttribute", {
        "LoadBalancerId": lb, "ListenerPort": "443", "Bandwidth": "-1", "Scheduler": "wrr",
        "Gzip": "on", "ServerCertificateId": server_cert, "EnableHttp2": "on",
        "TLSCipherPolicy": "tls_cipher_policy_1_2",
        **({"CACertificateId": ca_cert} if with_ca else {}),
        "BackendServerPort": "80", "HealthCheckConnectTimeout": "5", "": "80"}))
    read = ok(go_sdk(raw, "DescribeLoadBalancerHTTPSListenerAttribute",
                     {"LoadBalancerId": lb, "ListenerPort": "443"}))
    assert read["Status"] == "running" and read["TLSCipherPolicy"] == "tls_cipher_policy_1_2"
    assert read.get("CACertificateId") == (ca_cert if with_ca else None)
    # What terraform's Read compares with its configuration's defaults, typed as it asserts.
    for name, value in {"HealthCheckURI": "/", "HealthCheckDomain": "", "Gzip": "on",
                        "StickySession": "off", "AclStatus": "off", "EnableHttp2": "on"}.items():
        assert read[name] == value, name
    for name in ("Bandwidth", "HealthyThreshold", "UnhealthyThreshold", "HealthCheckTimeout",
                 "HealthCheckInterval", "RequestTimeout", "IdleTimeout", "BackendServerPort"):
        assert isinstance(read[name], int), name
    # Read: the exact (port, protocol) entry terraform's parseListenerId looks for.
    attribute = ok(go_sdk(raw, "DescribeLoadBalancerAttribute", {"LoadBalancerId": lb}))
    assert {"ListenerPort": 443, "ListenerProtocol": "https"} in \
        attribute["ListenerPortsAndProtocol"]["ListenerPortAndProtocol"]

    # alicloud_slb_domain_extension.
    extension = ok(go_sdk(raw, "CreateDomainExtension", {
        "LoadBalancerId": lb, "ListenerPort": "443", "Domain": "www.example.com",
        "ServerCertificateId": server_cert}))["DomainExtensionId"]
    read = ok(go_sdk(raw, "DescribeDomainExtensionAttribute", {"DomainExtensionId": extension}))
    assert (read["DomainExtensionId"], read["ListenerPort"]) == (extension, 443)

    # Destroy in reverse order; the certificate's delete is retried while it is referred to.
    status, body = go_sdk(raw, "DeleteServerCertificate", {"ServerCertificateId": server_cert})
    assert (status, body["Code"]) == (400, "CertificateAndPrivateKeyIsRefered")
    status, body = go_sdk(raw, "DeleteCACertificate", {"CACertificateId": ca_cert})
    if with_ca:
        assert (status, body["Code"]) == (400, "CertificateAndPrivateKeyIsRefered")
    else:
        assert status == 200, body
    ok(go_sdk(raw, "DeleteDomainExtension", {"DomainExtensionId": extension}))
    status, body = go_sdk(raw, "DescribeDomainExtensionAttribute", {"DomainExtensionId": extension})
    assert body["Code"] == "InvalidParameter.DomainExtensionId"
    ok(go_sdk(raw, "DeleteLoadBalancerListener",
              {"LoadBalancerId": lb, "ListenerPort": "443", "ListenerProtocol": "https"}))
    status, body = go_sdk(raw, "DescribeLoadBalancerHTTPSListenerAttribute",
                          {"LoadBalancerId": lb, "ListenerPort": "443"})
    assert (status, body["Message"]) == (400, "The specified resource does not exist.")
    ok(go_sdk(raw, "DeleteServerCertificate", {"ServerCertificateId": server_cert}))
    if with_ca:
        ok(go_sdk(raw, "DeleteCACertificate", {"CACertificateId": ca_cert}))
    ok(tea_rpc(raw, "DeleteLoadBalancer", {"LoadBalancerId": lb}))
    status, body = tea_rpc(raw, "DescribeLoadBalancerAttribute", {"LoadBalancerId": lb})
    assert (status, body["Code"]) == (
        UNVERIFIED_404,
        "InvalidLoadBalancerId.NotFound")


def test_plain_http_is_not_answered_by_a_tls_server(tls_server):
    import requests
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_server.port}/healthz", timeout=5)
    # The local CA is made once, its key owner-only, and kept across restarts.
    ca = (tls_server.data_dir / "ca.pem").read_bytes()
    assert (tls_server.data_dir / "ca.key").stat().st_mode & 0o077 == 0
    tls_server.restart()
    assert (tls_server.data_dir / "ca.pem").read_bytes() == ca
    assert tls_server.health()[0] == 200


def upload_with(raw, cn):
    key = certs.rsa_key()
    cert = certs.make_cert(key, cn=cn, sans=(cn,))
    return ok(go_sdk(raw, "UploadServerCertificate", {
        "ServerCertificate": certs.cert_pem(cert), "PrivateKey": certs.key_pem(key)}))[
        "ServerCertificateId"]


def raw_without_region(raw, action, params):
    response = raw.v1(action, params, region=False)
    return response.status, response.json()


def xml(response):
    assert response.status == 200, response.text
    return ET.fromstring(response.text)


def test_libcloud_get_and_xml(server, account, raw):
    """libcloud's slb driver: GET, Format=XML, RegionId left out where it leaves it out."""
    def get(action, params, region=True):
        return raw.v1(action, params, method="GET", fmt="XML", region=region)

    root = xml(get("CreateLoadBalancer", {"LoadBalancerName": "balancer1", "AddressType": "internet"}))
    lb = root.findtext("LoadBalancerId")
    assert root.tag == "CreateLoadBalancerResponse" and root.findtext("Address")
    xml(get("AddBackendServers", {"LoadBalancerId": lb, "BackendServers": json.dumps(
        [{"ServerId": "i-23tshnsdq", "Weight": "100"}])}, region=False))
    xml(get("CreateLoadBalancerHTTPListener", {
        "LoadBalancerId": lb, "ListenerPort": "80", "BackendServerPort": "80", "Scheduler": "wrr",
        "Bandwidth": "-1", "StickySession": "off", "HealthCheck": "off"}))
    xml(get("StartLoadBalancerListener", {"LoadBalancerId": lb, "ListenerPort": "80"}, region=False))
    listed = xml(get("DescribeLoadBalancers", {}))
    item = listed.find("LoadBalancers/LoadBalancer")
    assert item.findtext("LoadBalancerId") == lb
    assert int(item.findtext("CreateTimeStamp")) > 0 and item.findtext("RegionIdAlias")
    attribute = xml(get("DescribeLoadBalancerAttribute", {"LoadBalancerId": lb}, region=False))
    assert attribute.findtext(
        "ListenerPortsAndProtocal/ListenerPortAndProtocal/ListenerProtocal") == "http"
    assert attribute.findtext(
        "ListenerPortsAndProtocol/ListenerPortAndProtocol/ListenerProtocol") == "http"
    assert attribute.findtext("BackendServers/BackendServer/ServerId") == "i-23tshnsdq"
    assert attribute.findtext("BackendServers/BackendServer/Weight") == "100"
    listeners = xml(get("DescribeLoadBalancerListeners", {"LoadBalancerId.1": lb}))
    # A bare array: the element repeats, once per listener.
    assert [e.findtext("ListenerPort") for e in listeners.findall("Listeners")] == ["80"]
    assert listeners.find("NextToken") is None
    xml(get("RemoveBackendServers", {"LoadBalancerId": lb,
                                     "BackendServers": json.dumps(["i-23tshnsdq"])}, region=False))
    xml(get("DeleteLoadBalancer", {"LoadBalancerId": lb}, region=False))
    error = raw.v1("DeleteLoadBalancer", {"LoadBalancerId": lb}, method="GET", fmt="XML")
    assert error.status == 404
    assert ET.fromstring(error.text).findtext("Code") == "InvalidLoadBalancerId.NotFound"


def test_certificate_rotation_as_renewal_tools_run_it(server, account):
    """certimate: upload new, find HTTPS listeners, point each listener and the domain
    extensions of its domain at the new certificate; then the old one can go."""
    tea = V3(server, account)
    api = Api("v3", server, account)
    old = upload_server_certificate(api, cn="www.example.com", sans=("www.example.com",))
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    for port in (443, 8443):
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=port,
            BackendServerPort=80, Bandwidth=-1, HealthCheck="on", ServerCertificateId=old)
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
    extension = api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443,
                    Domain="www.example.com", ServerCertificateId=old)["DomainExtensionId"]
    new = upload_server_certificate(api, cn="www.example.com", sans=("www.example.com",))

    listed = tea.call("DescribeLoadBalancerListeners", LoadBalancerId=[lb],
                      ListenerProtocol="https", MaxResults=100)
    ports = [listener["ListenerPort"] for listener in listed["Listeners"]]
    assert ports == [443, 8443]
    for port in ports:
        current = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
                      ListenerPort=port)
        if current["ServerCertificateId"] != new:
            api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=port,
                ServerCertificateId=new)
    # The old certificate is still named by the domain extension.
    expect_failure(lambda: api("DeleteServerCertificate", ServerCertificateId=old),
                   "CertificateAndPrivateKeyIsRefered")
    for entry in api("DescribeDomainExtensions", LoadBalancerId=lb,
                     ListenerPort=443)["DomainExtensions"]["DomainExtension"]:
        if entry["Domain"] == "www.example.com" and entry["ServerCertificateId"] != new:
            api("SetDomainExtensionAttribute", DomainExtensionId=entry["DomainExtensionId"],
                ServerCertificateId=new)
    assert api("DescribeDomainExtensionAttribute",
               DomainExtensionId=extension)["ServerCertificateId"] == new
    api("DeleteServerCertificate", ServerCertificateId=old)
    remaining = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert [c["ServerCertificateId"] for c in remaining] == [new]
    expect_failure(lambda: api("DeleteServerCertificate", ServerCertificateId=new),
                   "CertificateAndPrivateKeyIsRefered")


def test_certificate_coupling_refusals(server, account):
    api = Api("v1", server, account)
    server_cert = upload_server_certificate(api)
    ca_cert = upload_ca_certificate(api)
    lb = api("CreateLoadBalancer")["LoadBalancerId"]

    def https(certificate, **extra):
        return api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
                   BackendServerPort=80, Bandwidth=-1, HealthCheck="on",
                   ServerCertificateId=certificate, **extra)

    for wrong in ("1231579085529123_166f8204689_1714763408_709981430", ca_cert, "12345"):
        failure = expect_failure(lambda: https(wrong), "InvalidParameter")
        assert "ServerCertificateId is not Support" in failure.message
    failure = expect_failure(lambda: https(server_cert, CACertificateId=server_cert),
                             "InvalidParameter")
    assert "CACertificateId is not Support" in failure.message
    # A certificate of another region is not this region's.
    other_region = Api("v3", server, account)
    other_region.client.region = "cn-shanghai"
    shanghai = upload_server_certificate(other_region)
    expect_failure(lambda: https(shanghai), "InvalidParameter")
    # Nothing was stored by the refusals.
    assert "ListenerPorts" not in api("DescribeLoadBalancerAttribute", LoadBalancerId=lb) or \
        api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["ListenerPorts"]["ListenerPort"] == []
    https(server_cert)
    # Rebinding frees the old certificate at once.
    replacement = upload_server_certificate(api)
    api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
        ServerCertificateId=replacement)
    api("DeleteServerCertificate", ServerCertificateId=server_cert)
    # Deleting the load balancer frees what its listeners named.
    api("DeleteLoadBalancer", LoadBalancerId=lb)
    api("DeleteServerCertificate", ServerCertificateId=replacement)
