"""Issue 10's guarantees that a test can hold: one sync per group commit (the audit record commits
with its change), reads that never wait behind writes, and slow clients that hold no database
connection. The speed itself is measured in benches/upload_cpu.rs and benches/scale.rs."""

import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

import certs
from conftest import V1, V3, Failure, Server


def upload(client, name=""):
    key = certs.ec_key("P-256")
    return client.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                       PrivateKey=certs.key_pem(key), ServerCertificateName=name)["ServerCertificateId"]


@pytest.mark.sqlite_only
def test_one_sync_per_commit(tmp_path):
    """One client uploading one certificate at a time makes one commit per upload: about one
    fsync each (the WAL's), where the audit log's own fdatasync once doubled that. The export of
    audit.log and the WAL checkpoints add a few, not one per upload."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/test installs it on Debian as root)")
    trace = tmp_path / "syncs.trace"
    server = Server(tmp_path, ["--quota-server-certificates", "0"]).start()
    client = V1(server, server.credentials)
    bodies = []
    for _ in range(60):
        key = certs.ec_key("P-256")
        bodies.append((certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)))
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", str(trace),
                               "-p", str(server.process.pid)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # attached
        for pem, key in bodies:
            client.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key)
        time.sleep(0.3)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
    try:
        lines = server.audit_lines()
    finally:
        server.stop()
    syncs = trace.read_text().count("sync(")
    print(f"{syncs} fsync/fdatasync calls for 60 uploads")
    assert 60 <= syncs <= 75, f"{syncs} syncs for 60 uploads"
    assert sum(line["action"] == "UploadServerCertificate" for line in lines) == 60


@pytest.mark.sqlite_only
def test_reads_never_wait_behind_writes(server, account):
    """Another process holds SQLite's write lock: writes wait for it (and answer 503 after the
    busy timeout), while reads, on WAL snapshots, answer at once."""
    client = V3(server, account)
    stored = upload(client, "before")
    database = sqlite3.connect(server.data_dir / "slbcert.db", timeout=5, isolation_level=None)
    database.execute("BEGIN IMMEDIATE")
    outcome = {}

    def write():
        try:
            outcome["write"] = upload(V3(server, account), "during")
        except Failure as failure:
            outcome["write"] = failure

    writer = threading.Thread(target=write)
    try:
        writer.start()
        time.sleep(0.3)  # the upload now waits for the lock
        for _ in range(10):
            started = time.monotonic()
            listed = client.call("DescribeServerCertificates", ServerCertificateId=stored)
            assert time.monotonic() - started < 0.5
            assert listed["ServerCertificates"]["ServerCertificate"][0]["ServerCertificateId"] == stored
        assert writer.is_alive(), "the write did not wait for the lock"
    finally:
        database.execute("ROLLBACK")
        database.close()
        writer.join(timeout=15)
    result = outcome["write"]
    assert isinstance(result, str) or (result.code, result.status) == ("ServiceUnavailable", 503), result


def test_slow_clients_hold_no_database_connection(server, account):
    """Fifty clients that send half a request and stall hold no connection to the database nor
    the writer: other clients' reads and writes answer as fast as without them."""
    client = V3(server, account)
    key = certs.ec_key("P-256")
    body = ("ServerCertificate=" + certs.cert_pem(certs.make_cert(key))).encode()
    stalled = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"POST /?Action=UploadServerCertificate HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[: len(body) // 2])
            stalled.append(sock)
        started = time.monotonic()
        for n in range(5):
            stored = upload(client, f"meanwhile{n}")
            assert client.call("DescribeServerCertificates", ServerCertificateId=stored)[
                "ServerCertificates"]["ServerCertificate"]
        assert time.monotonic() - started < 3
    finally:
        for sock in stalled:
            sock.close()
