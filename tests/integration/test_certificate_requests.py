"""Certificates applied for through the SSL Certificates Service (alibabacloud-cas20200407's
CreateCertificateRequest, DescribeCertificateState, DeleteCertificateRequest and
ListUserCertificateOrder) and issued by a real ACME CA: pebble, on loopback."""

import datetime
import glob
import hashlib
import http.server
import random
import socket
import ssl
import threading
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from acme import Pebble, free_port, verify_issued
from backends import HttpBackend
from conftest import Cas, Server, expect_failure, wait_until
from rawclient import RawClient
from slb import Api, backends


@pytest.fixture(scope="module")
def pebble(tmp_path_factory):
    ca = Pebble(tmp_path_factory.mktemp("pebble"), blocklist=["blocked.example"])
    yield ca
    ca.stop()


@pytest.fixture
def acme_server(tmp_path, pebble):
    srv = Server(tmp_path, args=pebble.slbcert_args()).start()
    yield srv
    srv.stop()


def unique_domain(label="www"):
    return f"{label}.t{uuid.uuid4().hex[:12]}.example.com"


def state_after(cas, order_id, leaving, timeout=60):
    """DescribeCertificateState once its Type is no longer `leaving`."""
    seen = {}

    def moved():
        seen.update(cas.call("DescribeCertificateState", OrderId=order_id))
        return seen["Type"] != leaving

    wait_until(moved, timeout=timeout, what=f"order {order_id} to leave {leaving}")
    return seen


def failure_reason(server, order_id):
    """The `Message` of a verify_fail answer: not in the SDK's model (which drops it), so read
    off the wire."""
    account = server.credentials
    raw = RawClient(server.port, account["AccessKeyId"], account["AccessKeySecret"])
    response = raw.v1("DescribeCertificateState", {"OrderId": str(order_id)}, region=False,
                      version="2020-04-07")
    body = response.json()
    assert response.status == 200, body
    assert body["Type"] == "verify_fail", body
    return body["Message"]


def apply_dns(cas, domain):
    body = cas.call("CreateCertificateRequest", Domain=domain, ValidateType="DNS",
                    ProductCode="digicert-free-1-free", Username="Ops", Phone="13800000000",
                    Email="ops@example.com")
    assert isinstance(body["OrderId"], int), body
    return body["OrderId"]


