"""Let's Encrypt's test CA, pebble, and its mock DNS server, pebble-challtestsrv (Debian's
`pebble` package; scripts/test installs it), on free loopback ports: the ACME CA that the
certificate-request tests apply to. Nothing reaches the network: pebble resolves every name on
challtestsrv, which answers 127.0.0.1 for any A query and the TXT records a test sets."""

import datetime
import hashlib
import http.server
import json
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import certs
from conftest import wait_until


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _https_identity(directory):
    """A CA and a certificate for 127.0.0.1/localhost signed by it: pebble's HTTPS, which
    slbcert trusts through --acme-ca-file."""
    # Valid for years: a server run under faketime, years ahead, still trusts it.
    until = certs.now() + datetime.timedelta(days=20 * 365)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certs.make_cert(root_key, cn="pebble test HTTPS root", sans=(), ca=True,
                           not_after=until)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certs.make_cert(leaf_key, cn="localhost", sans=("localhost",), ips=("127.0.0.1",),
                           issuer=root, issuer_key=root_key, not_after=until)
    (directory / "root.pem").write_text(certs.cert_pem(root))
    (directory / "cert.pem").write_text(certs.cert_pem(leaf))
    (directory / "key.pem").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return directory / "root.pem"


class Pebble:
    """pebble and challtestsrv, started in `directory`; stop() ends both."""

    def __init__(self, directory, http_port=None, blocklist=(), external_accounts=None):
        """external_accounts: {key ID: base64url HMAC key}, which new accounts must be bound to."""
        for tool in ("pebble", "pebble-challtestsrv"):
            if not shutil.which(tool):
                pytest.fail(f"{tool} is not installed: scripts/test installs Debian's pebble "
                            "package (apt-get install pebble)")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.ca_file = _https_identity(directory)
        self.port = free_port()
        self.management_port = free_port()
        self.dns_port = free_port(socket.SOCK_DGRAM)
        self.challenges_port = free_port()
        # Where pebble's validator fetches FILE proofs: a test serves them there (or slbcert's
        # data plane does).
        self.http_port = http_port or free_port()
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(directory / "cert.pem"),
            "privateKey": str(directory / "key.pem"),
            "httpPort": self.http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": bool(external_accounts),
            "externalAccountMACKeys": dict(external_accounts or {}),
            "domainBlocklist": list(blocklist),
        }}
        (directory / "pebble.json").write_text(json.dumps(config))
        log = open(directory / "challtestsrv.log", "ab")
        self.challtestsrv = subprocess.Popen(
            ["pebble-challtestsrv", "-management", f"127.0.0.1:{self.challenges_port}",
             "-dns01", f"127.0.0.1:{self.dns_port}", "-http01", "", "-https01", "",
             "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
            stdout=log, stderr=log)
        # No random validation delay; no nonce refused at random; no authorization reused
        # across orders (each test's domain is its own anyway).
        env = {"PATH": "/usr/bin:/bin", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
               "PEBBLE_AUTHZREUSE": "0"}
        log = open(directory / "pebble.log", "ab")
        self.pebble = subprocess.Popen(
            ["pebble", "-config", str(directory / "pebble.json"),
             "-dnsserver", f"127.0.0.1:{self.dns_port}"],
            stdout=log, stderr=log, env=env)
        self._wait_until_serving()

    @property
    def directory_url(self):
        return f"https://127.0.0.1:{self.port}/dir"

    @property
    def dns_resolver(self):
        return f"127.0.0.1:{self.dns_port}"

    def slbcert_args(self, *more):
        """What `slbcert serve` needs to apply to this CA."""
        return ["--acme-directory", self.directory_url, "--acme-ca-file", str(self.ca_file),
                "--acme-email", "tests@example.com", "--acme-dns-resolver", self.dns_resolver,
                "--acme-http-port", str(self.http_port), *more]

    def _wait_until_serving(self):
        def serving():
            for process, name in ((self.pebble, "pebble"), (self.challtestsrv, "challtestsrv")):
                if process.poll() is not None:
                    log = (self.directory / f"{name}.log").read_text()
                    raise RuntimeError(f"{name} exited early:\n{log}")
            try:
                directory = requests.get(self.directory_url, verify=str(self.ca_file), timeout=2)
                management = requests.get(
                    f"http://127.0.0.1:{self.challenges_port}/", timeout=2)
            except requests.ConnectionError:
                return False
            return directory.status_code == 200 and management.status_code in (200, 404)

        wait_until(serving, timeout=20, what="pebble and challtestsrv to serve")

    def _manage(self, path, body):
        response = requests.post(f"http://127.0.0.1:{self.challenges_port}{path}",
                                 json=body, timeout=5)
        assert response.status_code == 200, (path, response.status_code, response.text)

    def set_txt(self, name, value):
        """The TXT record `name` (a full name) holds `value`."""
        self._manage("/set-txt", {"host": name.rstrip(".") + ".", "value": value})

    def add_a(self, name, address):
        """`name` resolves to `address` (instead of 127.0.0.1)."""
        self._manage("/add-a", {"host": name.rstrip(".") + ".", "addresses": [address]})

    def clear_txt(self, name):
        self._manage("/clear-txt", {"host": name.rstrip(".") + "."})

    def _management_get(self, path):
        response = requests.get(f"https://127.0.0.1:{self.management_port}{path}",
                                verify=str(self.ca_file), timeout=5)
        assert response.status_code == 200, (path, response.status_code)
        return response.text

    def issuing_chain(self):
        """pebble's root and intermediate of this run (made anew at each start)."""
        root = x509.load_pem_x509_certificate(self._management_get("/roots/0").encode())
        intermediate = x509.load_pem_x509_certificate(
            self._management_get("/intermediates/0").encode())
        return root, intermediate

    def stop(self):
        for process in (self.pebble, self.challtestsrv):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


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


def csr_pem(key, *names, cn=None):
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn or names[0])]))
    builder = builder.add_extension(
        x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def verify_issued(pem_chain, pebble, domain, at=None):
    """The chain's leaf names `domain` and was signed by pebble's intermediate, which its root
    signed: issued by this CA, not made up. Returns the leaf."""
    chain = x509.load_pem_x509_certificates(pem_chain.encode())
    leaf = chain[0]
    root, intermediate = pebble.issuing_chain()
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [domain]
    at = at or datetime.datetime.now(datetime.timezone.utc)
    assert leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc
    return leaf


# The helpers of the certificate request tests (test_certificate_requests.py,
# test_certificate_renewal.py): a module's own pebble, and ways to follow orders and listeners.

@pytest.fixture(scope="module")
def pebble(tmp_path_factory):
    ca = Pebble(tmp_path_factory.mktemp("pebble"), blocklist=["blocked.example"])
    yield ca
    ca.stop()


def raw_cas(server, action, **params):
    """An SSL Certificates Service answer as it is on the wire, with the fields the SDK's
    models leave out (`Message` of a verify_fail, `RenewalTime` of an order)."""
    from rawclient import RawClient
    account = server.credentials
    raw = RawClient(server.port, account["AccessKeyId"], account["AccessKeySecret"])
    response = raw.v1(action, {name: str(value) for name, value in params.items()},
                      region=False, version="2020-04-07")
    body = response.json()
    assert response.status == 200, body
    return body


def zero_touch_args(pebble, *more):
    """`serve` flags for a data plane whose port 80 is where pebble's validator connects, on
    addresses of its own (so that servers of tests running side by side never share one)."""
    pool = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
    return pebble.slbcert_args("--data-plane", "on", "--listener-port-offset",
                               str(pebble.http_port - 80), "--address-pool", pool, *more)


def proving_listener(api, backend):
    """A load balancer with a running HTTP listener on port 80 in front of `backend`: the
    listener answers its account's file proofs. Its ID and address."""
    created = api("CreateLoadBalancer")
    lb, address = created["LoadBalancerId"], created["Address"]
    api("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
        BackendServerPort=backend.port, HealthCheck="off")
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=80)
    return lb, address


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
