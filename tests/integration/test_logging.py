"""`--log-format json`: one JSON object per line for log shippers, with the request's fields at
the top level, and still no secrets."""

import json

import certs
from conftest import V3, Server


def test_json_logs_are_one_object_per_line_and_hold_no_secrets(tmp_path):
    server = Server(tmp_path, args=["--log-format", "json"]).start()
    try:
        account = server.credentials
        key = certs.rsa_key()
        pem_key = certs.key_pem(key)
        V3(server, account).call("UploadServerCertificate",
                                 ServerCertificate=certs.cert_pem(certs.make_cert(key)),
                                 PrivateKey=pem_key)
    finally:
        server.stop()
    text = server.log()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all({"timestamp", "level", "message"} <= line.keys() for line in lines)
    requests = [line for line in lines if line["message"] == "request"]
    upload = next(line for line in requests if line["action"] == "UploadServerCertificate")
    assert upload["status"] == 200 and upload["code"] == "" and upload["request_id"]
    body = pem_key.split("-----")[2].strip().splitlines()[1]
    assert body not in text and account["AccessKeySecret"] not in text
