"""`serve --seed FILE`: accounts with fixed credentials, certificates from PEM files, a load
balancer with an HTTPS listener bound to a seeded certificate and a domain extension, all made
through the API's handlers and seen by the official SDK; a bad file refuses start-up, names the
bad item, and leaves nothing of what was made before it."""

import json
import subprocess

import certs
from conftest import BINARY, Server, cli_env
from slb import Api

FIRST = {"AccountId": "1234567890123456", "AccessKeyId": "LTAIseedFirstKey0000001",
         "AccessKeySecret": "seedFirstSecret0123456789abc"}
SECOND = {"AccessKeyId": "LTAIseedSecondKey000001", "AccessKeySecret": "seedSecondSecret0123456789ab"}


def write_pems(directory):
    key = certs.ec_key()
    (directory / "web.pem").write_text(certs.cert_pem(
        certs.make_cert(key, cn="www.example.com", sans=("www.example.com", "example.com"))))
    (directory / "web.key").write_text(certs.key_pem(key))
    ca_key = certs.ec_key()
    (directory / "ca.pem").write_text(certs.cert_pem(
        certs.make_cert(ca_key, cn="Client CA", sans=(), ca=True)))
    (directory / "stranger.key").write_text(certs.key_pem(certs.ec_key()))


SEED = f"""
accounts:
  - account_id: "{FIRST['AccountId']}"
    access_key_id: {FIRST['AccessKeyId']}
    access_key_secret: {FIRST['AccessKeySecret']}
    certificates:
      - {{name: web, certificate: certs/web.pem, private_key: certs/web.key}}
    ca_certificates:
      - {{name: clients, certificate: certs/ca.pem}}
    load_balancers:
      - name: shop
        listeners:
          - port: 443
            protocol: https
            backend_port: 80
            certificate: web
            ca_certificate: clients
            domain_extensions:
              - {{domain: www.example.com, certificate: web}}
          - {{port: 80, protocol: http, backend_port: 80, start: false}}
  - name: team-b
    access_key_id: {SECOND['AccessKeyId']}
    access_key_secret: {SECOND['AccessKeySecret']}
    region: cn-beijing
    certificates:
      - {{name: theirs, certificate: certs/web.pem, private_key: certs/web.key}}
"""


def seed_file(tmp_path, text, name="seed.yaml"):
    (tmp_path / "certs").mkdir(exist_ok=True)
    write_pems(tmp_path / "certs")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_seeded_server_is_what_the_sdk_sees(tmp_path):
    server = Server(tmp_path, args=["--seed", str(seed_file(tmp_path, SEED))]).start()
    try:
        assert server.credentials == FIRST
        api = Api("v1", server, FIRST)
        web = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
        assert [c["ServerCertificateName"] for c in web] == ["web"]
        (lb,) = api("DescribeLoadBalancers")["LoadBalancers"]["LoadBalancer"]
        assert lb["LoadBalancerName"] == "shop"
        v3 = Api("v3", server, FIRST)
        https = v3("DescribeLoadBalancerHTTPSListenerAttribute",
                   LoadBalancerId=lb["LoadBalancerId"], ListenerPort=443)
        assert https["ServerCertificateId"] == web[0]["ServerCertificateId"]
        assert https["Status"] == "running"
        ca = v3("DescribeCACertificates")["CACertificates"]["CACertificate"]
        assert https["CACertificateId"] == ca[0]["CACertificateId"]
        http = v3("DescribeLoadBalancerHTTPListenerAttribute",
                  LoadBalancerId=lb["LoadBalancerId"], ListenerPort=80)
        assert http["Status"] == "stopped"
        extensions = v3("DescribeDomainExtensions", LoadBalancerId=lb["LoadBalancerId"],
                        ListenerPort=443)["DomainExtensions"]["DomainExtension"]
        assert [e["Domain"] for e in extensions] == ["www.example.com"]
        theirs = Api("v3", server, SECOND)("DescribeServerCertificates", RegionId="cn-beijing")
        assert [c["ServerCertificateName"]
                for c in theirs["ServerCertificates"]["ServerCertificate"]] == ["theirs"]
        # A restart does not seed again.
        server.stop()
        server.start()
        assert len(api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 1
    finally:
        server.stop()


def test_a_json_seed_works_too(tmp_path):
    seed = {"accounts": [{"certificates": [
        {"name": "web", "certificate": "certs/web.pem", "private_key": "certs/web.key"}]}]}
    path = seed_file(tmp_path, json.dumps(seed), "seed.json")
    server = Server(tmp_path, args=["--seed", str(path)]).start()
    try:
        listed = Api("v3", server, server.credentials)("DescribeServerCertificates")
        assert [c["ServerCertificateName"]
                for c in listed["ServerCertificates"]["ServerCertificate"]] == ["web"]
    finally:
        server.stop()


def refused(tmp_path, text, *extra):
    path = seed_file(tmp_path, text)
    data_dir = tmp_path / "data"
    return subprocess.run([BINARY, "serve", "--data-dir", str(data_dir), "--listen",
                           "127.0.0.1:0", "--data-plane", "off", "--seed", str(path), *extra],
                          capture_output=True, text=True, timeout=60, env=cli_env(data_dir))


def test_a_bad_seed_refuses_start_up_and_names_the_item(tmp_path):
    cases = [
        (SEED.replace("certificate: web\n            ca_certificate", "certificate: nope\n            ca_certificate"),
         'accounts[0].load_balancers[0].listeners[0]: no certificate named "nope" in cn-hangzhou'),
        (SEED.replace("backend_port: 80\n            certificate", "backend_port: 80\n            colour: red\n            certificate"),
         "unknown field `colour`"),
        (SEED.replace("certs/ca.pem", "certs/missing.pem"), "accounts[0].ca_certificates[0]: "),
        (SEED.replace("region: cn-beijing", "region: mars-1"),
         'accounts[1].certificates[0]: unknown region "mars-1"'),
        (SEED.replace(f"access_key_id: {SECOND['AccessKeyId']}", f"access_key_id: {FIRST['AccessKeyId']}"),
         "accounts[1]: access_key_id LTAIseedFirstKey0000001 is used twice"),
    ]
    for text, message in cases:
        result = refused(tmp_path, text)
        assert result.returncode != 0 and message in result.stderr, (message, result.stderr)
        assert FIRST["AccessKeySecret"] not in result.stderr
    # The flags and the file's first account must agree.
    result = refused(tmp_path, SEED, "--access-key-id", "LTAIsomeOtherKey0000001")
    assert result.returncode != 0
    assert "--access-key-id and the seed file's accounts[0] give different values" in result.stderr


def test_a_refusal_by_the_api_undoes_what_the_seed_made(tmp_path):
    # The second certificate's key is not its own: UploadServerCertificate refuses it, after
    # the first certificate was made.
    text = SEED.replace(
        "      - {name: web, certificate: certs/web.pem, private_key: certs/web.key}\n",
        "      - {name: web, certificate: certs/web.pem, private_key: certs/web.key}\n"
        "      - {name: bad, certificate: certs/web.pem, private_key: certs/stranger.key}\n", 1)
    result = refused(tmp_path, text)
    assert result.returncode != 0
    assert "accounts[0].certificates[1]: UploadServerCertificate: " in result.stderr, result.stderr
    # Started again without the seed: the first account is there, and nothing else.
    server = Server(tmp_path).start()
    try:
        api = Api("v3", server, FIRST)
        assert api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"] == []
    finally:
        server.stop()