class FileProof:
    """Serves ACME proof files on 127.0.0.1:port, as the customer's web server would: the
    content `answers` says for each path (a callable, so that a test can change its answer)."""

    def __init__(self, port, answers):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = answers(self.path)
                outer.requests.append((self.headers.get("Host"), self.path))
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.requests = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_dns_validation_issues_a_certificate_into_the_list(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain()
    order_id = apply_dns(cas, domain)
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    # What the customer must publish: the ACME dns-01 record, exactly as the CA will look.
    assert state["Type"] == "domain_verify", state
    assert state["ValidateType"] == "DNS"
    assert state["RecordDomain"] == f"_acme-challenge.{domain}"
    assert state["RecordType"] == "TXT"
    assert len(state["RecordValue"]) == 43, state  # base64url of a SHA-256
    assert "Certificate" not in state and "PrivateKey" not in state
    listed = cas.call("ListUserCertificateOrder", OrderType="CPACK")
    assert [(item["OrderId"], item["Status"], item["Domain"])
            for item in listed["CertificateOrderList"]] == [(order_id, "CHECKING", domain)]

    pebble.set_txt(state["RecordDomain"], state["RecordValue"])
    issued = state_after(cas, order_id, "domain_verify")
    if issued["Type"] == "process":
        issued = state_after(cas, order_id, "process")
    assert issued["Type"] == "certificate", issued
    leaf = verify_issued(issued["Certificate"], pebble, domain)
    key = serialization.load_pem_private_key(issued["PrivateKey"].encode(), None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    cert_id = int(issued["CertId"])

    # It joined the account's certificates like an upload, key and all.
    detail = cas.call("GetUserCertificateDetail", CertId=cert_id)
    common_names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert detail["Common"] == (common_names[0].value if common_names else "")
    assert detail["Sans"] == domain
    assert detail["Cert"] == issued["Certificate"]
    assert detail["Key"] == issued["PrivateKey"]
    certificates = cas.call("ListUserCertificateOrder", OrderType="CERT")
    assert [item["CertificateId"] for item in certificates["CertificateOrderList"]] == [cert_id]
    orders = cas.call("ListUserCertificateOrder", OrderType="CPACK", Status="ISSUED")
    [item] = orders["CertificateOrderList"]
    assert (item["OrderId"], item["Status"], item["CertificateId"]) == (order_id, "ISSUED", cert_id)
    assert item["CertEndTime"] == int(leaf.not_valid_after_utc.timestamp()) * 1000
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK",
                    Status="CHECKING")["CertificateOrderList"] == []

    # Audited: the request, and the issue with the certificate's fingerprint.
    lines = acme_server.audit_lines()
    assert any(line["action"] == "CreateCertificateRequest"
               and line["resource_id"] == str(order_id) for line in lines)
    assert any(line["action"] == "IssueCertificate" and line["resource_id"] == str(cert_id)
               and line["outcome"] == "success" for line in lines)


def test_file_validation_is_checked_where_the_ca_looks(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain("shop")
    order_id = cas.call("CreateCertificateRequest", Domain=domain,
                        ValidateType="FILE")["OrderId"]
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    assert state["Type"] == "domain_verify", state
    assert state["ValidateType"] == "FILE"
    assert state["Domain"] == domain
    assert state["Uri"].startswith("/.well-known/acme-challenge/")
    assert state["Content"].startswith(state["Uri"].rsplit("/", 1)[1] + ".")
    files = {state["Uri"]: state["Content"]}
    proof = FileProof(pebble.http_port, files.get)
    try:
        issued = state_after(cas, order_id, "domain_verify")
        if issued["Type"] == "process":
            issued = state_after(cas, order_id, "process")
        assert issued["Type"] == "certificate", issued
        verify_issued(issued["Certificate"], pebble, domain)
        # Both slbcert's look and the CA's asked for the domain's own host.
        assert (domain, state["Uri"]) in proof.requests
    finally:
        proof.close()


def test_a_listener_of_the_account_answers_its_file_proof_before_any_backend(tmp_path, pebble):
    """Zero-touch: the domain points at an HTTP listener on port 80 (plus the offset, which
    puts it where pebble's validator connects); nobody places a file."""
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    srv = Server(tmp_path, args=pebble.slbcert_args(
        "--data-plane", "on", "--listener-port-offset", str(pebble.http_port - 80),
        "--address-pool", pool)).start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        created = api("CreateLoadBalancer")
        lb, address = created["LoadBalancerId"], created["Address"]
        api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
            BackendServerPort=backend.port, HealthCheck="off")
        api("AddBackendServers", LoadBalancerId=lb, BackendServers=backends(
            {"ServerId": "i-site", "ServerIp": "127.0.0.1", "Port": backend.port, "Weight": 100}))
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
        wait_until(lambda: backend_answers(address, pebble.http_port), what="the listener")
        seen_before = backend.requests

        cas = Cas(srv, srv.credentials)
        domain = unique_domain("zero")
        pebble.add_a(domain, address)
        order_id = cas.call("CreateCertificateRequest", Domain=domain,
                            ValidateType="FILE")["OrderId"]
        issued = state_after(cas, order_id, "domain_verify")
        if issued["Type"] == "process":
            issued = state_after(cas, order_id, "process")
        assert issued["Type"] == "certificate", issued
        verify_issued(issued["Certificate"], pebble, domain)
        assert backend.requests == seen_before, "a proof request reached the backend"

        # Another account's order for a name on this listener is not answered: the listener
        # proves its own account's domains only, and the request goes to the backend.
        other = Cas(srv, srv.create_account("other"))
        intruder = unique_domain("intruder")
        pebble.add_a(intruder, address)
        order_id = other.call("CreateCertificateRequest", Domain=intruder,
                              ValidateType="FILE")["OrderId"]
        state = other.call("DescribeCertificateState", OrderId=order_id)
        status, body = plain_get(address, pebble.http_port, intruder, state["Uri"])
        assert state["Content"] not in body, (status, body)
        assert backend.requests > seen_before, "the backend answered the intruder's request"
        assert other.call("DescribeCertificateState", OrderId=order_id)["Type"] == "domain_verify"
    finally:
        backend.stop()
        srv.stop()


def issued_state(cas, order_id):
    """DescribeCertificateState once the order is issued (or has failed)."""
    state = state_after(cas, order_id, "domain_verify")
    if state["Type"] == "process":
        state = state_after(cas, order_id, "process")
    return state


def served_fingerprint(address, port, sni):
    """The SHA-1 fingerprint (colon-separated hex, as SLB shows it) a TLS client is served."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
    digest = hashlib.sha1(der).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 40, 2))


def test_a_renewal_is_served_by_the_listeners_the_old_certificate_was_bound_to(tmp_path, pebble):
    """RenewCertificateOrderForPackageRequest: the renewal is validated through the listener
    (zero-touch), and within seconds the HTTPS listener and its domain extension serve the
    new certificate, through server certificates made from it; the old ones stay."""
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    offset = pebble.http_port - 80
    srv = Server(tmp_path, args=pebble.slbcert_args(
        "--data-plane", "on", "--listener-port-offset", str(offset),
        "--address-pool", pool)).start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        cas = Cas(srv, srv.credentials)
        created = api("CreateLoadBalancer")
        lb, address = created["LoadBalancerId"], created["Address"]
        api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
            BackendServerPort=backend.port, HealthCheck="off")
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
        domain, alternative = unique_domain("www"), unique_domain("alt")
        first = {}
        for name in (domain, alternative):
            pebble.add_a(name, address)
            order_id = cas.call("CreateCertificateRequest", Domain=name,
                                ValidateType="FILE")["OrderId"]
            state = issued_state(cas, order_id)
            assert state["Type"] == "certificate", state
            first[name] = (order_id, int(state["CertId"]), state["Certificate"])

        server_certificate = {}
        for name in (domain, alternative):
            server_certificate[name] = api(
                "UploadServerCertificate", AliCloudCertificateId=str(first[name][1]),
                ServerCertificateName=name.split(".")[0])["ServerCertificateId"]
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
            Bandwidth=-1, BackendServerPort=backend.port, HealthCheck="off",
            ServerCertificateId=server_certificate[domain])
        api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443, Domain=alternative,
            ServerCertificateId=server_certificate[alternative])
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
        old = {name: verify_issued(first[name][2], pebble, name) for name in first}
        fingerprint = {name: ":".join(
            f"{b:02x}" for b in old[name].fingerprint(hashes.SHA1())) for name in first}
        wait_until(lambda: all(
            safe_fingerprint(address, 443 + offset, name) == fingerprint[name] for name in first),
            what="the HTTPS listener to serve the first certificates")

        renewals = {}
        for name in first:
            renewals[name] = cas.call("RenewCertificateOrderForPackageRequest",
                                      OrderId=first[name][0])["OrderId"]
            assert renewals[name] != first[name][0]
            # Asked again while it is under way: the same renewal.
            assert cas.call("RenewCertificateOrderForPackageRequest",
                            OrderId=first[name][0])["OrderId"] == renewals[name]
        renewed = {}
        for name, order_id in renewals.items():
            state = issued_state(cas, order_id)
            assert state["Type"] == "certificate", state
            renewed[name] = verify_issued(state["Certificate"], pebble, name)
            assert renewed[name].serial_number != old[name].serial_number
        new_fingerprint = {name: ":".join(
            f"{b:02x}" for b in renewed[name].fingerprint(hashes.SHA1())) for name in renewed}
        wait_until(lambda: all(
            safe_fingerprint(address, 443 + offset, name) == new_fingerprint[name]
            for name in renewed), timeout=20,
            what="the listener and the domain extension to serve the renewed certificates")

        # Moved through server certificates made from the new ones; the old ones stay.
        listener = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb,
                       ListenerPort=443)
        assert listener["ServerCertificateId"] != server_certificate[domain]
        listed = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
        by_id = {item["ServerCertificateId"]: item for item in listed}
        assert set(server_certificate.values()) <= set(by_id)
        twin = by_id[listener["ServerCertificateId"]]
        assert twin["Fingerprint"] == new_fingerprint[domain]
        assert twin["ServerCertificateName"] == domain.split(".")[0]
        lines = srv.audit_lines()
        rotations = [line for line in lines if line["source"] == "acme renewal"]
        assert {line["action"] for line in rotations} == {
            "UploadServerCertificate", "SetLoadBalancerHTTPSListenerAttribute",
            "SetDomainExtensionAttribute"}, rotations
        # The old order names its renewal; listed as the customer sees them.
        orders = cas.call("ListUserCertificateOrder", OrderType="CPACK", Status="ISSUED")
        assert {item["OrderId"] for item in orders["CertificateOrderList"]} == \
            {first[name][0] for name in first} | set(renewals.values())
    finally:
        backend.stop()
        srv.stop()


# libfaketime, preloaded through env (which execs, so the server gets the test's signals).
LIBFAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")), None)


@pytest.mark.skipif(LIBFAKETIME is None,
                    reason="libfaketime is not installed (scripts/test installs faketime as root)")
def test_a_certificate_near_its_end_is_renewed_and_rotated_by_itself(tmp_path, pebble):
    """Nobody asks: the same store started 20 days before the certificate's end (30 days is
    when renewal is due) renews it through the listener and serves the renewal."""
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    offset = pebble.http_port - 80
    args = pebble.slbcert_args("--data-plane", "on", "--listener-port-offset", str(offset),
                               "--address-pool", pool)
    srv = Server(tmp_path, args=args).start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        cas = Cas(srv, srv.credentials)
        created = api("CreateLoadBalancer")
        lb, address = created["LoadBalancerId"], created["Address"]
        api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
            BackendServerPort=backend.port, HealthCheck="off")
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
        domain = unique_domain("auto")
        pebble.add_a(domain, address)
        order_id = cas.call("CreateCertificateRequest", Domain=domain,
                            ValidateType="FILE")["OrderId"]
        state = issued_state(cas, order_id)
        assert state["Type"] == "certificate", state
        first = verify_issued(state["Certificate"], pebble, domain)
        bound = api("UploadServerCertificate",
                    AliCloudCertificateId=state["CertId"])["ServerCertificateId"]
        api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
            Bandwidth=-1, BackendServerPort=backend.port, HealthCheck="off",
            ServerCertificateId=bound)
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
        before = ":".join(f"{b:02x}" for b in first.fingerprint(hashes.SHA1()))
        wait_until(lambda: safe_fingerprint(address, 443 + offset, domain) == before,
                   what="the first certificate to be served")
        srv.stop()

        days = (first.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days - 20
        srv = Server(tmp_path, data_dir=srv.data_dir, args=args, wrapper=(
            "env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME=+{days}d",
            "FAKETIME_DONT_FAKE_MONOTONIC=1")).start()
        wait_until(lambda: safe_fingerprint(address, 443 + offset, domain) not in (None, before),
                   timeout=30, what="the renewed certificate to be served")
        renewed = served_certificate(address, 443 + offset, domain)
        root, intermediate = pebble.issuing_chain()
        renewed.verify_directly_issued_by(intermediate)
        assert renewed.serial_number != first.serial_number
        assert renewed.not_valid_after_utc > first.not_valid_after_utc
        lines = srv.audit_lines()
        assert any(line["action"] == "RenewCertificateOrderForPackageRequest"
                   and line["source"] == "acme" for line in lines), lines[-10:]
    finally:
        backend.stop()
        srv.stop()


def served_certificate(address, port, sni):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=sni) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def safe_fingerprint(address, port, sni):
    try:
        return served_fingerprint(address, port, sni)
    except (OSError, ssl.SSLError):
        return None


def plain_get(address, port, host, path):
    with socket.create_connection((address, port), timeout=10) as stream:
        stream.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                       .encode())
        data = b""
        while chunk := stream.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode(errors="replace")


def backend_answers(address, port):
    try:
        return plain_get(address, port, "probe.example.com", "/")[0] == 200
    except OSError:
        return False


def test_a_proof_the_ca_does_not_see_ends_in_verify_fail_with_its_reason(acme_server, pebble):
    """slbcert saw the file, then it changed before the CA looked: the CA's problem document
    is the order's reason."""
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain("flaky")
    order_id = cas.call("CreateCertificateRequest", Domain=domain,
                        ValidateType="FILE")["OrderId"]
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    served = []

    def first_look_only(path):
        if path != state["Uri"]:
            return None
        served.append(path)
        return state["Content"] if len(served) == 1 else "something else"

    proof = FileProof(pebble.http_port, first_look_only)
    try:
        failed = state_after(cas, order_id, "domain_verify")
        if failed["Type"] == "process":
            failed = state_after(cas, order_id, "process")
    finally:
        proof.close()
    assert failed["Type"] == "verify_fail", failed
    reason = failure_reason(acme_server, order_id)
    assert "urn:ietf:params:acme:error:unauthorized" in reason, reason
    orders = cas.call("ListUserCertificateOrder", OrderType="CPACK", Status="CHECKED_FAIL")
    assert [item["OrderId"] for item in orders["CertificateOrderList"]] == [order_id]
    assert cas.call("ListUserCertificateOrder", OrderType="CERT")["CertificateOrderList"] == []
    # A failed order can be deleted, and is gone.
    cas.call("DeleteCertificateRequest", OrderId=order_id)
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId=order_id),
                   "OrderNotFound")


