"""Acknowledged writes survive `kill -9`; SIGTERM drains and exits 0. (Kills under concurrent
uploads, many times over: test_storage_faults.py.)"""

import certs
from conftest import V1, V3


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


def test_sigterm_exits_zero_after_draining(server, account):
    V1(server, account).call("DescribeServerCertificates")
    assert server.stop() == 0
    log = server.log()
    assert "shutting down" in log and "stopped" in log
