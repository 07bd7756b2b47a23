"""Running listeners are real listeners: real TLS clients see the certificate the API says is
bound (per SNI, and the new one within a second of a rotation), two-way authentication is
enforced, and requests reach real local backends by weight and health."""

import hashlib
import json
import random
import socket
import ssl
import threading
import time

import pytest

import certs
from backends import EchoBackend, HttpBackend
from conftest import Server, expect_failure
from rawclient import RawClient
from slb import Api, backends, upload_ca_certificate

OFFSET = 20000


@pytest.fixture
def plane(tmp_path):
    # A pool of its own, so that servers of tests running side by side never share an address.
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    server = Server(tmp_path, args=["--data-plane", "on", "--listener-port-offset", str(OFFSET),
                                    "--address-pool", pool]).start()
    yield server
    server.stop()


@pytest.fixture
def api(plane):
    return Api("v3", plane, plane.credentials)


def upload(api, cn, sans=None, key=None, issuer=None, issuer_key=None):
    key = key or certs.ec_key()
    cert = certs.make_cert(key, cn=cn, sans=sans or (cn,), issuer=issuer, issuer_key=issuer_key)
    chain = certs.cert_pem(cert, issuer) if issuer is not None else certs.cert_pem(cert)
    answer = api("UploadServerCertificate", ServerCertificate=chain, PrivateKey=certs.key_pem(key))
    return answer["ServerCertificateId"]


def fingerprint_of(api, certificate_id):
    listed = api("DescribeServerCertificates", ServerCertificateId=certificate_id)
    return listed["ServerCertificates"]["ServerCertificate"][0]["Fingerprint"]


def client_context(certificate=None, key=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if certificate is not None:
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as pem:
            pem.write(certs.cert_pem(certificate) + certs.key_pem(key))
        context.load_cert_chain(pem.name)
    return context


def served(address, sni, context=None):
    """The fingerprint (SHA-1 of the DER, colon-separated hex) and chain length served."""
    with socket.create_connection(address, timeout=5) as raw:
        with (context or client_context()).wrap_socket(raw, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
            chain = tls.get_unverified_chain() if hasattr(tls, "get_unverified_chain") else [der]
    digest = hashlib.sha1(der).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 40, 2)), len(chain)


