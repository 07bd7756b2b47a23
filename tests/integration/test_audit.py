"""The audit trail: one JSON record per mutating call, with who, what and how it ended, no secret,
stored in the transaction of its change; audit.log is its ordered export, one line per record."""

import json
import os
import signal
import subprocess
import time

import certs
from conftest import BINARY, V3, Cas, Server, cli_env, expect_failure, wait_until


def audit_lines(server):
    return server.audit_lines()


def test_every_mutation_leaves_one_line_and_reads_leave_none_but_key_reveals(server, account):
    v3, cas = V3(server, account), Cas(server, account)
    start = len(audit_lines(server))
    key = certs.ec_key()
    leaf = certs.make_cert(key)
    uploaded = v3.call("UploadServerCertificate", ServerCertificate=certs.cert_pem(leaf), PrivateKey=certs.key_pem(key))
    certificate_id = uploaded["ServerCertificateId"]
    expect_failure(lambda: v3.call("UploadServerCertificate", ServerCertificate="junk", PrivateKey="junk"),
                   "KeyFormatError")
    v3.call("DescribeServerCertificates")
    v3.call("SetServerCertificateName", ServerCertificateId=certificate_id, ServerCertificateName="n")
    v3.call("TagResources", ResourceType="certificate", ResourceId=[certificate_id], Tag=[{"Key": "k", "Value": "v"}])
    v3.call("ListTagResources", ResourceType="certificate")
    v3.call("UntagResources", ResourceType="certificate", ResourceId=[certificate_id], All=True)
    v3.call("DeleteServerCertificate", ServerCertificateId=certificate_id)
    expect_failure(lambda: v3.call("DeleteServerCertificate", ServerCertificateId=certificate_id),
                   "ServerCertificateId.NotFound")
    ca = v3.call("UploadCACertificate", CACertificate=certs.cert_pem(certs.make_cert(certs.ec_key(), cn="CA", sans=(), ca=True)))
    v3.call("DeleteCACertificate", CACertificateId=ca["CACertificateId"])
    user = cas.call("UploadUserCertificate", Name="u", Cert=certs.cert_pem(leaf), Key=certs.key_pem(key))
    cas.call("GetUserCertificateDetail", CertId=user["CertId"])
    cas.call("DeleteUserCertificate", CertId=user["CertId"])
    created = server.create_account("audited")
    subprocess.run([BINARY, "keys", "rotate", "--data-dir", str(server.data_dir)], check=True, capture_output=True,
                   env=cli_env(server.data_dir))

    lines = audit_lines(server)[start:]
    assert [(l["action"], l["outcome"], l.get("error_code")) for l in lines] == [
        ("UploadServerCertificate", "success", None),
        ("UploadServerCertificate", "failure", "KeyFormatError"),
        ("SetServerCertificateName", "success", None),
        ("TagResources", "success", None),
        ("UntagResources", "success", None),
        ("DeleteServerCertificate", "success", None),
        ("DeleteServerCertificate", "failure", "ServerCertificateId.NotFound"),
        ("UploadCACertificate", "success", None),
        ("DeleteCACertificate", "success", None),
        ("UploadUserCertificate", "success", None),
        ("GetUserCertificateDetail", "success", None),
        ("DeleteUserCertificate", "success", None),
        ("CreateAccount", "success", None),
        ("RotateKeyEncryptionKey", "success", None),
    ]
    reveal = lines[10]
    assert reveal["key_revealed"] is True and reveal["resource_id"] == str(user["CertId"])
    assert reveal["fingerprint"] == certs.fingerprint(leaf)
    assert not any(line.get("key_revealed") for line in lines[:10] + lines[11:])
    api = lines[:12]
    for line in api:
        assert line["account_id"] == account["AccountId"]
        assert line["access_key_id"] == account["AccessKeyId"]
        assert line["source"].startswith("127.0.0.1:")
        assert len(line["request_id"]) == 36 and line["time"].endswith("Z")
    assert lines[0]["resource_id"] == certificate_id
    assert lines[0]["fingerprint"] == certs.fingerprint(leaf)
    assert lines[6]["resource_id"] == certificate_id
    assert lines[9]["resource_id"] == str(user["CertId"])
    assert lines[12]["account_id"] == created["AccountId"] and lines[12]["source"] == "cli"
    assert lines[13]["resource_id"] == "kek-v2"
    text = (server.data_dir / "audit.log").read_text()
    for secret in (account["AccessKeySecret"], created["AccessKeySecret"]):
        assert secret not in text
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text


