"""PostgreSQL itself restarted under load (pg_ctlcluster, as root): requests answer 503
`ServiceUnavailable` while it is away, /healthz says so, no acknowledged write is lost, and the
node recovers by itself. It stops the machine's PostgreSQL for a moment, so scripts/test runs it
alone, after the PostgreSQL pass (`-m pg_restart`)."""

import os
import shutil
import subprocess
import threading
import time

import pytest

import certs
from conftest import V1, V3, Failure, Server

pytestmark = [pytest.mark.postgres_only, pytest.mark.pg_restart]


def restart_postgres():
    versions = os.listdir("/etc/postgresql")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart",
                    "--", "-m", "fast"], check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("pg_ctlcluster")
                    or not os.path.isdir("/etc/postgresql"),
                    reason="restarting PostgreSQL needs root and Debian's pg_ctlcluster")
def test_postgresql_restarted_under_load(tmp_path):
    server = Server(tmp_path, ["--quota-server-certificates", "0"]).start()
    try:
        account = server.credentials
        key = certs.ec_key()
        params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                      PrivateKey=certs.key_pem(key))
        acknowledged, refusals, stop = [], [], threading.Event()
        lock = threading.Lock()

        def uploader():
            client = V3(server, account)
            while not stop.is_set():
                try:
                    made = client.call("UploadServerCertificate", **params)["ServerCertificateId"]
                    with lock:
                        acknowledged.append(made)
                except Failure as failure:
                    with lock:
                        refusals.append((failure.code, failure.status))
                    time.sleep(0.02)

        workers = [threading.Thread(target=uploader) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(1)
        before = len(acknowledged)
        health_during = []
        restarter = threading.Thread(target=restart_postgres)
        restarter.start()
        while restarter.is_alive():
            health_during.append(server.health()[0])
            time.sleep(0.05)
        restarter.join()
        deadline = time.time() + 20
        while server.health() != (200, "ok\n"):
            assert time.time() < deadline, "the node did not recover by itself"
            time.sleep(0.1)
        recovered_at = len(acknowledged)
        time.sleep(1)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        assert before > 0 and len(acknowledged) > recovered_at, "uploads go on after the restart"
        assert refusals and set(refusals) == {("ServiceUnavailable", 503)}, set(refusals)
        assert 503 in health_during, "/healthz never said the database was away"
        listed = V1(server, account).call("DescribeServerCertificates")
        stored = {c["ServerCertificateId"] for c in listed["ServerCertificates"]["ServerCertificate"]}
        assert set(acknowledged) <= stored, "an acknowledged upload is lost"
        assert len(stored - set(acknowledged)) <= len(workers)
    finally:
        server.stop()
