"""Certificates applied for through the SSL Certificates Service (alibabacloud-cas20200407's
CreateCertificateRequest, DescribeCertificateState, DeleteCertificateRequest and
ListUserCertificateOrder) and issued by a real ACME CA: pebble, on loopback."""

import base64
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import certs
from acme import (FileProof, Pebble, backend_answers, csr_pem, free_port,  # noqa: F401
                  issued_state, pebble, plain_get, proving_listener, raw_cas, state_after,
                  unique_domain, verify_issued, zero_touch_args)
from backends import HttpBackend
from conftest import (Cas, Server, admin_connection, expect_failure, new_database, unverified,
                      wait_until)
from slb import Api, backends


# The SSL Certificates Service's error codes for orders are undocumented (slb-families.md §8-10):
# these are this project's choices, kept stable.
ORDER_NOT_FOUND = unverified("OrderNotFound", "the code of an unknown OrderId")
NO_CA = unverified("OperationDenied.NoCertificateAuthority", "no CA behind the service")
CA_REFUSED = unverified("OperationFailed.CertificateAuthority", "the code of a CA's refusal")


@pytest.fixture
def acme_server(tmp_path, pebble):
    srv = Server(tmp_path, args=pebble.slbcert_args()).start()
    yield srv
    srv.stop()



def failure_reason(server, order_id):
    """The `Message` of a verify_fail answer (which the SDK's model drops)."""
    body = raw_cas(server, "DescribeCertificateState", OrderId=order_id)
    assert body["Type"] == "verify_fail", body
    return body["Message"]


def apply_dns(cas, domain):
    body = cas.call("CreateCertificateRequest", Domain=domain, ValidateType="DNS",
                    ProductCode="digicert-free-1-free", Username="Ops", Phone="13800000000",
                    Email="ops@example.com")
    assert isinstance(body["OrderId"], int), body
    return body["OrderId"]


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
    # /metrics: the order by status, and its renewal due 30 days (less jitter) before the end.
    metrics = acme_server.metrics().text
    assert 'slbcert_certificate_orders{status="certificate"} 1' in metrics, metrics
    assert 'slbcert_certificate_orders{status="domain_verify"} 0' in metrics
    renewal = float(re.search(r"^slbcert_certificate_next_renewal_timestamp_seconds (\S+)$",
                              metrics, re.M).group(1))
    end = leaf.not_valid_after_utc.timestamp()
    assert end - 31.5 * 86400 <= renewal <= end - 30 * 86400, (renewal, end)

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
    srv = Server(tmp_path, args=zero_touch_args(pebble)).start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        lb, address = proving_listener(api, backend)
        api("AddBackendServers", LoadBalancerId=lb, BackendServers=backends(
            {"ServerId": "i-site", "ServerIp": "127.0.0.1", "Port": backend.port, "Weight": 100}))
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
                   ORDER_NOT_FOUND)


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
                   ORDER_NOT_FOUND)
    expect_failure(lambda: other.call("DeleteCertificateRequest", OrderId=order_id),
                   ORDER_NOT_FOUND)
    assert other.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
    assert cas.call("DescribeCertificateState", OrderId=order_id)["Type"] == "domain_verify"
    cas.call("DeleteCertificateRequest", OrderId=order_id)
    expect_failure(lambda: cas.call("DeleteCertificateRequest", OrderId=order_id),
                   ORDER_NOT_FOUND)
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


def test_a_certificate_for_the_customers_own_csr(acme_server, pebble):
    """CreateCertificateWithCsrRequest: the CSR names the domain and the customer keeps the
    key; the issued certificate is for that key, and no key is answered."""
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain("csr")
    key = certs.rsa_key(2048, fresh=True)
    order_id = cas.call("CreateCertificateWithCsrRequest", Csr=csr_pem(key, domain),
                        ValidateType="DNS")["OrderId"]
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    assert (state["Type"], state["RecordDomain"]) == ("domain_verify", f"_acme-challenge.{domain}")
    pebble.set_txt(state["RecordDomain"], state["RecordValue"])
    issued = state_after(cas, order_id, "domain_verify")
    if issued["Type"] == "process":
        issued = state_after(cas, order_id, "process")
    assert issued["Type"] == "certificate", issued
    leaf = verify_issued(issued["Certificate"], pebble, domain)
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert "PrivateKey" not in issued and "CertId" not in issued, issued
    [item] = cas.call("ListUserCertificateOrder", OrderType="CPACK")["CertificateOrderList"]
    assert (item["OrderId"], item["Status"]) == (order_id, "ISSUED")
    assert item["CertEndTime"] == int(leaf.not_valid_after_utc.timestamp()) * 1000

    other = unique_domain("other")
    for csr, why in [(csr_pem(key, domain, other), "one request is for one domain"),
                     ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                      "not a PKCS#10 request"),
                     (csr_pem(certs.rsa_key(1024, fresh=True), other), "RSA 1024")]:
        expect_failure(lambda: cas.call("CreateCertificateWithCsrRequest", Csr=csr,
                                        ValidateType="DNS"),
                       "InvalidParameter", contains=why)
    expect_failure(lambda: cas.call("CreateCertificateWithCsrRequest", ValidateType="DNS"),
                   "MissingCsr")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 1


