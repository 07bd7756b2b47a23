"""Renewal of certificates applied for through the SSL Certificates Service: asked for
(RenewCertificateOrderForPackageRequest) or due by itself, issued by pebble, and served within
seconds by every listener and domain extension the old certificate was bound to."""

import datetime
import glob

import pytest
from cryptography.hazmat.primitives import hashes

import certs
from acme import (csr_pem, issued_state, pebble, proving_listener,  # noqa: F401
                  safe_fingerprint, served_certificate, unique_domain, verify_issued,
                  zero_touch_args)
from backends import HttpBackend
from conftest import Cas, Server, expect_failure, wait_until
from slb import Api


def test_a_renewal_is_served_by_the_listeners_the_old_certificate_was_bound_to(tmp_path, pebble):
    """RenewCertificateOrderForPackageRequest: the renewal is validated through the listener
    (zero-touch), and within seconds the HTTPS listener and its domain extension serve the
    new certificate, through server certificates made from it; the old ones stay."""
    offset = pebble.http_port - 80
    srv = Server(tmp_path, args=zero_touch_args(pebble)).start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        cas = Cas(srv, srv.credentials)
        lb, address = proving_listener(api, backend)
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


def test_a_certificate_near_its_end_is_renewed_and_rotated_by_itself(tmp_path, pebble):
    """Nobody asks: the same store started 20 days before the certificate's end (30 days is
    when renewal is due) renews it through the listener and serves the renewal."""
    if LIBFAKETIME is None:
        pytest.fail("libfaketime is not installed: scripts/test installs Debian's faketime "
                    "(apt-get install faketime)")
    offset = pebble.http_port - 80
    args = zero_touch_args(pebble)
    # Its own SQLite in either pass: libfaketime moves the whole process years ahead, where the
    # PostgreSQL pass's TLS certificate has expired (the store's part is in store_contract).
    srv = Server(tmp_path, args=args, database="sqlite").start()
    backend = HttpBackend("site")
    try:
        api = Api("v3", srv, srv.credentials)
        cas = Cas(srv, srv.credentials)
        lb, address = proving_listener(api, backend)
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
        srv = Server(tmp_path, data_dir=srv.data_dir, args=args, database="sqlite", wrapper=(
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


def test_a_renewal_with_the_customers_own_csr(acme_server, pebble):
    """RenewCertificateOrderForPackageRequest with a Csr: the renewal is for the customer's new
    key; a CSR for another domain is refused and nothing is stored."""
    cas = Cas(acme_server, acme_server.credentials)
    domain = unique_domain("own")
    order_id = cas.call("CreateCertificateWithCsrRequest", ValidateType="DNS",
                        Csr=csr_pem(certs.rsa_key(2048), domain))["OrderId"]
    proved(cas, pebble, order_id)
    expect_failure(lambda: cas.call("RenewCertificateOrderForPackageRequest", OrderId=order_id,
                                    Csr=csr_pem(certs.ec_key(), unique_domain("else"))),
                   "InvalidParameter", contains="not the order's domain")
    new_key = certs.ec_key()
    renewal = cas.call("RenewCertificateOrderForPackageRequest", OrderId=order_id,
                       Csr=csr_pem(new_key, domain))["OrderId"]
    state = proved(cas, pebble, renewal)
    leaf = verify_issued(state["Certificate"], pebble, domain)
    assert leaf.public_key().public_numbers() == new_key.public_key().public_numbers()
    assert cas.call("ListUserCertificateOrder", OrderType="CPACK")["TotalCount"] == 2


def proved(cas, pebble, order_id):
    """The order's DNS proof published, and its state once issued."""
    state = cas.call("DescribeCertificateState", OrderId=order_id)
    pebble.set_txt(state["RecordDomain"], state["RecordValue"])
    state = issued_state(cas, order_id)
    assert state["Type"] == "certificate", state
    return state


@pytest.fixture
def acme_server(tmp_path, pebble):
    srv = Server(tmp_path, args=pebble.slbcert_args()).start()
    yield srv
    srv.stop()
