"""Hostile clients, authenticated or not: bounded memory, bounded audit records, no lock-out, no
replay after a restart, well-formed answers whatever the input (issue 7's defects, one test
each, numbered as there)."""

import hashlib
import hmac
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ElementTree

import pytest

import certs
from conftest import V1, Cas, Server, expect_failure, traced, wait_until
from rawclient import RawClient, enc, utc_timestamp, v1_signature


def upload_params():
    key = certs.ec_key("P-256")
    return {"ServerCertificate": certs.cert_pem(certs.make_cert(key)), "PrivateKey": certs.key_pem(key)}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(server, timeout=5):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_response(sock):
    """The status and body of one HTTP response, read until the body is whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, head.decode(), body


def closed_by_peer(sock):
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


# 1. Unauthenticated requests cannot write unbounded data into the audit log, nor a line
#    (or a sync) per request past their source's budget.

def test_1_audit_records_of_unauthenticated_requests_are_bounded(server, raw):
    server.audit_lines()
    before = (server.data_dir / "audit.log").stat().st_size
    huge = "A" * (300 * 1024)
    for _ in range(9):
        headers = {"Authorization": f"ACS3-HMAC-SHA256 Credential={huge},SignedHeaders=host,Signature=00",
                   "x-acs-action": "DeleteServerCertificate", "x-acs-version": "2014-05-15",
                   "x-acs-date": utc_timestamp(), "x-acs-signature-nonce": uuid.uuid4().hex}
        query = {"RegionId": "cn-hangzhou", "ServerCertificateId": "i" * 16000}
        response = raw.send("POST", query, None, headers=headers)
        assert response.status == 400, response.text[:300]
    last = server.audit_lines()[-1]
    grown = (server.data_dir / "audit.log").stat().st_size - before
    assert 0 < grown < 9 * 1024, f"nine refusals added {grown} bytes"
    assert last["outcome"] == "failure" and last["action"] == "DeleteServerCertificate"
    assert len(last["access_key_id"]) <= 128 and len(last["resource_id"]) <= 256


def test_1_a_refusal_flood_is_budgeted_per_source_and_the_drop_is_reported(server, raw):
    start = len(server.audit_lines())
    codes = set()
    for _ in range(400):
        response = raw.v1("DeleteServerCertificate", {"ServerCertificateId": "x"}, secret="wrong")
        codes.add(response.json()["Code"])
    # Every caller still gets the real answer...
    assert codes == {"SignatureDoesNotMatch"}
    # ...but one source adds a bounded number of lines (a burst of 200, then 20 a second).
    assert 200 <= len(server.audit_lines()[start:]) < 300
    time.sleep(0.2)  # not a wait: the budget refills with time (20 a second), the input here
    raw.v1("DeleteServerCertificate", {"ServerCertificateId": "x"}, secret="wrong")
    # Every refusal is either written or counted in a report: once the queue is stored, which
    # takes 250 ms when the machine is idle and may take longer on a loaded one.
    deadline = time.time() + 10
    while True:
        lines = server.audit_lines()[start:]
        refusals = [line for line in lines if line["action"] == "DeleteServerCertificate"]
        reports = [line for line in lines if line["action"] == "AuditRefusalsDropped"]
        accounted = len(refusals) + sum(report["dropped"] for report in reports)
        if accounted >= 401 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert reports and all(report["source"] == "127.0.0.1" for report in reports)
    assert accounted == 401


def test_1_refusals_are_not_synced_one_by_one(tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/test installs it on Debian as root)")
    trace = tmp_path / "syncs.trace"
    server = Server(tmp_path).start()
    raw = RawClient(server.port, server.credentials["AccessKeyId"], "wrong")
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", str(trace),
                               "-p", str(server.process.pid)], stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: traced(server.process.pid), what="strace to attach")
        for _ in range(100):
            assert raw.v1("DeleteServerCertificate", {"ServerCertificateId": "x"}).status == 400
        server.wait_for_refusals_stored(time.time() + 10)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
        server.stop()
    syncs = trace.read_text().count("sync(")
    assert syncs < 10, f"{syncs} syncs for 100 refusals"


# 2. Chunk-size lines (and trailers) are bounded: memory stays flat.

def test_2_an_endless_chunk_extension_is_refused_without_growing(server):
    rss_before = rss_kib(server.process.pid)
    sock = connect(server)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=")
    sent = 0
    try:
        while sent < 64 * 1024 * 1024:
            sock.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _, body = read_response(sock)
    assert status == 413 and json.loads(body)["Code"] == "InvalidParameter.TooLarge"
    assert sent < 8 * 1024 * 1024, f"the server read {sent} bytes of one chunk line"
    assert rss_kib(server.process.pid) - rss_before < 16 * 1024


def test_2_oversized_trailers_are_refused(server):
    sock = connect(server)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
    try:
        for n in range(2000):
            sock.sendall(b"X-Trailer-%d: %s\r\n" % (n, b"v" * 100))
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _, _ = read_response(sock)
    assert status == 413


# 4. (with 3, on a full disk: test_storage_faults.py)

# 5. A captured request does not replay after a restart, not even after kill -9.

@pytest.mark.parametrize("stop", ["sigterm", "kill9"])
def test_5_a_captured_request_does_not_replay_after_a_restart(server, raw, v1, stop):
    uploaded = v1.call("UploadServerCertificate", ServerCertificateName="first", **upload_params())
    certificate_id = uploaded["ServerCertificateId"]
    nonce, timestamp = uuid.uuid4().hex, utc_timestamp()
    rename = {"ServerCertificateId": certificate_id, "ServerCertificateName": "captured"}
    assert raw.v1("SetServerCertificateName", rename, nonce=nonce, timestamp=timestamp).status == 200
    v1.call("SetServerCertificateName", ServerCertificateId=certificate_id, ServerCertificateName="later")
    upload_nonce = uuid.uuid4().hex
    upload = upload_params()
    assert raw.v1("UploadServerCertificate", upload, nonce=upload_nonce, timestamp=timestamp).status == 200
    server.kill9() if stop == "kill9" else server.stop()
    server.start()
    replayed = raw.v1("SetServerCertificateName", rename, nonce=nonce, timestamp=timestamp)
    assert replayed.status == 400 and replayed.json()["Code"] == "SignatureNonceUsed"
    replayed = raw.v1("UploadServerCertificate", upload, nonce=upload_nonce, timestamp=timestamp)
    assert replayed.json()["Code"] == "SignatureNonceUsed"
    items = v1.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert len(items) == 2
    assert [i["ServerCertificateName"] for i in items if i["ServerCertificateId"] == certificate_id] == ["later"]


# 6. Whatever the input, XML and JSON answers are well-formed.

def test_6_control_characters_never_break_xml(raw, v1):
    key = certs.ec_key()
    leaf = certs.make_cert(key, cn="ctl\x01\x1f<&>", sans=("www.example.com",))
    uploaded = raw.v1("UploadServerCertificate", {"ServerCertificate": certs.cert_pem(leaf),
                                                  "PrivateKey": certs.key_pem(key)}, fmt="XML")
    assert uploaded.status == 200, uploaded.text
    root = ElementTree.fromstring(uploaded.text)
    assert root.find("CommonName").text == "ctl\ufffd\ufffd<&>"
    listed = raw.v1("DescribeServerCertificates", fmt="XML")
    ElementTree.fromstring(listed.text)
    json.loads(raw.v1("DescribeServerCertificates").text)
    # An echoed action and refused names.
    echoed = raw.v1("Describe\x02Things", fmt="XML")
    assert echoed.status == 404
    assert ElementTree.fromstring(echoed.text).find("Code").text == "InvalidAction.NotFound"
    refused = raw.v1("TagResources", {"ResourceType": "certificate", "ResourceId.1": "x",
                                      "Tag.1.Key": "bad\x07key"}, fmt="XML")
    assert ElementTree.fromstring(refused.text).find("Code").text == "InvalidTagKey.Malformed"


def test_6_cas_names_with_control_characters_are_refused(server, account):
    key = certs.ec_key()
    expect_failure(lambda: Cas(server, account).call(
        "UploadUserCertificate", Name="a\x00b", Cert=certs.cert_pem(certs.make_cert(key)), Key=certs.key_pem(key)),
        "InvalidParameter", contains="control character")


# 7. Every list parameter has its limit.

def test_7_a_thousand_legacy_tag_filters_are_refused_precisely(raw):
    tags = json.dumps([{"TagKey": str(n % 10)} for n in range(1000)], separators=(",", ":"))
    response = raw.v1("DescribeServerCertificates", {"Tags": tags})
    assert response.status == 400 and response.json()["Code"] == "TagCountLimit", response.text
    twenty_one = [{"TagKey": f"k{n}"} for n in range(21)]
    response = raw.v1("DescribeServerCertificates", {"Tags": json.dumps(twenty_one)})
    assert response.json()["Code"] == "TagCountLimit"
    both = {"Tags": json.dumps(twenty_one[:11]), **{f"Tag.{n}.Key": f"t{n}" for n in range(1, 11)}}
    assert raw.v1("DescribeServerCertificates", both).json()["Code"] == "TagCountLimit"


# 8. Parameters are bounded: nonces in particular.

def test_8_long_nonces_are_refused_v1_and_v3(server, raw):
    rss_before = rss_kib(server.process.pid)
    for _ in range(40):
        response = raw.v1("DescribeServerCertificates", nonce="n" * (400 * 1024))
        assert response.status == 400
        assert "SignatureNonce is 409600 bytes long; at most 128" in response.json()["Message"]
    assert rss_kib(server.process.pid) - rss_before < 32 * 1024
    response = raw.v3("DescribeServerCertificates", nonce="n" * 129)
    assert response.status == 400 and "x-acs-signature-nonce" in response.json()["Message"]
    assert raw.v3("DescribeServerCertificates", nonce="n" * 128).status == 200


# 9. Idle (or slow) connections do not lock a new client out.

def test_9_a_new_client_is_served_within_a_second_when_the_server_is_full(tmp_path):
    server = Server(tmp_path, args=["--max-connections", "32"]).start()
    held = []
    try:
        for n in range(32):
            sock = connect(server)
            if n % 2:  # half slow: a request that never finishes
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        time.sleep(1.2)  # the input: the held connections are idle for over a second
        started = time.monotonic()
        body = V1(server, server.credentials).call("DescribeServerCertificates")
        assert "ServerCertificates" in body
        assert time.monotonic() - started < 1.0
    finally:
        for sock in held:
            sock.close()
        server.stop()


# 10. V3: names are part of the canonical query, so parameters cannot be merged.

def test_10_v3_parameters_cannot_be_merged_into_one_name(server, account, v1):
    certificate_id = v1.call("UploadServerCertificate", ServerCertificateName="kept",
                             **upload_params())["ServerCertificateId"]
    legit = {"RegionId": "cn-hangzhou", "ServerCertificateId": certificate_id,
             "ServerCertificateName": "renamed"}
    canonical = "&".join(f"{k}={enc(v)}" for k, v in sorted(legit.items()))
    # One parameter whose name holds the others: unencoded, it canonicalises as `canonical`.
    merged_name, _, merged_value = canonical.rpartition("=")
    headers = {"host": f"127.0.0.1:{server.port}", "x-acs-action": "SetServerCertificateName",
               "x-acs-version": "2014-05-15", "x-acs-date": utc_timestamp(),
               "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": hashlib.sha256(b"").hexdigest()}
    names = sorted(headers)
    request = "\n".join(["POST", "/", canonical, "".join(f"{n}:{headers[n]}\n" for n in names),
                         ";".join(names), headers["x-acs-content-sha256"]])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(request.encode()).hexdigest()
    signature = hmac.new(account["AccessKeySecret"].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"ACS3-HMAC-SHA256 Credential={account['AccessKeyId']},"
                                f"SignedHeaders={';'.join(names)},Signature={signature}")
    forged = urllib.parse.quote(merged_name, safe="") + "=" + merged_value
    raw = RawClient(server.port, account["AccessKeyId"], account["AccessKeySecret"])
    response = raw.session.post(f"http://127.0.0.1:{server.port}/?{forged}", headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["Code"] == "SignatureDoesNotMatch", response.text


# 11. HTTP/1.0 with Transfer-Encoding: refused, and the connection closed.

def test_11_http10_with_transfer_encoding_closes(server):
    sock = connect(server)
    sock.sendall(b"POST / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    status, head, _ = read_response(sock)
    assert status == 400 and "connection: close" in head.lower()
    assert closed_by_peer(sock)


# 12. Page numbers out of range are refused, not wrapped.

@pytest.mark.parametrize("page", ["9223372036854775807", "4611686018427387905", "2147483648", "0", "-1"])
def test_12_page_numbers_out_of_range_are_refused(server, account, page):
    expect_failure(lambda: Cas(server, account).call("ListUserCertificateOrder", OrderType="UPLOAD",
                                                     CurrentPage=page),
                   "InvalidParameter", contains="CurrentPage")


# 13. A client that does not read holds neither its connection nor shutdown for ever.

def test_13_shutdown_ends_within_its_grace_despite_a_client_that_does_not_read(tmp_path):
    server = Server(tmp_path, args=["--write-timeout", "3", "--shutdown-grace", "2"]).start()
    raw = RawClient(server.port, server.credentials["AccessKeyId"], server.credentials["AccessKeySecret"])
    for n in range(20):
        assert raw.v1("UploadServerCertificate", {**upload_params(), "ServerCertificateName": f"c{n}"}).status == 200
    sock = connect(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Pipelined Describes whose answers (20 certificates each, in XML) the client never reads.
    urls = []
    for _ in range(400):
        params = {**raw.common("DescribeServerCertificates", fmt="XML"), "RegionId": "cn-hangzhou"}
        params["Signature"], _ = v1_signature("GET", params, raw.secret)
        urls.append("/?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
    sock.setblocking(False)
    pipelined = b"".join(f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for url in urls)
    try:
        sock.send(pipelined)
    except BlockingIOError:
        pass
    time.sleep(1)  # the input: the server's writes to the non-reading client back up
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=15)
    assert time.monotonic() - started < 6
    sock.close()


# 15. RSA keys must really pair (SDK upload of a key with the right n, e and a wrong d).

def der_items(der, offset):
    """(tag, header length, content length) of the DER element at offset."""
    tag, first = der[offset], der[offset + 1]
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    return tag, 2 + count, int.from_bytes(der[offset + 2:offset + 2 + count], "big")


def test_15_an_rsa_key_with_a_foreign_private_exponent_is_refused(v3):
    import base64
    from cryptography.hazmat.primitives import serialization
    key = certs.rsa_key(2048)
    der = bytearray(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    _, header, _ = der_items(der, 0)
    offset = header
    for _ in range(3):  # version, n, e
        _, h, length = der_items(der, offset)
        offset += h + length
    _, h, length = der_items(der, offset)  # d
    der[offset + h + length - 1] ^= 0x02
    body = base64.encodebytes(bytes(der)).decode().replace("\n", "")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    forged = f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----\n"
    certificate = certs.cert_pem(certs.make_cert(key))
    expect_failure(lambda: v3.call("UploadServerCertificate", ServerCertificate=certificate, PrivateKey=forged),
                   "InvalidParameter", contains="inconsistent")
    assert v3.call("UploadServerCertificate", ServerCertificate=certificate,
                   PrivateKey=certs.key_pem(key, "pkcs1"))["ServerCertificateId"]