def test_refused_requests_are_recorded_even_unauthenticated(server, account, raw):
    start = len(audit_lines(server))
    response = raw.v1("DeleteServerCertificate", {"ServerCertificateId": "x"}, secret="wrong")
    assert response.status == 400
    raw.v1("DescribeServerCertificates", secret="wrong")
    [line] = audit_lines(server)[start:]
    assert (line["action"], line["outcome"], line["error_code"]) == (
        "DeleteServerCertificate", "failure", "SignatureDoesNotMatch")
    assert line["access_key_id"] == account["AccessKeyId"]
    assert line["account_id"] == ""
    assert line["request_id"] == response.json()["RequestId"]


def test_an_unwritable_audit_log_delays_its_export_and_loses_nothing(tmp_path):
    """The trail of record is in the database, in each change's own transaction: an audit.log
    that cannot be written (a full disk: /dev/full) holds up no mutation, and the export catches
    up, every record once and in order, once a writable log is given."""
    data_dir = tmp_path / "data"
    out = subprocess.run([BINARY, "account", "create", "--data-dir", str(data_dir), "--json"],
                         check=True, capture_output=True, text=True, env=cli_env(data_dir))
    account = json.loads(out.stdout)
    server = Server(tmp_path, ["--audit-log", "/dev/full"])
    server.data_dir = data_dir
    server.start()
    try:
        v3 = V3(server, account)
        key = certs.ec_key()
        pem, key_pem = certs.cert_pem(certs.make_cert(key)), certs.key_pem(key)
        uploaded = [v3.call("UploadServerCertificate", ServerCertificate=pem, PrivateKey=key_pem)
                    ["ServerCertificateId"] for _ in range(3)]
        expect_failure(lambda: v3.call("UploadServerCertificate", ServerCertificate="junk", PrivateKey="junk"),
                       "KeyFormatError")
        assert server.health() == (200, "ok\n")
        wait_until(lambda: "cannot export the audit trail" in server.log(),
                   what="the exporter to report the unwritable log")
    finally:
        server.stop()
    server.args.remove("/dev/full")
    server.args.remove("--audit-log")
    server.start()
    try:
        lines = server.audit_lines()
    finally:
        server.stop()
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    successes = [line["resource_id"] for line in lines
                 if line["action"] == "UploadServerCertificate" and line["outcome"] == "success"]
    assert successes == uploaded
    assert lines[-1].get("error_code") == "KeyFormatError", [(l["action"], l.get("outcome")) for l in lines]


def test_sighup_reopens_the_audit_log_for_rotation(server, account):
    v3 = V3(server, account)
    key = certs.ec_key()
    params = dict(ServerCertificate=certs.cert_pem(certs.make_cert(key)), PrivateKey=certs.key_pem(key))
    v3.call("UploadServerCertificate", ServerCertificateName="before", **params)
    server.audit_lines()  # exported before the file is moved
    path = server.data_dir / "audit.log"
    rotated = server.data_dir / "audit.log.1"
    os.rename(path, rotated)
    server.process.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    after = v3.call("UploadServerCertificate", ServerCertificateName="after", **params)
    new_lines = server.audit_lines(path)
    assert [(line["action"], line["resource_id"]) for line in new_lines] == [
        ("UploadServerCertificate", after["ServerCertificateId"])]
    assert "after" not in rotated.read_text() and after["ServerCertificateId"] not in rotated.read_text()
    assert server.process.poll() is None
