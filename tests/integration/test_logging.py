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


def test_a_port_in_use_stops_the_server_with_that_reason_and_no_other_error(tmp_path):
    """The audit export starts before the port is bound; a server that cannot listen stops it
    first, instead of leaving it to fail as the runtime goes away."""
    import socket
    import subprocess

    from conftest import BINARY, cli_env

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "data"
        done = subprocess.run(
            [BINARY, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir),
             "--data-plane", "off", "--log-format", "json"],
            capture_output=True, text=True, timeout=60, env=cli_env(data_dir))
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    levels = [json.loads(line)["level"] for line in done.stderr.splitlines()
              if line.startswith("{")]
    assert levels and "ERROR" not in levels, done.stderr