def http_get(address, host, path="/", sni=None, tls=True, context=None, headers=()):
    """One HTTP/1.1 request (with `headers`, pairs, besides Host); the status and the body."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    with socket.create_connection(address, timeout=10) as raw:
        stream = (context or client_context()).wrap_socket(raw, server_hostname=sni or host) \
            if tls else raw
        with stream:
            stream.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
                           .encode())
            data = b""
            while chunk := stream.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, head.decode(), body


def eventually(check, seconds=3.0):
    """`check()` once it stops raising, within `seconds`."""
    deadline = time.time() + seconds
    while True:
        try:
            return check()
        except (AssertionError, OSError, ssl.SSLError):
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def https_load_balancer(api, certificate, backend_port, **listener):
    created = api("CreateLoadBalancer")
    lb = created["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=backend_port, HealthCheck="off", ServerCertificateId=certificate,
        **listener)
    return lb, (created["Address"], 443 + OFFSET)


def test_the_bound_certificate_is_served_per_sni_and_a_rotation_within_a_second(api):
    backend = HttpBackend("b1")
    root_key, intermediate_key = certs.ec_key(), certs.ec_key()
    root = certs.make_cert(root_key, cn="Root", sans=(), ca=True)
    intermediate = certs.make_cert(intermediate_key, cn="Intermediate", sans=(), ca=True,
                                   issuer=root, issuer_key=root_key)
    default = upload(api, "www.example.org", issuer=intermediate, issuer_key=intermediate_key)
    exact = upload(api, "api.example.com")
    wildcard = upload(api, "*.example.com")
    lb, address = https_load_balancer(api, default, backend.port)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    for domain, certificate in (("api.example.com", exact), ("*.example.com", wildcard)):
        api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443, Domain=domain,
            ServerCertificateId=certificate)
    # Not served while stopped: a grace for a wrong start to show, not a wait for a condition
    # (nothing says "the data plane chose not to listen").
    time.sleep(0.5)
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=1).close()
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)

    fingerprint, chain = eventually(lambda: served(address, "www.example.org"))
    assert fingerprint == fingerprint_of(api, default)
    if hasattr(ssl.SSLSocket, "get_unverified_chain"):
        assert chain == 2  # the whole chain that was uploaded
    assert served(address, "api.example.com")[0] == fingerprint_of(api, exact)  # exact first
    # The same through OpenSSL's own client.
    import subprocess
    shown = subprocess.run(
        f"openssl s_client -connect {address[0]}:{address[1]} -servername api.example.com "
        "</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1",
        shell=True, capture_output=True, text=True, timeout=10).stdout
    assert shown.strip().split("=", 1)[1].lower() == fingerprint_of(api, exact)
    assert served(address, "img.example.com")[0] == fingerprint_of(api, wildcard)
    assert served(address, "other.test")[0] == fingerprint_of(api, default)
    # A wildcard covers one label: not the apex, not two labels.
    assert served(address, "example.com")[0] == fingerprint_of(api, default)
    assert served(address, "a.b.example.com")[0] == fingerprint_of(api, default)

    status, _, body = http_get(address, "www.example.org", "/hello")
    assert status == 200
    echoed = json.loads(body)
    assert echoed["path"] == "/hello" and echoed["headers"]["x-forwarded-for"] == "127.0.0.1"

    # A slow request that started before the rotation finishes on its connection.
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(
        result=http_get(address, "www.example.org", "/slow")))
    thread.start()
    assert backend.slow_started.wait(10), "the slow request did not reach the backend"
    renewed = upload(api, "www.example.org")
    api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
        ServerCertificateId=renewed)
    def renewed_is_served():
        assert served(address, "www.example.org")[0] == fingerprint_of(api, renewed)

    # Within seconds, while the slow request is still on its connection.
    eventually(renewed_is_served, seconds=5.0)
    thread.join(5)
    assert slow["result"][0] == 200
    backend.stop()


def client_ca(api):
    """A CA of client certificates, uploaded: the certificate, its key, its CACertificateId."""
    ca_key = certs.ec_key()
    ca = certs.make_cert(ca_key, cn="Client CA", sans=(), ca=True)
    return ca, ca_key, api("UploadCACertificate", CACertificate=certs.cert_pem(ca))["CACertificateId"]


def test_two_way_authentication(api, plane):
    backend = HttpBackend("b1")
    server_certificate = upload(api, "mtls.example.com")
    ca, ca_key, ca_id = client_ca(api)
    lb, address = https_load_balancer(api, server_certificate, backend.port, CACertificateId=ca_id)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)

    client_key = certs.ec_key()
    client = certs.make_cert(client_key, cn="client", sans=(), issuer=ca, issuer_key=ca_key)
    stranger_key = certs.ec_key()
    stranger = certs.make_cert(stranger_key, cn="stranger", sans=())
    ok = eventually(lambda: http_get(address, "mtls.example.com",
                                     context=client_context(client, client_key)))
    assert ok[0] == 200
    for context in (client_context(), client_context(stranger, stranger_key)):
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            http_get(address, "mtls.example.com", context=context)
    backend.stop()
    # /metrics counts the connections and the handshakes, refused ones apart.
    from test_metrics import sample

    def counted():
        metrics = plane.metrics().text
        assert sample(metrics, "slbcert_dataplane_tls_handshakes_total", outcome="refused") == 2
        assert sample(metrics, "slbcert_dataplane_tls_handshakes_total", outcome="ok") >= 1
        assert sample(metrics, "slbcert_dataplane_connections_total", protocol="https") >= 3
        assert sample(metrics, "slbcert_dataplane_open_connections", protocol="https") == 0
    eventually(counted)


FORGED = [("SLB-ID", "lb-forged"), ("SLB-IP", "6.6.6.6"), ("X-Forwarded-Proto", "gopher"),
          ("X-Forwarded-Port", "1"), ("X-Forwarded-Client-Srcport", "1"),
          ("X-Forwarded-Clientcert-subjectdn", "CN=admin"),
          ("X-Forwarded-Clientcert-issuerdn", "CN=Trusted CA"),
          ("X-Forwarded-Clientcert-fingerprint", "00:11"),
          ("X-Forwarded-Clientcert-clientverify", "SUCCESS")]


def test_client_sent_forwarding_headers_are_replaced_or_removed(api, plane):
    backend = HttpBackend("b1")
    server_certificate = upload(api, "mtls.example.com")
    ca, ca_key, ca_id = client_ca(api)
    client_key = certs.ec_key()
    client = certs.make_cert(client_key, cn="client", sans=(), issuer=ca, issuer_key=ca_key)
    context = client_context(client, client_key)
    # Every header on: each says what the listener knows, not what the client sent.
    on = {name: "on" for name in ("XForwardedFor_SLBID", "XForwardedFor_SLBIP",
                                  "XForwardedFor_proto", "XForwardedFor_SLBPORT",
                                  "XForwardedFor_ClientSrcPort",
                                  "XForwardedFor_ClientCertSubjectDN",
                                  "XForwardedFor_ClientCertIssuerDN",
                                  "XForwardedFor_ClientCertFingerprint",
                                  "XForwardedFor_ClientCertClientVerify")}
    lb, address = https_load_balancer(api, server_certificate, backend.port, CACertificateId=ca_id)
    # The client-certificate flags are go-sdk's: the Python models leave them out.
    raw = RawClient(plane.port, plane.credentials["AccessKeyId"],
                    plane.credentials["AccessKeySecret"])
    set_flags = raw.v1("SetLoadBalancerHTTPSListenerAttribute",
                       {"LoadBalancerId": lb, "ListenerPort": "443", **on})
    assert set_flags.status == 200, set_flags.text
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    status, _, body = eventually(lambda: http_get(address, "mtls.example.com", context=context,
                                                  headers=FORGED), seconds=10)
    assert status == 200
    seen = json.loads(body)["headers"]
    assert seen["slb-id"] == lb and seen["slb-ip"] == address[0]
    assert (seen["x-forwarded-proto"], seen["x-forwarded-port"]) == ("https", "443")
    assert seen["x-forwarded-client-srcport"] != "1"
    assert seen["x-forwarded-clientcert-subjectdn"] == "CN=client"
    assert seen["x-forwarded-clientcert-issuerdn"] == "CN=Client CA"
    digest = hashlib.sha1(client.public_bytes(certs.serialization.Encoding.DER)).hexdigest()
    assert seen["x-forwarded-clientcert-fingerprint"] == \
        ":".join(digest[i:i + 2] for i in range(0, 40, 2))
    assert seen["x-forwarded-clientcert-clientverify"] == "SUCCESS"
    # Every header off: none of the client's copies reaches the backend.
    set_flags = raw.v1("SetLoadBalancerHTTPSListenerAttribute",
                       {"LoadBalancerId": lb, "ListenerPort": "443",
                        **{name: "off" for name in on}})
    assert set_flags.status == 200, set_flags.text

    def plain():
        status, _, body = http_get(address, "mtls.example.com", context=context, headers=FORGED)
        seen = json.loads(body)["headers"]
        assert status == 200 and "slb-id" not in seen, seen
        return seen
    seen = eventually(plain, seconds=10)
    assert not {name.lower() for name, _ in FORGED} & set(seen), seen
    backend.stop()


def test_weights_health_checks_and_no_backend(api, plane):
    heavy, light = HttpBackend("heavy"), HttpBackend("light")
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    address = (api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Address"], 80 + OFFSET)
    group = api("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="g", BackendServers=backends(
        {"ServerId": "i-heavy", "ServerIp": "127.0.0.1", "Port": heavy.port, "Weight": 75},
        {"ServerId": "i-light", "ServerIp": "127.0.0.1", "Port": light.port, "Weight": 25}))["VServerGroupId"]
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        VServerGroupId=group, HealthCheck="on", HealthCheckInterval=1, HealthyThreshold=2,
        UnhealthyThreshold=2, HealthCheckTimeout=1, XForwardedFor_SLBID="on",
        XForwardedFor_proto="on", XForwardedFor_SLBPORT="on")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
    eventually(lambda: http_get(address, "web.example.com", tls=False))

    seen = {"heavy": 0, "light": 0}
    for _ in range(40):
        status, _, body = http_get(address, "web.example.com", tls=False)
        echoed = json.loads(body)
        seen[echoed["backend"]] += 1
    assert seen == {"heavy": 30, "light": 10}
    headers = echoed["headers"]
    assert (headers["slb-id"], headers["x-forwarded-proto"], headers["x-forwarded-port"]) == \
        (lb, "http", "80")

    def statuses():
        health = api("DescribeHealthStatus", LoadBalancerId=lb)["BackendServers"]["BackendServer"]
        return {h["ServerId"]: h["ServerHealthStatus"] for h in health}

    def health_is(expected):
        def check():
            assert statuses() == expected
        return check

    eventually(health_is({"i-heavy": "normal", "i-light": "normal"}))
    heavy.stop()
    # Interval 1 s, unhealthy after 2 failures.
    eventually(health_is({"i-heavy": "abnormal", "i-light": "normal"}), seconds=6)
    # /metrics says the same, per backend address.
    metrics = plane.metrics().text
    for port, healthy in ((heavy.port, 0), (light.port, 1)):
        assert f'backend="127.0.0.1:{port}"' in metrics
        line = next(line for line in metrics.splitlines()
                    if line.startswith("slbcert_backend_healthy{") and f'127.0.0.1:{port}"' in line)
        assert line.endswith(f" {healthy}"), line
    for _ in range(5):
        assert json.loads(http_get(address, "web.example.com", tls=False)[2])["backend"] == "light"
    heavy.restart()
    eventually(health_is({"i-heavy": "normal", "i-light": "normal"}), seconds=6)
    light.stop()
    heavy.stop()

    def unavailable():
        assert http_get(address, "web.example.com", tls=False)[0] == 503

    eventually(unavailable, seconds=8)


def test_redirect_tcp_forwarding_and_stopping(api):
    echo = EchoBackend("echo")
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    ip = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Address"]
    certificate = upload(api, "www.example.com")
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        BackendServerPort=9, HealthCheck="off", ServerCertificateId=certificate)
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        HealthCheck="off", ListenerForward="on", ForwardPort=443)
    api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=7000, Bandwidth=-1,
        BackendServerPort=echo.port, HealthCheckSwitch="off")
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))
    for port in (80, 7000):
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
    status, head, _ = eventually(lambda: http_get((ip, 80 + OFFSET), "www.example.com", "/a?b=1",
                                                  tls=False))
    assert status == 301 and "location: https://www.example.com:443/a?b=1" in head.lower()

    def echoed():
        with socket.create_connection((ip, 7000 + OFFSET), timeout=5) as connection:
            connection.sendall(b"ping")
            return connection.recv(100)

    assert eventually(echoed) == b"echo:ping"
    api("StopLoadBalancerListener", LoadBalancerId=lb, ListenerPort=7000)

    def refused(port):
        def check():
            assert not _connects((ip, port + OFFSET))
        return check

    eventually(refused(7000), seconds=1.0)
    assert _connects((ip, 80 + OFFSET))
    # An inactive load balancer serves nothing.
    api("SetLoadBalancerStatus", LoadBalancerId=lb, LoadBalancerStatus="inactive")
    eventually(refused(80), seconds=1.0)
    echo.stop()


def _connects(address):
    try:
        socket.create_connection(address, timeout=1).close()
        return True
    except OSError:
        return False


def test_protocols_policies_sticky_sessions_and_idle_timeout(api):
    import shutil
    import subprocess
    one, two = HttpBackend("one"), HttpBackend("two")
    certificate = upload(api, "www.example.org")
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    ip = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Address"]
    group = api("CreateVServerGroup", LoadBalancerId=lb, BackendServers=backends(
        {"ServerId": "i-1", "ServerIp": "127.0.0.1", "Port": one.port},
        {"ServerId": "i-2", "ServerIp": "127.0.0.1", "Port": two.port}))["VServerGroupId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
        VServerGroupId=group, HealthCheck="off", ServerCertificateId=certificate,
        TLSCipherPolicy="tls_cipher_policy_1_2", EnableHttp2="on", StickySession="on",
        StickySessionType="insert", CookieTimeout=300, IdleTimeout=1)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    address = (ip, 443 + OFFSET)
    eventually(lambda: served(address, "www.example.org"))

    # tls_cipher_policy_1_2: TLS 1.2 only.
    only_13 = client_context()
    only_13.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError):
        served(address, "www.example.org", only_13)
    with socket.create_connection(address, timeout=5) as raw:
        with client_context().wrap_socket(raw, server_hostname="www.example.org") as tls:
            assert tls.version() == "TLSv1.2"
    api("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443,
        TLSCipherPolicy="tls_cipher_policy_1_2_strict_with_1_3")
    eventually(lambda: served(address, "www.example.org", only_13))

    # The insert cookie keeps a client on its backend.
    status, head, body = http_get(address, "www.example.org")
    cookie = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
              if line.lower().startswith("set-cookie:")][0]
    assert cookie.startswith("SERVERID=") and "Max-Age=300" in cookie
    first = json.loads(body)["backend"]
    for _ in range(6):
        with socket.create_connection(address, timeout=5) as raw:
            with client_context().wrap_socket(raw, server_hostname="www.example.org") as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: www.example.org\r\nCookie: "
                            f"{cookie.split(';')[0]}\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        assert json.loads(data.partition(b"\r\n\r\n")[2])["backend"] == first

    # IdleTimeout=1: a connection that sends nothing is closed.
    with socket.create_connection(address, timeout=5) as raw:
        with client_context().wrap_socket(raw, server_hostname="www.example.org") as tls:
            started = time.time()
            assert tls.recv(100) == b""
            assert time.time() - started < 3

    # h2 by ALPN, with curl where it is installed.
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the h2 check is skipped")
    out = subprocess.run(
        ["curl", "-sk", "--http2", "--resolve", f"www.example.org:{443 + OFFSET}:{ip}",
         "-w", "\n%{http_version}", f"https://www.example.org:{443 + OFFSET}/h2"],
        capture_output=True, text=True, timeout=10, check=True).stdout
    body, version = out.rsplit("\n", 1)
    assert version == "2" and json.loads(body)["path"] == "/h2"
    one.stop(), two.stop()


def test_the_unsigned_status_page_names_no_account(api, plane):
    """An RSA-1024 key passes upload but not the TLS signer: the listener fails, and /dataplane
    says so without the certificate's ID (which holds the account's ID); the log has it."""
    import requests
    certificate = upload(api, "rsa1024.example.com", key=certs.rsa_key(1024))
    lb, address = https_load_balancer(api, certificate, 8443)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)

    def failed():
        page = requests.get(f"{plane.base_url}/dataplane", timeout=5)
        entry = {e["port"]: e for e in page.json()["listeners"]}.get(443, {})
        assert entry.get("state") == "failed", entry
        return page.text
    page = eventually(failed, seconds=10)
    assert "cannot set up TLS" in page
    assert certificate not in page and plane.credentials["AccountId"] not in page
    assert certificate in plane.log()


def test_a_listener_that_cannot_bind_is_reported_and_the_others_serve(api, plane):
    import requests
    echo = EchoBackend("echo")
    lb = api("CreateLoadBalancer")["LoadBalancerId"]
    ip = api("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["Address"]
    # Something else holds the port of one listener.
    squatter = socket.socket()
    squatter.bind((ip, 7001 + OFFSET))
    squatter.listen()
    for port in (7001, 7002):
        api("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=port, Bandwidth=-1,
            BackendServerPort=echo.port, HealthCheckSwitch="off")
        api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
    api("AddBackendServers", LoadBalancerId=lb,
        BackendServers=backends({"ServerId": "i-1", "ServerIp": "127.0.0.1"}))

    def report():
        listeners = requests.get(f"{plane.base_url}/dataplane", timeout=5).json()["listeners"]
        states = {entry["port"]: entry for entry in listeners}
        assert states.get(7002, {}).get("state") == "serving", listeners
        assert states.get(7001, {}).get("state") == "failed", listeners
        return states

    states = eventually(report)
    assert "cannot bind" in states[7001]["reason"]
    assert "cannot bind" in plane.log()
    # The backend was added after the start: the listener may serve a moment before it has it.
    def echoed():
        with socket.create_connection((ip, 7002 + OFFSET), timeout=5) as connection:
            connection.sendall(b"x")
            assert connection.recv(10) == b"echo:x"

    eventually(echoed)
    # Once the port is free, it is served within a few seconds (bind failures retry each second).
    squatter.close()

    def served_now():
        with socket.create_connection((ip, 7001 + OFFSET), timeout=5) as connection:
            connection.sendall(b"y")
            assert connection.recv(10) == b"echo:y"

    eventually(served_now, seconds=3)
    echo.stop()
