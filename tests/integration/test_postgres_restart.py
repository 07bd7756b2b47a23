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

from conftest import V1, Server, wait_until
from load import Uploaders

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
        with Uploaders(server, account) as load:
            wait_until(lambda: len(load.acknowledged) >= 5, what="uploads before the restart")
            before = len(load.acknowledged)
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
            recovered_at = len(load.acknowledged)
            wait_until(lambda: len(load.acknowledged) > recovered_at + 5,
                       what="uploads after the restart")
        assert before > 0 and len(load.acknowledged) > recovered_at, "uploads go on after the restart"
        assert load.refusals and set(load.refusals) == {("ServiceUnavailable", 503)}, set(load.refusals)
        assert 503 in health_during, "/healthz never said the database was away"
        listed = V1(server, account).call("DescribeServerCertificates")
        stored = {c["ServerCertificateId"] for c in listed["ServerCertificates"]["ServerCertificate"]}
        assert set(load.acknowledged) <= stored, "an acknowledged upload is lost"
        assert len(stored - set(load.acknowledged)) <= len(load.workers)
    finally:
        server.stop()
