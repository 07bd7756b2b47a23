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
from conftest import V1, V3, Failure, Server, traced, wait_until


def upload(client, name=""):
    key = certs.ec_key("P-256")
    return client.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                       PrivateKey=certs.key_pem(key), ServerCertificateName=name)["ServerCertificateId"]


@pytest.mark.sqlite_only
def test_one_sync_per_commit(tmp_path):
    """One client uploading one certificate at a time makes one commit per upload: one fsync of
    the database each (the WAL's; checkpoints add a few), where the audit log's own fdatasync in
    the commit once doubled that. The export of audit.log syncs once per round, and a round
    follows commits at most every 50 ms: never more than one sync per upload, however slow."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/test installs it on Debian as root)")
    trace = tmp_path / "syncs.trace"
    server = Server(tmp_path, ["--quota-server-certificates", "0"]).start()
    client = V1(server, server.credentials)
    bodies = []
    for _ in range(60):
        key = certs.ec_key("P-256")
        bodies.append((certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)))
    # -y names each descriptor's file, so that the database's syncs are told from the log's.
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-y", "-e", "trace=fsync,fdatasync",
                               "-o", str(trace), "-p", str(server.process.pid)],
                              stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: traced(server.process.pid), what="strace to attach")
        for pem, key in bodies:
            client.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key)
        lines = server.audit_lines()  # waits until the export holds every record
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
        server.stop()
    calls = [line for line in trace.read_text().splitlines() if "sync(" in line]
    database = [line for line in calls if "slbcert.db" in line]
    audit = [line for line in calls if "audit.log" in line]
    print(f"{len(database)} database and {len(audit)} audit.log syncs for 60 uploads")
    assert 60 <= len(database) <= 70, f"{len(database)} database syncs for 60 uploads"
    assert 1 <= len(audit) <= 60, f"{len(audit)} audit.log syncs for 60 uploads"
    assert len(calls) == len(database) + len(audit), calls
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
        # A grace for the upload to reach the lock; the reads below are checked either way, and
        # writer.is_alive() afterwards shows the write was still waiting while they answered.
        time.sleep(0.3)
        for _ in range(10):
            listed = client.call("DescribeServerCertificates", ServerCertificateId=stored)
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