def test_a_cancelled_order_is_payed_until_deleted(acme_server, pebble):
    cas = Cas(acme_server, acme_server.credentials)
    order_id = apply_dns(cas, unique_domain())
    cas.call("CancelCertificateForPackageRequest", OrderId=order_id)
    assert cas.call("DescribeCertificateState", OrderId=order_id)["Type"] == "payed"
    payed = cas.call("ListUserCertificateOrder", OrderType="CPACK", Status="PAYED")
    assert [(item["OrderId"], item["Status"]) for item in payed["CertificateOrderList"]] == \
        [(order_id, "PAYED")]
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK",
                    Status="CHECKING")["TotalCount"] == 0
    expect_failure(lambda: cas.call("CancelCertificateForPackageRequest", OrderId=order_id),
                   "Operation.NotAllowed", contains="only an order under validation")
    expect_failure(lambda: cas.call("RenewCertificateOrderForPackageRequest", OrderId=order_id),
                   "Operation.NotAllowed", contains="only an issued order")
    other = Cas(acme_server, acme_server.create_account("other"))
    expect_failure(lambda: other.call("CancelCertificateForPackageRequest", OrderId=order_id),
                   ORDER_NOT_FOUND)
    cas.call("DeleteCertificateRequest", OrderId=order_id)
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId=order_id),
                   ORDER_NOT_FOUND)


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
                   CA_REFUSED, contains="rejectedIdentifier")
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId="12x"),
                   "InvalidParameter", contains="OrderId")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0


def test_open_orders_are_bounded_per_account(tmp_path, pebble):
    srv = Server(tmp_path, args=pebble.slbcert_args("--acme-max-open-orders", "2")).start()
    try:
        cas = Cas(srv, srv.credentials)
        first = apply_dns(cas, unique_domain())
        apply_dns(cas, unique_domain())
        expect_failure(lambda: apply_dns(cas, unique_domain()), "OverQuota", contains="2 of 2")
        other = Cas(srv, srv.create_account("other"))
        apply_dns(other, unique_domain())
        cas.call("DeleteCertificateRequest", OrderId=first)
        apply_dns(cas, unique_domain())
        assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 2
    finally:
        srv.stop()


def test_a_ca_that_asks_for_external_account_binding(tmp_path):
    """--acme-eab-kid/--acme-eab-hmac bind the ACME account to the CA's external account;
    without them such a CA refuses, and nothing is stored."""
    hmac = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    ca = Pebble(tmp_path / "pebble", external_accounts={"kid-slbcert": hmac})
    (tmp_path / "bound").mkdir()
    (tmp_path / "unbound").mkdir()
    try:
        bound = Server(tmp_path / "bound", args=ca.slbcert_args(
            "--acme-eab-kid", "kid-slbcert", "--acme-eab-hmac", hmac)).start()
        unbound = Server(tmp_path / "unbound", args=ca.slbcert_args()).start()
        try:
            cas = Cas(bound, bound.credentials)
            domain = unique_domain()
            order_id = apply_dns(cas, domain)
            state = cas.call("DescribeCertificateState", OrderId=order_id)
            ca.set_txt(state["RecordDomain"], state["RecordValue"])
            assert issued_state(cas, order_id)["Type"] == "certificate"
            other = Cas(unbound, unbound.credentials)
            expect_failure(lambda: apply_dns(other, unique_domain()),
                           CA_REFUSED,
                           contains="externalAccountRequired")
            assert other.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
            assert "kid-slbcert" not in unbound.log() and hmac not in bound.log()
        finally:
            bound.stop()
            unbound.stop()
    finally:
        ca.stop()


def test_without_a_ca_requests_are_refused_and_store_nothing(server, account):
    cas = Cas(server, account)
    expect_failure(lambda: cas.call("CreateCertificateRequest", Domain=unique_domain(),
                                    ValidateType="DNS"),
                   NO_CA, contains="--acme-directory")
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 0
    expect_failure(lambda: cas.call("DescribeCertificateState", OrderId=12345678),
                   ORDER_NOT_FOUND)


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


@pytest.mark.postgres_only
def test_two_nodes_work_each_order_once(tmp_path, pebble):
    """Orders placed through either node of one PostgreSQL database are each issued once, by
    whichever node leases them, with one ACME account for the slbcert account."""
    master_key = tmp_path / "master.key"
    master_key.write_text(base64.b64encode(os.urandom(32)).decode())
    master_key.chmod(0o600)
    database = new_database()
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(Server(tmp_path / name, ["--master-key-file", str(master_key),
                                              *pebble.slbcert_args()], database=database).start())
    try:
        account = nodes[0].credentials
        clients = [Cas(node, account) for node in nodes]
        orders = {}
        for n in range(6):
            cas = clients[n % 2]
            domain = unique_domain(f"n{n}")
            order_id = apply_dns(cas, domain)
            state = clients[(n + 1) % 2].call("DescribeCertificateState", OrderId=order_id)
            pebble.set_txt(state["RecordDomain"], state["RecordValue"])
            orders[order_id] = domain
        issued = {}
        for n, (order_id, domain) in enumerate(orders.items()):
            state = state_after(clients[n % 2], order_id, "domain_verify")
            if state["Type"] == "process":
                state = state_after(clients[n % 2], order_id, "process")
            assert state["Type"] == "certificate", state
            verify_issued(state["Certificate"], pebble, domain)
            issued[order_id] = int(state["CertId"])
        listed = clients[1].call("ListUserCertificateOrder", OrderType="CERT", ShowSize=50)
        assert sorted(item["CertificateId"] for item in listed["CertificateOrderList"]) == \
            sorted(issued.values()), "an order was issued twice, or not at all"
        with admin_connection(database) as connection:
            accounts = connection.execute("SELECT COUNT(*) FROM acme_accounts").fetchone()[0]
        assert accounts == 1
    finally:
        for node in nodes:
            node.stop()
