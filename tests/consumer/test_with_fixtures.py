"""What a team's own test suite looks like with the slbcert wheel installed: no glue, only the
plugin's fixtures and the official clients. Run by tests/integration/test_wheel.py in a fresh
venv that has the wheel and no Rust toolchain."""

import json

import pytest
from aliyunsdkslb.request.v20140515.DescribeServerCertificatesRequest import (
    DescribeServerCertificatesRequest)
from aliyunsdkslb.request.v20140515.UploadServerCertificateRequest import (
    UploadServerCertificateRequest)
from alibabacloud_slb20140515 import models

CERTIFICATE = open(__file__.replace("test_with_fixtures.py", "p256.crt")).read()
PRIVATE_KEY = open(__file__.replace("test_with_fixtures.py", "p256.key")).read()


def names(slbcert):
    answer = slbcert.slb_client_v3().describe_server_certificates(
        models.DescribeServerCertificatesRequest(region_id=slbcert.region))
    return sorted(c.server_certificate_name for c in answer.body.server_certificates.server_certificate)


def upload_v1(slbcert, name):
    request = UploadServerCertificateRequest()
    request.set_ServerCertificate(CERTIFICATE)
    request.set_PrivateKey(PRIVATE_KEY)
    request.set_ServerCertificateName(name)
    return json.loads(slbcert.slb_client().do_action_with_exception(request))


def test_uploads_with_both_official_clients(slbcert):
    assert names(slbcert) == []
    upload_v1(slbcert, "from-v1")
    slbcert.slb_client_v3().upload_server_certificate(models.UploadServerCertificateRequest(
        region_id=slbcert.region, server_certificate=CERTIFICATE, private_key=PRIVATE_KEY,
        server_certificate_name="from-v3"))
    assert names(slbcert) == ["from-v1", "from-v3"]
    listed = json.loads(slbcert.slb_client().do_action_with_exception(
        DescribeServerCertificatesRequest()))
    assert len(listed["ServerCertificates"]["ServerCertificate"]) == 2


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_starts_empty(slbcert, turn):
    assert names(slbcert) == []
    upload_v1(slbcert, turn)
    assert names(slbcert) == [turn]


def test_new_account_is_isolated(slbcert_server):
    assert slbcert_server.endpoint.startswith("127.0.0.1:")
    assert len(slbcert_server.account_id) == 16
    other = slbcert_server.new_account()
    assert other.account_id != slbcert_server.account_id
    assert other.endpoint == slbcert_server.endpoint
    upload_v1(other, "theirs")
    assert names(other) == ["theirs"]
    assert "theirs" not in names(slbcert_server)
    assert other.access_key_secret not in repr(other)
