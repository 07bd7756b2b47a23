"""`serve --ephemeral` and a fixed first identity: the credentials come as one JSON line on
stdout, the official SDKs work with them, and SIGTERM leaves nothing behind; fixed credentials
are checked against a store that already has accounts."""

import json
import os
import signal
import subprocess

import pytest

import certs
from conftest import BINARY, REGION, Server, cli_env
from slb import Api

FIXED = {"AccountId": "1234567890123456", "AccessKeyId": "LTAIciFixedKey000000001",
         "AccessKeySecret": "ciFixedSecret0123456789abcdef"}
FLAGS = ["--account-id", FIXED["AccountId"], "--access-key-id", FIXED["AccessKeyId"],
         "--access-key-secret", FIXED["AccessKeySecret"]]


class Endpoint:
    """What conftest's clients need of a server: its port (and no TLS)."""

    def __init__(self, endpoint):
        self.port = int(endpoint.rsplit(":", 1)[1])
        self.tls = False
        self.ca_file = None


@pytest.mark.sqlite_only
def test_ephemeral_prints_credentials_and_leaves_nothing_behind(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = dict(os.environ, TMPDIR=str(temporary))
    env.pop("SLBCERT_DATABASE_URL", None)
    process = subprocess.Popen([BINARY, "serve", "--ephemeral", "--listen", "127.0.0.1:0",
                                "--data-plane", "off", *FLAGS],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)
    try:
        announced = json.loads(process.stdout.readline())
        assert {k: announced[k] for k in FIXED} == FIXED
        assert announced["Endpoint"].startswith("127.0.0.1:")
        data_dir = announced["DataDir"]
        assert data_dir.startswith(str(temporary)) and os.path.isdir(data_dir)
        assert oct(os.stat(data_dir).st_mode & 0o777) == "0o700"
        endpoint = Endpoint(announced["Endpoint"])
        key = certs.ec_key()
        pem = certs.cert_pem(certs.make_cert(key, cn="ci.example.com", sans=("ci.example.com",)))
        for kind in ("v1", "v3"):
            api = Api(kind, endpoint, FIXED)
            api("UploadServerCertificate", ServerCertificate=pem, PrivateKey=certs.key_pem(key))
        listed = Api("v3", endpoint, FIXED)("DescribeServerCertificates", RegionId=REGION)
        assert len(listed["ServerCertificates"]["ServerCertificate"]) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert not os.path.exists(data_dir)
    assert list(temporary.iterdir()) == []


def test_fixed_credentials_must_match_a_store_that_has_accounts(tmp_path):
    server = Server(tmp_path, args=FLAGS).start()
    assert server.credentials == FIXED
    Api("v1", server, FIXED)("DescribeServerCertificates")
    server.stop()
    # The same identity again: it is the store's.
    server.start()
    server.stop()
    for flags, reason in (
            (["--access-key-id", "LTAIsomeOtherKey0000001"], "is not theirs"),
            (["--account-id", "9999999999999999", "--access-key-id", FIXED["AccessKeyId"]],
             "belongs to account 1234567890123456"),
            (["--access-key-id", FIXED["AccessKeyId"],
              "--access-key-secret", "aDifferentSecret0123456789"], "is not the --access-key-secret"),
            (["--account-id", "9999999999999999"], "9999999999999999 is not one of them")):
        result = subprocess.run([BINARY, "serve", "--data-dir", str(server.data_dir),
                                 "--listen", "127.0.0.1:0", "--data-plane", "off", *flags],
                                capture_output=True, text=True, timeout=30,
                                env=cli_env(server.data_dir))
        assert result.returncode != 0 and reason in result.stderr, result.stderr
        assert "aDifferentSecret" not in result.stderr


@pytest.mark.parametrize("flags, refusal", [
    (["--account-id", "0123456789012345"], "16 digits, the first not 0"),
    (["--access-key-id", "LTAI-bad"], "16 to 64 letters and digits"),
    (["--access-key-id", "LTAIgoodKey000000001", "--access-key-secret", "short!"],
     "16 to 64 letters and digits"),
    (["--ephemeral", "--data-dir", "/tmp/x"], "cannot be used with"),
])
def test_bad_identity_flags_are_refused(flags, refusal):
    result = subprocess.run([BINARY, "serve", *flags], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and refusal in result.stderr, result.stderr
    assert "short!" not in result.stderr