def test_a_domain_never_proved_fails_at_the_deadline(tmp_path, pebble):
    srv = Server(tmp_path, args=pebble.slbcert_args("--acme-proof-deadline", "2")).start()
    try:
        cas = Cas(srv, srv.credentials)
        domain = unique_domain()
        order_id = apply_dns(cas, domain)
        failed = state_after(cas, order_id, "domain_verify", timeout=30)
        assert failed["Type"] == "verify_fail", failed
        reason = failure_reason(srv, order_id)
        assert f"_acme-challenge.{domain}" in reason, reason
        assert "not proved in time" in reason, reason
    finally:
        srv.stop()


def test_an_order_survives_a_restart_and_resumes(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain()
    order_id = apply_dns(cas, domain)
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    acme_server.stop()
    pebble.set_txt(state["RecordDomain"], state["RecordValue"])
    acme_server.start()
    cas = Cas(acme_server, acme_server.credentials)
    issued = state_after(cas, order_id, "domain_verify")
    if issued["Type"] == "process":
        issued = state_after(cas, order_id, "process")
    assert issued["Type"] == "certificate", issued
    verify_issued(issued["Certificate"], pebble, domain)


def test_orders_are_the_callers_own_and_deletable_only_before_issue(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    other = Cas(acme_server, acme_server.create_account("other"))
    domain = unique_domain()
    order_id = apply_dns(cas, domain)
    # Another account's order answers like a missing one, and stays.
    expect_failure(lambda: other.call("DescribeCertificateState", OrderId=order_id),
                   "OrderNotFound")
    expect_failure(lambda: other.call("DeleteCertificateRequest", OrderId=order_id),
                   "OrderNotFound")
    assert other.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
    assert cas.call("DescribeCertificateState", OrderId=order_id)["Type"] == "domain_verify"
    cas.call("DeleteCertificateRequest", OrderId=order_id)
    expect_failure(lambda: cas.call("DeleteCertificateRequest", OrderId=order_id),
                   "OrderNotFound")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0

    # An issued order stays: its certificate is in the list.
    domain = unique_domain()
    order_id = apply_dns(cas, domain)
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    pebble.set_txt(state["RecordDomain"], state["RecordValue"])
    issued = state_after(cas, order_id, "domain_verify")
    if issued["Type"] == "process":
        issued = state_after(cas, order_id, "process")
    assert issued["Type"] == "certificate", issued
    expect_failure(lambda: cas.call("DeleteCertificateRequest", OrderId=order_id),
                   "Operation.NotAllowed", contains="only an order waiting")
    assert cas.call("DescribeCertificateState", OrderId=order_id)["Type"] == "certificate"


def test_bad_requests_and_ca_refusals_store_nothing(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain()
    expect_failure(lambda: cas.call("CreateCertificateRequest", ValidateType="DNS"),
                   "MissingDomain")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=domain),
                   "MissingValidateType")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=domain,
                                    ValidateType="EMAIL"),
                   "InvalidParameter", contains="ValidateType")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain="not a domain",
                                    ValidateType="DNS"),
                   "InvalidParameter", contains="Domain")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=f"*.{domain}",
                                    ValidateType="DNS"),
                   "InvalidParameter", contains="single-domain product")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=f"*.{domain}",
                                    ValidateType="FILE", ProductCode="geotrust-dv-w-starter"),
                   "InvalidParameter", contains="only be validated by DNS")
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=domain,
                                    ValidateType="DNS", ProductCode="no-such-product"),
                   "InvalidParameter", contains="ProductCode")
    # pebble refuses a blocked domain: its problem is the answer, nothing is stored.
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain="www.blocked.example",
                                    ValidateType="DNS"),
                   "OperationFailed.CertificateAuthority", contains="rejectedIdentifier")
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId="12x"),
                   "InvalidParameter", contains="OrderId")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0


def test_without_a_ca_requests_are_refused_and_store_nothing(server, account):
    cas = Cas(server, account)
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=unique_domain(),
                                    ValidateType="DNS"),
                   "OperationDenied.NoCertificateAuthority", contains="--acme-directory")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId=12345678),
                   "OrderNotFound")


def test_an_unreachable_ca_answers_503_and_stores_nothing(tmp_path, pebble):
    directory = f"https://127.0.0.1:{free_port()}/dir"  # nothing listens there
    srv = Server(tmp_path, args=["--acme-directory", directory, "--acme-ca-file",
                                 str(pebble.ca_file)]).start()
    try:
        cas = Cas(srv, srv.credentials)
        expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=unique_domain(),
                                        ValidateType="DNS"),
                       "ServiceUnavailable", status=503, contains="Nothing was stored")
        assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
    finally:
        srv.stop()
