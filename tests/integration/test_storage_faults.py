"""Storage faults and crashes: a full database disk answers 503 ServiceUnavailable and changes
nothing, /healthz says so until space returns, the audit log never keeps a torn line and follows
the database across a full disk and kill -9, and kill -9 under concurrent uploads loses no
acknowledged upload and leaves nothing half there (issues 7 and 10)."""

import json
import os
import sqlite3
import subprocess
import threading
import time

import pytest

import certs
from conftest import V1, V3, Failure, Server, admin_connection, read_between_rounds


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MiB tmpfs (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory):
    """Fills the file system of `directory`; returns the filler's path."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        block = b"\0" * 65536
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError:
            pass
        # Then byte by byte-ish, so that not even a page is left.
        for size in (4096, 512, 64, 1):
            try:
                while True:
                    out.write(b"\0" * size)
                    out.flush()
            except OSError:
                pass
    return filler


def upload(client, name):
    key = certs.ec_key()
    return client.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                       PrivateKey=certs.key_pem(key), ServerCertificateName=name)


def uploads_until_refused(client, prefix):
    """Uploads until the server refuses; returns the acknowledged IDs and the refusal."""
    acknowledged = []
    for n in range(200):
        try:
            acknowledged.append(upload(client, f"{prefix}{n}")["ServerCertificateId"])
        except Failure as failure:
            return acknowledged, failure
    raise AssertionError("the full disk never refused a write")


def check_recovery(server, client, filler, acknowledged):
    status, text = server.health()
    assert status == 503 and text.startswith("unavailable:"), text
    filler.unlink()
    deadline = time.time() + 10
    while server.health()[0] != 200 and time.time() < deadline:
        time.sleep(0.1)
    assert server.health() == (200, "ok\n")
    after = upload(client, "after")["ServerCertificateId"]
    listed = {item["ServerCertificateId"]
              for item in client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]}
    assert listed == set(acknowledged) | {after}


@pytest.mark.sqlite_only
def test_a_full_database_disk_answers_503_and_recovers(tmp_path, small_disk):
    server = Server(tmp_path, data_dir=small_disk / "data",
                    args=["--audit-log", str(tmp_path / "audit.log"),
                          "--quota-server-certificates", "0"]).start()
    try:
        client = V3(server, server.credentials)
        acknowledged = [upload(client, f"before{n}")["ServerCertificateId"] for n in range(3)]
        filler = fill(small_disk)
        more, refusal = uploads_until_refused(client, "full")
        acknowledged += more
        assert (refusal.code, refusal.status) == ("ServiceUnavailable", 503)
        assert "disk is full" in refusal.message or "cannot be read or written" in refusal.message
        # Reads still work, and show nothing of the refused write.
        items = client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
        assert {item["ServerCertificateId"] for item in items} == set(acknowledged)
        check_recovery(server, client, filler, acknowledged)
        assert "InternalError" not in server.log()
    finally:
        server.stop()


def test_a_full_audit_disk_holds_up_nothing_and_never_tears_a_line(tmp_path, small_disk):
    """audit.log is an export of the trail the database holds: on a full disk, uploads are still
    acknowledged (each with its record, in its own transaction), the log never keeps a torn line,
    and once there is room it catches up with every record, once each and in order."""
    audit_log = small_disk / "audit.log"
    server = Server(tmp_path, args=["--audit-log", str(audit_log), "--quota-server-certificates", "0"]).start()
    try:
        client = V3(server, server.credentials)
        acknowledged = [upload(client, f"before{n}")["ServerCertificateId"] for n in range(3)]
        server.audit_lines(audit_log)
        filler = fill(small_disk)
        # Shrink the filler by less than a line at a time: the export then finds a few bytes
        # free, which a partial line would take.
        for _ in range(30):
            with open(filler, "r+b") as out:
                out.truncate(max(0, os.path.getsize(filler) - 200))
            acknowledged.append(upload(client, f"edge{len(acknowledged)}")["ServerCertificateId"])
            time.sleep(0.06)
            assert read_between_rounds(audit_log).endswith("\n"), "a torn line is left at the end of the audit log"
        fill(small_disk)
        acknowledged += [upload(client, f"full{n}")["ServerCertificateId"] for n in range(5)]
        assert server.health() == (200, "ok\n")
        assert server.stored_audit_seq() > json.loads(read_between_rounds(audit_log).splitlines()[-1])["seq"]
        filler.unlink()
        lines = server.audit_lines(audit_log)
        succeeded = [line["resource_id"] for line in lines
                     if line["action"] == "UploadServerCertificate" and line["outcome"] == "success"]
        assert succeeded == acknowledged
    finally:
        server.stop()


def test_kill_9_under_concurrent_uploads_many_times(tmp_path):
    """Ten SIGKILLs under eight uploading clients: every acknowledged upload is there, whole;
    nothing else is half there; the database and the audit log are intact."""
    server = Server(tmp_path, args=["--quota-server-certificates", "0"]).start()
    account = server.credentials
    key = certs.ec_key("P-256")
    certificate = certs.make_cert(key)
    params = dict(ServerCertificate=certs.cert_pem(certificate), PrivateKey=certs.key_pem(key))
    acknowledged = []
    try:
        for round_ in range(10):
            lock, stop = threading.Lock(), threading.Event()
            done = []

            def uploader():
                client = V3(server, account)
                while not stop.is_set():
                    try:
                        body = client.call("UploadServerCertificate", **params)
                    except Exception:  # the server died under us: the request is lost
                        return
                    with lock:
                        done.append(body["ServerCertificateId"])

            workers = [threading.Thread(target=uploader) for _ in range(8)]
            for worker in workers:
                worker.start()
            deadline = time.time() + 20
            while len(done) < 100 + 20 * round_ and time.time() < deadline:
                time.sleep(0.005)
            server.kill9()
            stop.set()
            for worker in workers:
                worker.join(timeout=30)
            assert len(done) >= 100
            acknowledged += done
            server.start()
            items = V1(server, account).call("DescribeServerCertificates")["ServerCertificates"][
                "ServerCertificate"]
            stored = {item["ServerCertificateId"] for item in items}
            assert set(acknowledged) <= stored, f"round {round_}: an acknowledged upload is lost"
            # Whatever else is there committed with its answer lost (one per worker at most).
            assert len(stored) - len(acknowledged) <= 8 * (round_ + 1)
            for item in items:
                assert item["Fingerprint"] == certs.fingerprint(certificate)
                assert item["CommonName"] == "www.example.com" and item["EncryptionKeyLength"] == 256
        # The export followed every kill: each committed record once, in order, none torn.
        lines = server.audit_lines()
        uploaded = {line["resource_id"] for line in lines
                    if line["action"] == "UploadServerCertificate" and line["outcome"] == "success"}
        assert uploaded == stored
    finally:
        server.stop()
    if server.database_url:
        with admin_connection(server.database_url) as database:
            assert database.execute(
                "SELECT COUNT(*) FROM certificates c LEFT JOIN certificate_keys k ON k.certificate_id = c.id "
                "WHERE c.kind = 'server' AND k.certificate_id IS NULL").fetchone() == (0,)
        return
    database = sqlite3.connect(server.data_dir / "slbcert.db")
    try:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Every certificate has its sealed key: nothing is half there.
        assert database.execute(
            "SELECT COUNT(*) FROM certificates c LEFT JOIN certificate_keys k ON k.certificate_id = c.id "
            "WHERE c.kind = 'server' AND k.certificate_id IS NULL").fetchone() == (0,)
    finally:
        database.close()


@pytest.mark.sqlite_only
def test_a_locked_database_answers_503_then_recovers(server, account):
    """Another process holds the write lock past the busy timeout (2 s)."""
    client = V3(server, account)
    upload(client, "before")
    locker = sqlite3.connect(server.data_dir / "slbcert.db", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        started = time.time()
        with pytest.raises(Failure) as refused:
            upload(client, "while-locked")
        assert (refused.value.code, refused.value.status) == ("ServiceUnavailable", 503)
        assert "database is locked" in refused.value.message
        assert time.time() - started < 8
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert server.health() == (200, "ok\n")
    upload(client, "after")
    names = [item["ServerCertificateName"]
             for item in client.call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]]
    assert names == ["before", "after"]
