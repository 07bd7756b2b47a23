"""Acknowledged writes survive `kill -9`; SIGTERM drains and exits 0."""

import threading
import time

import certs
from conftest import V1, V3, Failure, Server


def test_nothing_acknowledged_is_lost_to_kill_9(server, account):
    v3 = V3(server, account)
    before = []
    for curve in ("P-256", "P-384", "P-521"):
        key = certs.ec_key(curve)
        leaf, mid, root = certs.chain(key, certs.ec_key("P-256"), certs.rsa_key(2048))
        before.append(v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf, mid, root),
                              PrivateKey=certs.key_pem(key), ServerCertificateName=f"kill-{curve}"))
    v3.call("SetServerCertificateName", ServerCertificateId=before[0]["ServerCertificateId"],
            ServerCertificateName="renamed")
    v3.call("DeleteServerCertificate", ServerCertificateId=before[2]["ServerCertificateId"])
    assert server.kill9() == -9
    server.start()
    after = V1(server, account).call("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert [item["ServerCertificateId"] for item in after] == [
        before[0]["ServerCertificateId"], before[1]["ServerCertificateId"]]
    assert after[0]["ServerCertificateName"] == "renamed"
    for item, uploaded in zip(after, before):
        for field in ("Fingerprint", "CommonName", "ExpireTimeStamp", "CreateTimeStamp", "ResourceGroupId"):
            assert item[field] == uploaded[field]


def test_concurrent_uploads_then_kill_9_keep_every_acknowledged_one(tmp_path):
    server = Server(tmp_path).start()
    account = server.credentials
    key = certs.ec_key("P-256")
    certificate = certs.make_cert(key)
    params = dict(ServerCertificate=certs.cert_pem(certificate), PrivateKey=certs.key_pem(key))
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def uploader():
        client = V3(server, account)
        while not stop.is_set():
            try:
                body = client.call("UploadServerCertificate", **params)
            except (Failure, Exception):  # the server dies under us: the request is lost
                return
            with lock:
                acknowledged.append(body["ServerCertificateId"])

    workers = [threading.Thread(target=uploader) for _ in range(8)]
    for worker in workers:
        worker.start()
    deadline = time.time() + 20
    while len(acknowledged) < 60 and time.time() < deadline:
        time.sleep(0.01)
    server.kill9()
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert len(acknowledged) >= 60
    try:
        server.start()
        items = V1(server, account).call("DescribeServerCertificates")["ServerCertificates"][
            "ServerCertificate"]
        stored = {item["ServerCertificateId"] for item in items}
        assert set(acknowledged) <= stored
        # Whatever else is there (committed, its answer lost to the kill: at most one in
        # flight per worker) is whole.
        assert all(item["Fingerprint"] == certs.fingerprint(certificate) for item in items)
        assert len(stored) - len(acknowledged) <= len(workers)
    finally:
        server.stop()


def test_sigterm_exits_zero_after_draining(server, account):
    V1(server, account).call("DescribeServerCertificates")
    assert server.stop() == 0
    log = server.log()
    assert "shutting down" in log and "stopped" in log
